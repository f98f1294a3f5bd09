"""A small async cache with single-flight: one backend request per key, shared by all askers.

Keys are (service, query or profile type, window end rounded to 30 s) per PRODUCT.md §2;
values live `ttl` seconds. Concurrent askers of a missing key await the same future, so an
alert storm about one service costs one request per query, not one per alert. A failure of
one of the `remember` exception types is remembered for `failure_ttl` seconds (5 s by
default): a backend that is down is not asked again by every alert of a storm, and comes
back into use within seconds of recovering.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import KW_ONLY, dataclass, field
from typing import Generic, TypeVar

__all__ = ["SingleFlightCache"]

V = TypeVar("V")

MAX_ENTRIES = 10_000


def _bare(exc: Exception) -> Exception:
    """A copy of `exc` to remember: without its traceback and the exception it replaced,
    which hold every frame of the failed request (and all their locals) alive."""
    remembered = copy.copy(exc)
    remembered.__traceback__ = None
    remembered.__context__ = remembered.__cause__ = None
    return remembered


@dataclass(eq=False)
class SingleFlightCache(Generic[V]):
    """`refresh_after`: an entry older than this is still served, and refreshed in the
    background, so a key in steady use never waits for its backend again."""

    ttl: float
    clock: Callable[[], float] = time.monotonic
    _: KW_ONLY
    refresh_after: float | None = None
    remember: tuple[type[Exception], ...] = ()
    failure_ttl: float = 5.0
    _failures: dict[Hashable, tuple[float, Exception]] = field(default_factory=dict, init=False)
    _values: dict[Hashable, tuple[float, V]] = field(default_factory=dict, init=False)
    _flights: dict[Hashable, asyncio.Task[V]] = field(default_factory=dict, init=False)

    def _fresh(self, key: Hashable) -> tuple[float, V] | None:
        entry = self._values.get(key)
        if entry is not None and self.clock() - entry[0] < self.ttl:
            return entry
        return None

    async def get(
        self,
        key: Hashable,
        fetch: Callable[[], Awaitable[V]],
        on_hit: Callable[[], None] | None = None,
    ) -> V:
        cached = self._fresh(key)
        if cached is not None:
            stale = self.refresh_after is not None and (
                self.clock() - cached[0] >= self.refresh_after
            )
            if stale and key not in self._flights:
                self._start(key, fetch)
            if on_hit is not None:
                on_hit()
            return cached[1]
        failed = self._failures.get(key)
        if failed is not None and self.clock() - failed[0] < self.failure_ttl:
            if on_hit is not None:
                on_hit()
            raise copy.copy(failed[1])
        flight = self._flights.get(key) or self._start(key, fetch)
        # shield: one asker giving up (its deadline) must not cancel the others' request.
        return await asyncio.shield(flight)

    def _start(self, key: Hashable, fetch: Callable[[], Awaitable[V]]) -> asyncio.Task[V]:
        flight = asyncio.create_task(self._fetch(key, fetch))
        # Retrieve a late failure nobody waits for any more (all askers hit a deadline).
        flight.add_done_callback(lambda t: t.cancelled() or t.exception())
        self._flights[key] = flight
        return flight

    async def _fetch(self, key: Hashable, fetch: Callable[[], Awaitable[V]]) -> V:
        try:
            value = await fetch()
        except self.remember as exc:
            if len(self._failures) >= MAX_ENTRIES:
                self._failures.clear()
            self._failures[key] = (self.clock(), _bare(exc))
            raise
        finally:
            self._flights.pop(key, None)
        self._failures.pop(key, None)
        if self.ttl > 0:
            if len(self._values) >= MAX_ENTRIES:
                self._evict()
            self._values[key] = (self.clock(), value)
        return value

    def _evict(self) -> None:
        now = self.clock()
        for key in [k for k, (at, _) in self._values.items() if now - at >= self.ttl]:
            del self._values[key]
        while len(self._values) >= MAX_ENTRIES:
            del self._values[next(iter(self._values))]
