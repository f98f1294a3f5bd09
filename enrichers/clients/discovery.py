"""Which profile types each service has, for the whole fleet, kept warm in the background.

A service's profile types change rarely, yet asking for them per alert puts a whole
backend round trip (`Series`, then the flame graphs) on the path of every first alert
about a service. A long-running enricher instead lists every service's profile types (and
the `pyroscope_spy` of its agents, which tells its runtime) in one `Series` call at start-up
and again every `refresh_seconds`; an alert then goes straight to its flame graphs. A
service missing from the listing (new since the last refresh), a listing older than
`max_age_seconds`, or a server that cannot list (the legacy API, an error) falls back to
asking for that one service, as one-shot commands always do.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import structlog

from enrichers.clients.pyroscope import PyroscopeClient, ServiceProfiles
from enrichers.errors import BackendError

__all__ = ["ProfileTypeIndex"]

log = structlog.get_logger("flamebot.discovery")

# Which profile types a service has changes rarely: a listing (or, in enrichers.collect, one
# service's answer) is used for 10 minutes and refreshed in the background every 2.
PROFILE_TYPES_REFRESH_SECONDS = 120.0
PROFILE_TYPES_TTL_SECONDS = 600.0


class ProfileTypeIndex:
    def __init__(
        self,
        pyroscope: PyroscopeClient,
        window: Callable[[], tuple[int, int]],
        *,
        refresh_seconds: float = PROFILE_TYPES_REFRESH_SECONDS,
        max_age_seconds: float = PROFILE_TYPES_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._pyroscope = pyroscope
        self._window = window  # (start ms, end ms) to list, computed at each refresh
        self._refresh_seconds = refresh_seconds
        self._max_age_seconds = max_age_seconds
        self._clock = clock
        self._sleep = sleep
        self._services: dict[str, ServiceProfiles] = {}
        self._listed_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self.loaded = asyncio.Event()  # set after the first listing, answered or failed

    def start(self) -> None:
        """List now and every `refresh_seconds` until `aclose()`."""
        if self._task is None:
            self._task = asyncio.create_task(self._keep_fresh(), name="profile-type-index")

    def lookup(self, service: str) -> ServiceProfiles | None:
        """The service's profile types and agents, or None when the listing cannot tell."""
        if self._listed_at is None or self._clock() - self._listed_at > self._max_age_seconds:
            return None
        return self._services.get(service)

    async def refresh(self) -> None:
        """One listing; a failure keeps the previous one until it grows too old."""
        start_ms, end_ms = self._window()
        try:
            services = await self._pyroscope.fleet_profile_types(start_ms, end_ms)
        except BackendError as exc:
            log.info("profile_types_not_listed", reason=exc.reason)
            return
        if self._listed_at is None or len(services) != len(self._services):
            log.info("profile_types_listed", services=len(services))
        self._services, self._listed_at = services, self._clock()

    async def _keep_fresh(self) -> None:
        while True:
            await self.refresh()
            self.loaded.set()
            await self._sleep(self._refresh_seconds)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
