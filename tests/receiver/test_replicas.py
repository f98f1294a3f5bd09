"""Replicas on one PostgreSQL store: claims never overlap, a lost replica's work is taken
over once its lease ran out, one group's jobs stay in order across replicas, and work
stored by one replica wakes the others (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from receiver.models import WebhookPayload
from receiver.service import Service
from receiver.store import Incoming, Store
from tests.conftest import load_payload, make_config
from tests.fakes.notifiers import FixedEnricher, RecordingNotifier
from tests.support.waiting import SETTLE_SECONDS, wait_until_async


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def replicas(pg_url: str) -> AsyncIterator[tuple[Store, Store, Clock]]:
    clock = Clock()
    first = Store(url=pg_url, lease_seconds=30, clock=clock)
    second = Store(url=pg_url, lease_seconds=30, clock=clock)
    await first.open()
    await second.open()
    yield first, second, clock
    await first.close()
    await second.close()


async def test_replicas_claiming_together_split_the_work(
    replicas: tuple[Store, Store, Clock],
) -> None:
    """Claims from two replicas at once: every lane head to exactly one of them."""
    first, second, _ = replicas
    for i in range(30):
        await first.intake.accept(Incoming(f"id-{i}", "default", f"g{i}", "{}"), ["a"], 100)
    got = await asyncio.gather(*(store.deliveries.claim(4) for store in [first, second] * 5))
    ids = sorted(d.notification_id for claimed in got for d in claimed)
    assert ids == list(range(1, 31))


async def test_a_lost_replicas_work_is_taken_over_after_its_lease(
    replicas: tuple[Store, Store, Clock],
) -> None:
    """Held by a replica that stopped renewing: nobody else gets it until lease_seconds."""
    first, second, clock = replicas
    await first.intake.accept(Incoming("id-1", "default", "g", "{}"), ["a"], 100)
    assert [d.notification_id for d in await first.deliveries.claim(10)] == [1]
    await first.deliveries.mark_sending(1, "a")
    clock.now += 29.9
    assert await second.deliveries.claim(10) == []
    assert await second.deliveries.claim_one(1, "a") is None
    clock.now += 0.1
    taken = await second.deliveries.claim(10)
    assert [(d.notification_id, d.interrupted, d.sending_since) for d in taken] == [
        (1, True, 10_000.0)
    ]
    assert await first.deliveries.claim_one(1, "a") is None  # it is the other's now


async def test_renewed_leases_are_kept(replicas: tuple[Store, Store, Clock]) -> None:
    """A replica that renews keeps its work however long the delivery takes."""
    first, second, clock = replicas
    await first.intake.accept(Incoming("id-1", "default", "g", "{}"), ["a"], 100)
    await first.deliveries.claim(10)
    for _ in range(5):
        clock.now += 20
        assert await first.deliveries.renew() == 1
        assert await second.deliveries.claim(10) == []


async def test_only_the_head_of_a_lane_is_claimed(replicas: tuple[Store, Store, Clock]) -> None:
    """A group's second job is nobody's while its first is unfinished, whoever holds it."""
    first, second, _ = replicas
    for i in (1, 2):
        await first.intake.accept(Incoming(f"id-{i}", "default", "g", "{}"), ["a"], 100)
    assert [d.notification_id for d in await first.deliveries.claim(10)] == [1]
    assert await second.deliveries.claim(10) == []
    assert await second.deliveries.claim_one(2, "a") is None
    await first.deliveries.mark_done(1, "a")
    assert [d.notification_id for d in await second.deliveries.claim(10)] == [2]


async def started(config: Any, notifier: RecordingNotifier) -> Service:
    service = Service(config, enricher=FixedEnricher(), notifiers={"a": notifier})
    await service.start()
    return service


async def test_two_services_keep_a_groups_order_and_deliver_each_job_once(
    pg_url: str, tmp_path: Path
) -> None:
    """Firing held by one replica, resolve accepted by the other: firing first, each once."""
    config = make_config(tmp_path, store={"url": pg_url}, routes={"default": ["a"]})
    gate = asyncio.Event()
    notifiers = [RecordingNotifier("a"), RecordingNotifier("a")]
    for notifier in notifiers:
        notifier.gate = gate
    services = [await started(config, notifier) for notifier in notifiers]
    firing = WebhookPayload.model_validate(load_payload("reference-highcpuusage.json"))
    resolved = WebhookPayload.model_validate(load_payload("reference-highcpuusage-resolved.json"))
    await services[0].accept("default", firing)
    # Either replica may take the firing (its own lane, or a claim woken by NOTIFY).
    await wait_until_async(lambda: sum(len(n.attempts) for n in notifiers) == 1)
    holder = 0 if notifiers[0].attempts else 1
    other = services[1 - holder]
    await other.accept("default", resolved)
    assert await other.dispatcher.wait_idle(SETTLE_SECONDS)
    assert [len(n.attempts) for n in notifiers] == [1 - holder, holder]  # resolve waits
    gate.set()
    await wait_until_async(lambda: sum(len(n.delivered) for n in notifiers) == 2)
    everything = sorted(notifiers[0].delivered + notifiers[1].delivered, key=lambda n: n.id)
    assert [(n.id, n.payload.status) for n in everything] == [(1, "firing"), (2, "resolved")]
    for service in services:
        assert await service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert sum(len(n.attempts) for n in notifiers) == 2
    for service in services:
        await service.stop()


async def test_work_stored_by_one_replica_wakes_the_other(pg_url: str, tmp_path: Path) -> None:
    """LISTEN/NOTIFY: work the other replica stored (no lane here) is delivered at once."""
    config = make_config(
        tmp_path,
        store={"url": pg_url, "lease_seconds": 3600},  # no timer round could find it
        routes={"default": ["a"]},
    )
    listening = RecordingNotifier("a")
    service = await started(config, listening)
    try:
        assert service.store._listener is not None
        await asyncio.wait_for(service.store._listener.listening.wait(), SETTLE_SECONDS)
        rounds = service.feeder.rounds  # before the NOTIFY: its round may come at once
        other = Store(url=pg_url)
        await other.open()
        await other.intake.accept(
            Incoming("id-x", "default", "g", '{"x": 1}'), ["a"], 100
        )  # committed with NOTIFY
        await other.close()
        await wait_until_async(lambda: service.feeder.claimed == 1)
        assert service.feeder.rounds > rounds
    finally:
        await service.stop()
