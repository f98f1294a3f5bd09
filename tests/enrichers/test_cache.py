"""The single-flight cache behind every backend request."""

from __future__ import annotations

import asyncio

import pytest

from enrichers.clients.cache import SingleFlightCache
from tests.fakes.clock import ManualClock


class Backend:
    """Counts fetches; each answers the next number, after `gate` opens when one is set."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def fetch(self) -> int:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("backend down")
        return self.calls


async def test_concurrent_askers_share_one_request() -> None:
    """Fifty concurrent askers of one key cost one backend request and get one answer."""
    cache: SingleFlightCache[int] = SingleFlightCache(60, ManualClock())
    backend = Backend()
    backend.gate = asyncio.Event()
    askers = [asyncio.create_task(cache.get("k", backend.fetch)) for _ in range(50)]
    await asyncio.sleep(0)
    backend.gate.set()
    assert await asyncio.gather(*askers) == [1] * 50
    assert backend.calls == 1


async def test_values_live_for_the_ttl() -> None:
    """Within the TTL a hit calls on_hit and no backend; after it, the backend again."""
    clock = ManualClock()
    cache: SingleFlightCache[int] = SingleFlightCache(60, clock)
    backend, hits = Backend(), []
    assert await cache.get("k", backend.fetch, lambda: hits.append(1)) == 1
    clock.now += 59
    assert await cache.get("k", backend.fetch, lambda: hits.append(1)) == 1
    clock.now += 1
    assert await cache.get("k", backend.fetch, lambda: hits.append(1)) == 2
    assert (backend.calls, hits) == (2, [1])


async def test_failures_are_not_cached_unless_remembered() -> None:
    """Without `remember`, a failed request is raised and asked again next time."""
    cache: SingleFlightCache[int] = SingleFlightCache(60, ManualClock())
    backend = Backend()
    backend.fail = True
    with pytest.raises(RuntimeError, match="backend down"):
        await cache.get("k", backend.fetch)
    backend.fail = False
    assert await cache.get("k", backend.fetch) == 2


async def test_an_asker_giving_up_does_not_cancel_the_others() -> None:
    """One asker cancelled at its deadline leaves the shared request running for the rest."""
    cache: SingleFlightCache[int] = SingleFlightCache(60, ManualClock())
    backend = Backend()
    backend.gate = asyncio.Event()
    impatient = asyncio.create_task(cache.get("k", backend.fetch))
    patient = asyncio.create_task(cache.get("k", backend.fetch))
    await asyncio.sleep(0)
    impatient.cancel()
    backend.gate.set()
    assert await patient == 1
    assert impatient.cancelled()


async def test_stale_entries_are_served_and_refreshed_in_the_background() -> None:
    """Past refresh_after the old value is served at once and a refresh runs behind it."""
    clock = ManualClock()
    cache: SingleFlightCache[int] = SingleFlightCache(600, clock, refresh_after=120)
    backend = Backend()
    assert await cache.get("k", backend.fetch) == 1
    clock.now += 121
    backend.gate = asyncio.Event()
    assert await cache.get("k", backend.fetch) == 1  # served without waiting
    assert await cache.get("k", backend.fetch) == 1  # one refresh at a time
    await asyncio.sleep(0)
    assert backend.calls == 2
    backend.gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert await cache.get("k", backend.fetch) == 2
    assert backend.calls == 2


async def test_zero_ttl_caches_nothing() -> None:
    """cache_ttl_seconds: 0 turns caching off (single-flight still applies)."""
    cache: SingleFlightCache[int] = SingleFlightCache(0, ManualClock())
    backend = Backend()
    assert [await cache.get("k", backend.fetch) for _ in range(3)] == [1, 2, 3]


async def test_remembered_failures_spare_the_backend_for_a_while() -> None:
    """A remembered failure is raised again for failure_ttl without asking the backend."""
    clock = ManualClock()
    cache: SingleFlightCache[int] = SingleFlightCache(
        60, clock, remember=(RuntimeError,), failure_ttl=5
    )
    backend, hits = Backend(), []
    backend.fail = True
    for _ in range(3):
        with pytest.raises(RuntimeError, match="backend down"):
            await cache.get("k", backend.fetch, lambda: hits.append(1))
    assert (backend.calls, len(hits)) == (1, 2)
    clock.now += 5
    backend.fail = False
    assert await cache.get("k", backend.fetch) == 2
    assert await cache.get("k", backend.fetch) == 2


async def test_a_remembered_failure_holds_no_frames() -> None:
    """A remembered failure keeps no traceback or replaced exception (and so no frames)."""
    # Either would keep every frame of the failed request, and its locals, alive.

    async def fetch() -> int:
        try:
            raise OSError("connection refused")
        except OSError:
            raise RuntimeError("backend down") from None

    cache: SingleFlightCache[int] = SingleFlightCache(60, remember=(RuntimeError,))
    with pytest.raises(RuntimeError) as first:
        await cache.get("k", fetch)
    assert first.value.__context__ is not None  # the caller still sees the whole story
    with pytest.raises(RuntimeError) as again:
        await cache.get("k", fetch)
    remembered = again.value
    assert (str(remembered), remembered.__context__, remembered.__cause__) == (
        "backend down",
        None,
        None,
    )
    assert remembered is not first.value
    (_, kept) = cache._failures["k"]
    assert (kept.__traceback__, kept.__context__) == (None, None)
