"""Asking the backends for one service: its runtime, health metrics and profiles, cached.

Each query records its answer as soon as it arrives, so when the deadline cuts the
analysis short, everything that did arrive is still used. Every cache is single-flight.

The runtime (`enrichers.detection`) decides which queries and profile types to ask for. It
is known at once when the config pins it or the fleet listing (`ProfileTypeIndex`) has the
service, as on a warm receiver; otherwise the service's profile types (`Series`) and its
metric names (Prometheus) are asked for at the same time, both cached like the profile
types, and the first that tells decides (Pyroscope when both have answered).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from enrichers.clients.cache import SingleFlightCache
from enrichers.clients.discovery import (
    PROFILE_TYPES_REFRESH_SECONDS,
    PROFILE_TYPES_TTL_SECONDS,
    ProfileTypeIndex,
)
from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient, ServiceProfiles
from enrichers.collection import Collection
from enrichers.detection import (
    Detected,
    detect_from_metrics,
    detect_from_profiles,
    fallback,
    pinned,
)
from enrichers.errors import BackendError
from enrichers.flamegraph import FlameGraph
from enrichers.presets import PRESETS, Preset, build_preset
from enrichers.promql import label_selector, render_query
from enrichers.result import MetricName, ProfileKind, Window
from enrichers.settings import EnrichmentSettings
from enrichers.targets import WINDOW_RESOLUTION_SECONDS, Target
from enrichers.times import epoch_ms

__all__ = ["Collector"]


def _bucket(window: Window) -> int:
    return epoch_ms(window.end) // 1000 // WINDOW_RESOLUTION_SECONDS


def _settled(value: Detected) -> asyncio.Future[Detected]:
    future: asyncio.Future[Detected] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


class Collector:
    def __init__(
        self,
        prometheus: PrometheusClient,
        pyroscope: PyroscopeClient,
        settings: EnrichmentSettings,
        *,
        observe: Callable[[str, str], None],
    ) -> None:
        self._prometheus = prometheus
        self._pyroscope = pyroscope
        self._settings = settings
        self._observe = observe
        self.presets = {name: build_preset(settings, name) for name in PRESETS}
        self.index: ProfileTypeIndex | None = None  # the fleet listing, once started
        # A failed backend request is remembered for 5 s: in a storm, a backend that is down
        # costs one failed request per query, not one per alert.
        remember = (BackendError,)
        ttl = settings.cache_ttl_seconds
        self._values: SingleFlightCache[float | None] = SingleFlightCache(ttl, remember=remember)
        self._graphs: SingleFlightCache[FlameGraph] = SingleFlightCache(ttl, remember=remember)
        # What a service has (profile types, metric names) changes rarely: kept 10 minutes.
        self._types: SingleFlightCache[ServiceProfiles] = SingleFlightCache(
            PROFILE_TYPES_TTL_SECONDS,
            refresh_after=PROFILE_TYPES_REFRESH_SECONDS,
            remember=remember,
        )
        self._names: SingleFlightCache[set[str]] = SingleFlightCache(
            PROFILE_TYPES_TTL_SECONDS,
            refresh_after=PROFILE_TYPES_REFRESH_SECONDS,
            remember=remember,
        )

    async def collect(
        self, target: Target, incident: Window, baseline: Window, into: Collection
    ) -> None:
        """Ask for everything about `target`, recording into `into` as answers come."""
        service = target.pyroscope_service
        listed = self.index.lookup(service) if self.index is not None else None
        discovery = asyncio.ensure_future(self._discover(target, incident, baseline, into, listed))
        told = pinned(self._settings, target.service, service)
        if told is None and listed is not None:
            told = detect_from_profiles(self.presets, listed.spies, listed.types)
        runtime = (
            _settled(told)
            if told
            else asyncio.ensure_future(self._detect(target, incident, discovery, into))
        )
        try:
            await asyncio.gather(
                self._health(target, incident, runtime, into),
                self._profiles(target, incident, baseline, discovery, runtime, into),
            )
        finally:
            for task in (discovery, runtime):
                task.cancel()

    async def _chosen(self, runtime: asyncio.Future[Detected], into: Collection) -> Preset:
        into.runtime = await runtime
        into.preset = self.presets[into.runtime.preset]
        return into.preset

    async def _detect(
        self,
        target: Target,
        window: Window,
        discovery: asyncio.Future[ServiceProfiles | None],
        into: Collection,
    ) -> Detected:
        """The runtime from Pyroscope's answer, else the metric names, else the fallback."""
        probe = asyncio.ensure_future(self._metric_names(target, window, into))
        try:
            either: list[asyncio.Future[Any]] = [discovery, probe]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            told = self._from_profiles(discovery.result()) if discovery.done() else None
            if told is not None:
                return told
            by_metrics = detect_from_metrics(self.presets, await probe or ())
            if by_metrics is not None and not discovery.done():
                return by_metrics  # Pyroscope is slow: the metrics decide
            return self._from_profiles(await discovery) or by_metrics or fallback()
        finally:
            probe.cancel()

    def _from_profiles(self, found: ServiceProfiles | None) -> Detected | None:
        if found is None:
            return None
        return detect_from_profiles(self.presets, found.spies, found.types)

    async def _metric_names(self, target: Target, window: Window, into: Collection) -> set[str]:
        """The metric names of the selector; none when Prometheus cannot say (the queries
        that follow report a Prometheus that is down)."""
        try:
            with into.asking("prometheus"):
                return await self._names.get(
                    target.selector,
                    lambda: self._prometheus.metric_names(
                        target.selector, window.start, window.end
                    ),
                    lambda: self._observe("prometheus", "cached"),
                )
        except BackendError:
            return set()

    async def _health(
        self, target: Target, window: Window, runtime: asyncio.Future[Detected], into: Collection
    ) -> None:
        preset = await self._chosen(runtime, into)
        into.asked_metrics = len(preset.queries)
        await asyncio.gather(
            *(self._metric(n, q, target, window, into) for n, q in preset.queries.items())
        )

    async def _metric(
        self, name: MetricName, template: str, target: Target, window: Window, into: Collection
    ) -> None:
        query = render_query(template, target.selector)
        try:
            with into.asking("prometheus"):
                into.metrics[name] = await self._values.get(
                    (target.selector, query, _bucket(window)),
                    lambda: self._prometheus.query(query, window.end),
                    lambda: self._observe("prometheus", "cached"),
                )
        except BackendError as exc:
            into.fail("prometheus", exc)

    async def _discover(
        self,
        target: Target,
        incident: Window,
        baseline: Window,
        into: Collection,
        listed: ServiceProfiles | None,
    ) -> ServiceProfiles | None:
        """What Pyroscope has for the service: from the fleet listing, else asked."""
        service = target.pyroscope_service
        start, end = epoch_ms(baseline.start), epoch_ms(incident.end)
        if listed is None:
            try:
                with into.asking("pyroscope"):
                    listed = await self._types.get(
                        service,
                        lambda: self._pyroscope.profile_types(service, start, end),
                        lambda: self._observe("pyroscope", "cached"),
                    )
            except BackendError as exc:
                into.fail("pyroscope", exc)
                return None
        into.available = listed
        return listed

    async def _profiles(
        self,
        target: Target,
        incident: Window,
        baseline: Window,
        discovery: asyncio.Future[ServiceProfiles | None],
        runtime: asyncio.Future[Detected],
        into: Collection,
    ) -> None:
        with into.asking("pyroscope"):
            available = await discovery
        if available is None:
            return
        preset = await self._chosen(runtime, into)
        chosen: dict[ProfileKind, str] = {}
        for kind, preferred in preset.profile_types.items():
            found = next((p for p in preferred if p in available.types), None)
            if found is not None:
                chosen[kind] = found
        into.profile_types = chosen
        service = target.pyroscope_service
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
            with collection.asking("pyroscope"):
                into[kind] = await self._graphs.get(
                    (service, ptype, _bucket(window)),
                    lambda: self._pyroscope.flamegraph(ptype, selector, start, end),
                    lambda: self._observe("pyroscope", "cached"),
                )
        except BackendError as exc:
            collection.fail("pyroscope", exc)
