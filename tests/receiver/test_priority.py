"""Webhooks first: while webhooks are in flight, deliveries start only at their share."""

from __future__ import annotations

import asyncio

import pytest

from receiver.dispatch import Dispatcher
from receiver.priority import IntakeFirst
from receiver.store import Delivery


async def settle() -> None:
    """Let every task that can run, run (no time passes on any clock)."""
    for _ in range(5):
        await asyncio.sleep(0)


def recording(gate: IntakeFirst) -> tuple[Dispatcher, list[int]]:
    """A dispatcher behind `gate` whose deliveries only note their notification ids."""
    delivered: list[int] = []

    async def deliver(delivery: Delivery) -> None:
        delivered.append(delivery.notification_id)

    return Dispatcher(deliver, turns=gate), delivered


async def test_no_burst_no_wait() -> None:
    """With no webhook in flight, or a lone one, a delivery goes on at once."""
    gate = IntakeFirst(share=3, quiet_seconds=3600)
    await asyncio.wait_for(gate.turn(), 5)
    gate.arrived()  # a lone webhook: its own delivery does not wait for its answer
    await asyncio.wait_for(gate.turn(), 5)
    gate.answered()
    await asyncio.wait_for(gate.turn(), 5)
    assert (gate.busy, gate.in_flight) == (False, 0)


async def test_during_a_burst_one_delivery_starts_per_share_of_answers() -> None:
    """share=3: the first waiting delivery goes on at the 3rd answer, the next at the 6th."""
    gate = IntakeFirst(share=3, quiet_seconds=3600)  # the burst never ends by itself here
    for _ in range(10):
        gate.arrived()
    first, second = asyncio.create_task(gate.turn()), asyncio.create_task(gate.turn())
    done = []
    for answer in range(1, 7):
        gate.answered()
        await settle()
        done.append((answer, first.done(), second.done()))
    assert done == [
        (1, False, False),
        (2, False, False),
        (3, True, False),
        (4, True, False),
        (5, True, False),
        (6, True, True),
    ]


async def test_the_end_of_the_burst_lets_every_waiting_delivery_go() -> None:
    """Once no webhook is in flight for quiet_seconds, all waiting deliveries go on."""
    gate = IntakeFirst(share=100, quiet_seconds=0)
    gate.arrived()
    gate.arrived()
    waiting = [asyncio.create_task(gate.turn()) for _ in range(5)]
    await settle()
    assert [task.done() for task in waiting] == [False] * 5
    gate.answered()
    await settle()
    assert [task.done() for task in waiting] == [False] * 5  # one still in flight
    gate.answered()
    await asyncio.wait_for(asyncio.gather(*waiting), 5)
    assert gate.busy is False
    await asyncio.wait_for(gate.turn(), 5)  # and later ones do not wait


async def test_a_new_webhook_before_the_quiet_time_keeps_the_burst_on() -> None:
    """A webhook arriving within quiet_seconds of the last answer: deliveries still wait."""
    gate = IntakeFirst(share=100, quiet_seconds=3600)
    gate.arrived()
    gate.arrived()
    waiting = asyncio.create_task(gate.turn())
    gate.answered()
    gate.answered()
    gate.arrived()
    await settle()
    assert (waiting.done(), gate.busy) == (False, True)
    waiting.cancel()


async def test_a_cancelled_delivery_gives_its_place_to_the_next() -> None:
    """A waiter that gave up is skipped: the share goes to the next one in line."""
    gate = IntakeFirst(share=1, quiet_seconds=3600)
    for _ in range(3):
        gate.arrived()
    gone, kept = asyncio.create_task(gate.turn()), asyncio.create_task(gate.turn())
    await settle()
    gone.cancel()
    await settle()
    gate.answered()
    await asyncio.wait_for(kept, 5)
    assert gone.cancelled()


def test_share_must_be_positive() -> None:
    """A share of 0 would stop the pipeline for as long as webhooks come: refused."""
    with pytest.raises(ValueError, match="share must be at least 1"):
        IntakeFirst(share=0)


async def test_dispatcher_lanes_wait_their_turn_while_webhooks_are_answered() -> None:
    """A lane delivers only once the gate lets it: deliveries queue while a burst is on."""
    gate = IntakeFirst(share=2, quiet_seconds=3600)
    dispatcher, delivered = recording(gate)
    for _ in range(4):
        gate.arrived()
    for nid in (1, 2):
        dispatcher.submit(Delivery(nid, "console", "default", f"g{nid}", 0, False, 0.0))
    await settle()
    assert delivered == []
    gate.answered()
    gate.answered()
    await settle()
    assert delivered == [1]
    gate.answered()
    gate.answered()
    assert await dispatcher.wait_idle(5) is True
    assert delivered == [1, 2]


async def test_a_burst_of_new_groups_starts_no_task_until_their_turn() -> None:
    """New lanes wait as callbacks: 50 groups in a burst add no task; each starts on its turn."""
    gate = IntakeFirst(share=1, quiet_seconds=3600)
    dispatcher, delivered = recording(gate)
    gate.arrived()
    gate.arrived()
    tasks = len(asyncio.all_tasks())
    for nid in range(1, 51):
        dispatcher.submit(Delivery(nid, "console", "default", f"g{nid}", 0, False, 0.0))
    assert (len(asyncio.all_tasks()), dispatcher.busy_lanes, dispatcher.queued) == (tasks, 50, 50)
    gate.answered()  # share 1: one lane's turn
    await settle()
    assert delivered == [1]
    gate.answered()
    await settle()
    assert delivered == [1, 2]


async def test_stop_drops_the_lanes_still_waiting_for_their_first_turn() -> None:
    """After stop, lanes that never started are gone, and their turn coming later runs nothing."""
    gate = IntakeFirst(share=1, quiet_seconds=3600)
    dispatcher, delivered = recording(gate)
    dispatcher.start()
    gate.arrived()
    gate.arrived()
    for nid in (1, 2):
        dispatcher.submit(Delivery(nid, "console", "default", f"g{nid}", 0, False, 0.0))
    await dispatcher.stop()
    assert (dispatcher.busy_lanes, dispatcher.queued, await dispatcher.wait_idle(5)) == (0, 0, True)
    gate.answered()
    gate.answered()
    await settle()
    assert (delivered, dispatcher.busy_lanes) == ([], 0)
