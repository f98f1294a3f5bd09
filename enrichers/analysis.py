"""From an alert group to an `EnrichmentResult`: the orchestration of PRODUCT.md §1-2.

For each service of the group, every backend query starts at once; after
`enrichment.deadline_seconds` whatever has not answered is abandoned and named in the
result, and the verdict is computed from what arrived. Services are analysed concurrently.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from enrichers.classifier import ProfileFindings, classify
from enrichers.clients.discovery import ProfileTypeIndex
from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient
from enrichers.collect import Collection, Collector
from enrichers.flamegraph import (
    FlameGraph,
    TopFunctions,
    biggest_riser,
    function_changes,
    profile_unit,
    self_percentages,
    top_functions,
)
from enrichers.linkset import group_links, service_links
from enrichers.pictures.capture import flamegraph_data
from enrichers.presets import Preset, build_preset, render_action
from enrichers.result import (
    EnrichmentResult,
    FunctionChange,
    Hotspot,
    ProfileKind,
    ServiceAnalysis,
    SourceError,
    Window,
)
from enrichers.settings import (
    EnrichmentSettings,
    GrafanaSettings,
    PrometheusSettings,
    PyroscopeSettings,
)
from enrichers.targets import AlertLike, StickyNow, Target, incident_windows, targets_of
from enrichers.times import epoch_ms

__all__ = ["GroupEnricher", "GroupLike", "build_enricher", "compare_with_baseline"]

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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.grafana = grafana
        self.preset: Preset = build_preset(settings)
        self.prometheus = prometheus
        self.pyroscope = pyroscope
        self._clock = clock
        self._sticky = StickyNow()
        self._collector = Collector(
            prometheus, pyroscope, self.preset, ttl=settings.cache_ttl_seconds, observe=observe
        )

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
        collection = Collection()
        tasks = self._collector.tasks(target, incident, baseline, collection)
        deadline = self.settings.deadline_seconds
        everything = [task for group in tasks.values() for task in group]
        _, pending = await asyncio.wait(everything, timeout=deadline)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        unanswered = {source for source, group in tasks.items() if any(t in pending for t in group)}
        return self._analysis(target, incident, baseline, collection, unanswered)

    def _tops(
        self, graphs: Mapping[ProfileKind, Any], types: Mapping[ProfileKind, str]
    ) -> dict[ProfileKind, TopFunctions]:
        tops = {}
        for kind, graph in graphs.items():
            unit, scale = profile_unit(types[kind])
            tops[kind] = top_functions(
                graph,
                n=self.settings.top_n,
                unit=unit,
                unit_scale=scale,
                runtime=self.preset.name,
                app_prefixes=self.settings.app_prefixes,
                normalize=self.preset.normalize_frames,
            )
        return tops

    def _analysis(
        self,
        target: Target,
        incident: Window,
        baseline: Window,
        got: Collection,
        unanswered: set[str],
    ) -> ServiceAnalysis:
        types = got.profile_types or {}
        tops = self._tops(got.incident, types)
        verdict = classify(got.health(), _findings(got, tops), self.settings.thresholds)
        errors = got.source_errors(unanswered, self.settings.deadline_seconds)
        kind = verdict.hotspot.profile if verdict.hotspot else "cpu"
        changes: list[FunctionChange] = []
        riser, hotspot = None, verdict.hotspot
        if kind in got.incident and kind in got.baseline:
            changes, riser, hotspot = compare_with_baseline(
                got.baseline[kind],
                got.incident[kind],
                tops[kind],
                hotspot,
                top_n=self.settings.top_n,
                normalize=self.preset.normalize_frames,
            )
        return ServiceAnalysis(
            service=target.service,
            pyroscope_service=target.pyroscope_service,
            runtime=self.preset.name,
            verdict=verdict.verdict,
            severity=verdict.severity,
            metrics=got.health(),
            hotspot=hotspot,
            action=render_action(
                self.preset.actions[verdict.verdict],
                hotspot=hotspot.function if hotspot else None,
                service=target.service,
                pyroscope_service=target.pyroscope_service,
            ),
            evidence=verdict.evidence,
            notes=_with_partial_note(verdict.notes, errors),
            top={k: t.functions for k, t in tops.items()},
            profile_types=dict(types),
            truncated_pct={k: t.other_pct for k, t in tops.items() if t.other_pct > 0},
            changes=changes,
            biggest_riser=riser,
            window=incident,
            baseline_window=baseline,
            links=service_links(
                self.grafana,
                target,
                profile_type=types.get(kind) or types.get("cpu") or self._default_type(kind),
                profile_types=types,
                incident=incident,
                baseline=baseline,
            ),
            errors=errors,
            alerts=[a.key for a in target.alerts],
            flamegraph=flamegraph_data(
                kind,
                types.get(kind),
                got.incident.get(kind),
                got.baseline.get(kind),
                runtime=self.preset.name,
                app_prefixes=self.settings.app_prefixes,
                normalize=self.preset.normalize_frames,
            ),
        )

    def _default_type(self, kind: ProfileKind) -> str:
        """The preset's first choice, for links when discovery said nothing."""
        return (self.preset.profile_types.get(kind) or self.preset.profile_types["cpu"])[0]

    async def aclose(self) -> None:
        if self._collector.index is not None:
            await self._collector.index.aclose()
        await self.prometheus.aclose()
        await self.pyroscope.aclose()


def _findings(got: Collection, tops: Mapping[ProfileKind, TopFunctions]) -> ProfileFindings:
    """What the classifier needs from the profiles: ranked tops, and whether all arrived."""
    answered = len(got.incident) + len(got.baseline)
    return ProfileFindings(
        top={kind: top.functions for kind, top in tops.items()},
        reachable=got.profile_types is not None,
        complete=got.profile_types is not None and answered == got.asked_profiles,
    )


def _with_partial_note(notes: Sequence[str], errors: Sequence[SourceError]) -> list[str]:
    if not errors:
        return list(notes)
    failed = " and ".join(e.source for e in errors)
    return [*notes, f"partial: {failed} failed; verdict from the data that arrived"]


def compare_with_baseline(
    before_graph: FlameGraph,
    after_graph: FlameGraph,
    top: TopFunctions,
    hotspot: Hotspot | None,
    *,
    top_n: int,
    normalize: bool,
) -> tuple[list[FunctionChange], FunctionChange | None, Hotspot | None]:
    """Self-% changes of the top functions of both windows, the biggest riser, and the
    hotspot with its baseline share (0.0 when it did not show in the baseline)."""
    before = self_percentages(before_graph, normalize=normalize)
    after = self_percentages(after_graph, normalize=normalize)
    names = [f.function for f in top.functions]
    leaders = sorted(before, key=lambda name: -before[name])[:top_n]
    names += [name for name in leaders if name not in names]
    changes = function_changes(before, after, names)
    if hotspot is not None:
        hotspot = hotspot.model_copy(update={"baseline_pct": before.get(hotspot.function, 0.0)})
    return changes, biggest_riser(changes), hotspot


def build_enricher(config: _Sections, observe: Observe = _ignore) -> GroupEnricher:
    """The enricher of a config: one client per backend, created once."""
    return GroupEnricher(
        config.enrichment,
        config.grafana,
        PrometheusClient(config.prometheus, observe=observe),
        PyroscopeClient(config.pyroscope, observe=observe),
        observe=observe,
    )
