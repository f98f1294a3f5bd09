"""The feeder: hands the store's claimable work to the lanes, and keeps the leases alive.

It claims lane heads nobody holds (`DeliveryStore.claim`) when woken: at start (what the
last run left), when another replica stored work (PostgreSQL LISTEN/NOTIFY), when a lane
finished a delivery (the next one of the group may be another replica's webhook), and
every `lease_seconds / 2` to take over the work of a replica that died (its leases ran
out). Meanwhile it renews the leases this process holds every `lease_seconds / 3`. Work
accepted by this process reaches its lane directly (`Service.accept`), without a claim
round. With one process on a SQLite file, only the start-up round runs: every later
delivery reaches the lanes from this process's intake.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from receiver.dispatch import Dispatcher
from receiver.errors import StoreUnavailableError
from receiver.store import DeliveryStore

__all__ = ["Feeder"]

log = structlog.get_logger("flamebot.feeder")
STORE_RETRY_SECONDS = 1.0


class Feeder:
    def __init__(
        self,
        deliveries: DeliveryStore,
        dispatcher: Dispatcher,
        *,
        capacity: int,
        lease_seconds: float,
        refresh: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._deliveries = deliveries
        self._dispatcher = dispatcher
        self._capacity = capacity
        self._lease_seconds = lease_seconds
        self._refresh = refresh  # e.g. the pending count, when replicas share the store
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.claimed = 0  # deliveries handed to the lanes by claims (not by this intake)
        self.rounds = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._wake.set()
        self._tasks = [
            asyncio.create_task(self._feed(), name="flamebot-feeder"),
            asyncio.create_task(self._renew(), name="flamebot-lease-renewal"),
        ]

    async def feed_once(self) -> int:
        """One claim round; how many deliveries it handed to the lanes."""
        free = self._capacity - self._dispatcher.queued
        if free <= 0:
            return 0
        claimed = await self._deliveries.claim(free)
        for delivery in claimed:
            self._dispatcher.submit(delivery)
        self.claimed += len(claimed)
        self.rounds += 1
        if self._refresh is not None:
            await self._refresh()
        return len(claimed)

    async def _feed(self) -> None:
        while True:
            self._wake.clear()
            try:
                found = await self.feed_once()
            except StoreUnavailableError as exc:
                log.warning("claim_postponed", reason=str(exc))
                await asyncio.sleep(STORE_RETRY_SECONDS)
                self._wake.set()
                continue
            if found:
                log.debug("deliveries_claimed", count=found)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._lease_seconds / 2)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._lease_seconds / 3)
            try:
                await self._deliveries.renew()
            except StoreUnavailableError as exc:
                log.warning("lease_renewal_failed", reason=str(exc))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
