"""Asking the backends for one service: health metrics and profiles, cached, single-flight.

Each query is its own task and records its answer as soon as it arrives, so when the
deadline cuts the analysis short, everything that did arrive is still used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from enrichers.clients.cache import SingleFlightCache
from enrichers.clients.discovery import (
    PROFILE_TYPES_REFRESH_SECONDS,
    PROFILE_TYPES_TTL_SECONDS,
    ProfileTypeIndex,
)
from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient
from enrichers.errors import BackendError, BackendTimeoutError
from enrichers.flamegraph import FlameGraph
from enrichers.presets import Preset
from enrichers.promql import label_selector, render_query
from enrichers.result import HealthMetrics, ProfileKind, SourceError, Window
from enrichers.settings import MetricName
from enrichers.targets import WINDOW_RESOLUTION_SECONDS, Target
from enrichers.times import epoch_ms

__all__ = ["Collection", "Collector"]


def _bucket(window: Window) -> int:
    return epoch_ms(window.end) // 1000 // WINDOW_RESOLUTION_SECONDS


@dataclass
class Collection:
    """What arrived for one service, filled in as answers come."""

    metrics: dict[MetricName, float | None] = field(default_factory=dict)
    profile_types: dict[ProfileKind, str] | None = None
    incident: dict[ProfileKind, FlameGraph] = field(default_factory=dict)
    baseline: dict[ProfileKind, FlameGraph] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    asked_profiles: int = 0

    def fail(self, source: str, exc: BaseException) -> None:
        reason = exc.reason if isinstance(exc, BackendError) else f"{type(exc).__name__}"
        if isinstance(exc, BackendTimeoutError):
            reason = "timed out"
        self.errors.setdefault(source, []).append(reason)

    def health(self) -> HealthMetrics:
        return HealthMetrics(**self.metrics)

    def source_errors(self, unanswered: set[str], deadline: float) -> list[SourceError]:
        found = []
        for source in ("prometheus", "pyroscope"):
            reasons = list(dict.fromkeys(self.errors.get(source, [])))
            if source in unanswered:
                reasons.append(f"no answer within the {deadline:g} s deadline")
            if reasons:
                found.append(SourceError(source=source, reason="; ".join(reasons)))
        return found


class Collector:
    def __init__(
        self,
        prometheus: PrometheusClient,
        pyroscope: PyroscopeClient,
        preset: Preset,
        *,
        ttl: float,
        observe: Callable[[str, str], None],
    ) -> None:
        self._prometheus = prometheus
        self._pyroscope = pyroscope
        self._preset = preset
        self._observe = observe
        self.index: ProfileTypeIndex | None = None  # the fleet listing, once started
        # A failed backend request is remembered for 5 s: in a storm, a backend that is down
        # costs one failed request per query, not one per alert.
        remember = (BackendError,)
        self._values: SingleFlightCache[float | None] = SingleFlightCache(ttl, remember=remember)
        self._graphs: SingleFlightCache[FlameGraph] = SingleFlightCache(ttl, remember=remember)
        self._types: SingleFlightCache[set[str]] = SingleFlightCache(
            PROFILE_TYPES_TTL_SECONDS,
            refresh_after=PROFILE_TYPES_REFRESH_SECONDS,
            remember=remember,
        )

    def tasks(
        self, target: Target, incident: Window, baseline: Window, into: Collection
    ) -> dict[str, list[asyncio.Task[None]]]:
        """Start every query for `target`; tasks by source, each recording into `into`."""
        health = [
            asyncio.create_task(self._metric(name, query, target, incident, into))
            for name, query in self._preset.queries.items()
        ]
        profiles = [asyncio.create_task(self._profiles(target, incident, baseline, into))]
        return {"prometheus": health, "pyroscope": profiles}

    async def _metric(
        self, name: MetricName, template: str, target: Target, window: Window, into: Collection
    ) -> None:
        query = render_query(template, target.selector)
        try:
            into.metrics[name] = await self._values.get(
                (target.selector, query, _bucket(window)),
                lambda: self._prometheus.query(query, window.end),
                lambda: self._observe("prometheus", "cached"),
            )
        except BackendError as exc:
            into.fail("prometheus", exc)

    async def _profiles(
        self, target: Target, incident: Window, baseline: Window, into: Collection
    ) -> None:
        service = target.pyroscope_service
        start, end = epoch_ms(baseline.start), epoch_ms(incident.end)
        available = self.index.lookup(service) if self.index is not None else None
        try:
            if available is None:
                available = await self._types.get(
                    service,
                    lambda: self._pyroscope.profile_types(service, start, end),
                    lambda: self._observe("pyroscope", "cached"),
                )
        except BackendError as exc:
            into.fail("pyroscope", exc)
            return
        chosen: dict[ProfileKind, str] = {}
        for kind, preferred in self._preset.profile_types.items():
            found = next((p for p in preferred if p in available), None)
            if found is not None:
                chosen[kind] = found
        into.profile_types = chosen
        jobs: list[Coroutine[Any, Any, None]] = []
        for kind, ptype in chosen.items():
            jobs.append(self._graph(kind, ptype, service, incident, into.incident, into))
            jobs.append(self._graph(kind, ptype, service, baseline, into.baseline, into))
        into.asked_profiles = len(jobs)
        await asyncio.gather(*jobs)

    async def _graph(
        self,
        kind: ProfileKind,
        ptype: str,
        service: str,
        window: Window,
        into: dict[ProfileKind, FlameGraph],
        collection: Collection,
    ) -> None:
        selector = label_selector(service)
        start, end = epoch_ms(window.start), epoch_ms(window.end)
        try:
            into[kind] = await self._graphs.get(
                (service, ptype, _bucket(window)),
                lambda: self._pyroscope.flamegraph(ptype, selector, start, end),
                lambda: self._observe("pyroscope", "cached"),
            )
        except BackendError as exc:
            collection.fail("pyroscope", exc)
