"""From an alert group to an `EnrichmentResult`: the orchestration of PRODUCT.md §1-2.

For each service of the group, every backend query starts at once; after
`enrichment.deadline_seconds` whatever has not answered is abandoned and named in the
result, and the verdict is computed from what arrived. Services are analysed concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from enrichers.assessment import Windows, assess
from enrichers.clients.discovery import ProfileTypeIndex
from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient
from enrichers.collect import Collector
from enrichers.collection import Collection
from enrichers.detection import Detected
from enrichers.linkset import group_links
from enrichers.presets import FALLBACK, Preset
from enrichers.result import EnrichmentResult, ServiceAnalysis, Window
from enrichers.settings import (
    EnrichmentSettings,
    GrafanaSettings,
    PrometheusSettings,
    PyroscopeSettings,
)
from enrichers.targets import AlertLike, StickyNow, Target, incident_windows, targets_of
from enrichers.times import Clock, epoch_ms, utc_now

__all__ = ["GroupEnricher", "GroupLike", "build_enricher"]

Observe = Callable[[str, str], None]


class GroupLike(Protocol):
    """What enrichment reads from a webhook (receiver.models.WebhookPayload has it)."""

    @property
    def alerts(self) -> Sequence[AlertLike]: ...
    @property
    def common_labels(self) -> Mapping[str, str]: ...
    @property
    def common_annotations(self) -> Mapping[str, str]: ...
    @property
    def external_url(self) -> str: ...


class _Sections(Protocol):
    @property
    def enrichment(self) -> EnrichmentSettings: ...
    @property
    def grafana(self) -> GrafanaSettings: ...
    @property
    def prometheus(self) -> PrometheusSettings: ...
    @property
    def pyroscope(self) -> PyroscopeSettings: ...


def _ignore(backend: str, outcome: str) -> None:
    return None


class GroupEnricher:
    def __init__(
        self,
        settings: EnrichmentSettings,
        grafana: GrafanaSettings,
        prometheus: PrometheusClient,
        pyroscope: PyroscopeClient,
        *,
        observe: Observe = _ignore,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.grafana = grafana
        self.prometheus = prometheus
        self.pyroscope = pyroscope
        self._clock = clock
        self._sticky = StickyNow()
        self._collector = Collector(prometheus, pyroscope, settings, observe=observe)

    @property
    def presets(self) -> Mapping[str, Preset]:
        """Every preset, with the config's overrides laid over it."""
        return self._collector.presets

    def _now(self, target: Target, now: datetime) -> datetime:
        """The `now` a firing target's window ends at (`StickyNow`); a resolved target's
        window ends at its alerts' `endsAt`, whatever was analysed before."""
        if not any(alert.status == "firing" for alert in target.alerts):
            return now
        return self._sticky.now_for((target.selector, target.pyroscope_service), now)

    def start(self) -> None:
        """Keep the fleet's profile types listed in the background (`enrichers.clients.discovery`),
        so a first alert about a service waits for its flame graphs only. For a service
        that runs for long; one-shot commands ask per service instead."""
        if self._collector.index is None:
            self._collector.index = ProfileTypeIndex(self.pyroscope, self._listing_window)
        self._collector.index.start()

    async def listed(self) -> None:
        """Wait for the first fleet listing after `start()` (answered or failed)."""
        if self._collector.index is not None:
            await self._collector.index.loaded.wait()

    def _listing_window(self) -> tuple[int, int]:
        """From the start of a baseline window of an alert starting now, to now."""
        now = self._clock()
        lookback = self.settings.baseline_offset + self.settings.window
        return epoch_ms(now - lookback), epoch_ms(now)

    async def enrich(self, group: GroupLike) -> EnrichmentResult:
        """Analyse every service of the group within the deadline."""
        started = time.monotonic()
        now = self._clock()
        targets = targets_of(group.alerts, self.settings)
        analyses = await asyncio.gather(
            *(
                self.analyze(t, *incident_windows(t.alerts, self.settings, self._now(t, now)))
                for t in targets
            )
        )
        return EnrichmentResult(
            services=list(analyses),
            links=group_links(
                group.alerts, group.common_annotations, group.common_labels, group.external_url
            ),
            enriched_at=now,
            duration_seconds=round(time.monotonic() - started, 3),
        )

    async def analyze(self, target: Target, incident: Window, baseline: Window) -> ServiceAnalysis:
        """One service: query everything at once, stop at the deadline, classify."""
        got = Collection()
        collecting = asyncio.ensure_future(self._collector.collect(target, incident, baseline, got))
        try:
            done, _ = await asyncio.wait({collecting}, timeout=self.settings.deadline_seconds)
        except asyncio.CancelledError:  # shutdown: nothing of this analysis may outlive it
            collecting.cancel()
            raise
        unanswered = got.unanswered()
        if not done:
            collecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collecting  # a bug in collecting raises here; a failed backend never does
        runtime = got.runtime or Detected(FALLBACK, "no runtime told by the deadline")
        return assess(
            target,
            Windows(incident, baseline),
            got,
            preset=self.presets[runtime.preset],
            runtime_from=runtime.reason,
            settings=self.settings,
            grafana=self.grafana,
            unanswered=unanswered,
        )

    async def aclose(self) -> None:
        if self._collector.index is not None:
            await self._collector.index.aclose()
        await self.prometheus.aclose()
        await self.pyroscope.aclose()


def build_enricher(config: _Sections, observe: Observe = _ignore) -> GroupEnricher:
    """The enricher of a config: one client per backend, created once."""
    return GroupEnricher(
        config.enrichment,
        config.grafana,
        PrometheusClient(config.prometheus, observe=observe),
        PyroscopeClient(config.pyroscope, observe=observe),
        observe=observe,
    )
