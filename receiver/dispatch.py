"""Lanes: in-order delivery per (notifier, group), parallel across lanes.

A lane is the queue of one group's deliveries to one notifier, keyed like the notifier's
conversation (whatever route a notification came by, it updates the same message); its
head must finish before the next starts (Slack must post before it can update). Each busy
lane is one asyncio task, fed by the intake in-process and by the store's claims
(`receiver.feeder`). Before a delivery runs, the lane takes its lease in the store
(`claim`): only the head of its lane in the store, held by no other replica, goes on, so
order holds across replicas too. While webhooks arrive, a lane waits its turn
(`receiver.priority`) before each delivery; a new lane waits for its first turn before its
task starts. How many deliveries do I/O at once is bounded by the
pipeline's slots, not by the number of lanes, so a lane waiting out a retry backoff holds
no slot and blocks no other group.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

from receiver.background import Background
from receiver.store import Delivery

__all__ = ["Dispatcher", "Turns"]

LaneKey = tuple[str, str]
log = structlog.get_logger("flamebot.dispatch")


class Turns(Protocol):
    """Where deliveries wait while webhooks come first (`receiver.priority.IntakeFirst`)."""

    async def turn(self) -> None: ...

    def on_turn(self, go: Callable[[], None]) -> None: ...


class Dispatcher:
    def __init__(
        self,
        deliver: Callable[[Delivery], Awaitable[None]],
        *,
        claim: Callable[[Delivery], Awaitable[Delivery | None]] | None = None,
        finished: Callable[[], None] = lambda: None,
        turns: Turns | None = None,
    ) -> None:
        self._deliver = deliver
        self._claim = claim
        self._turns = turns
        self._finished = finished
        self._lanes: dict[LaneKey, deque[Delivery]] = {}
        self._queued: set[tuple[int, str]] = set()  # (notification, notifier) in a lane
        self._tasks = Background()
        self._idle = asyncio.Event()
        self._idle.set()
        self.running = False
        self._stopped = False

    def start(self) -> None:
        self.running = True

    def submit(self, delivery: Delivery) -> None:
        """Queue a delivery behind the earlier ones of its lane (once, however often it is
        submitted while it waits or runs)."""
        ident = (delivery.notification_id, delivery.notifier)
        if ident in self._queued:
            return
        self._queued.add(ident)
        key = (delivery.notifier, delivery.group_key)
        lane = self._lanes.get(key)
        if lane is not None:
            lane.append(delivery)
            return
        self._lanes[key] = deque([delivery])
        self._idle.clear()
        if self._turns is None:
            self._start(key)
        else:
            self._turns.on_turn(lambda: self._start(key))

    def _start(self, key: LaneKey) -> None:
        """The lane's task, from its first turn on; a lane whose turn comes after `stop`
        is dropped (its deliveries are in the store for the next start)."""
        if not self._stopped:
            self._tasks.start(self._run(key), name=f"lane:{key[0]}")
        else:
            self._drop(key)

    def _drop(self, key: LaneKey) -> None:
        for left in self._lanes.pop(key, ()):
            self._queued.discard((left.notification_id, left.notifier))
        if not self._lanes:
            self._idle.set()

    async def _run(self, key: LaneKey) -> None:
        lane = self._lanes[key]
        first = True  # its first turn came before the task started
        try:
            while lane:
                try:
                    if self._turns is not None and not first:
                        await self._turns.turn()
                    first = False
                    current = lane[0] if self._claim is None else await self._claim(lane[0])
                    if current is not None:  # else: finished, or another replica's turn
                        await self._deliver(current)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The pipeline records its own failures; this is the last guard so one
                    # bug cannot wedge a lane. The delivery stays in the store for restart.
                    log.exception("lane_failed", notifier=key[0], group_key=key[1])
                done = lane.popleft()
                self._queued.discard((done.notification_id, done.notifier))
                self._finished()
        finally:
            self._drop(key)

    @property
    def busy_lanes(self) -> int:
        return len(self._lanes)

    @property
    def queued(self) -> int:
        """Deliveries waiting or running in the lanes."""
        return len(self._queued)

    async def wait_idle(self, seconds: float | None = None) -> bool:
        """Wait until every lane has drained; False when `seconds` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        """Cancel what is still running, drop the lanes not started; unfinished deliveries
        stay in the store."""
        self.running = False
        self._stopped = True
        await self._tasks.cancel()  # each cancelled lane dropped itself
        for key in list(self._lanes):  # those still waiting for their first turn
            self._drop(key)
