"""From what arrived for one service to its `ServiceAnalysis`: rank, classify, compare. Pure.

The preset detected for the service shows and classifies its frames and sets the thresholds'
defaults (in its runtime's units; values set in config win). The hotspot comes with its
culprit (`enrichers.culprit`); on wall-clock profiles, idle stacks never make it. The action
names the culprit when the hot leaf is runtime or library code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from enrichers.classifier import ProfileFindings, classify
from enrichers.collection import Collection
from enrichers.culprit import busy_leader, culprit_of
from enrichers.flamegraph import (
    FlameGraph,
    TopFunctions,
    biggest_riser,
    function_changes,
    profile_unit,
    ranked_in_unit,
    self_percentages,
)
from enrichers.frames import FrameRules
from enrichers.linkset import service_links
from enrichers.pictures.capture import flamegraph_data
from enrichers.presets import Preset, render_action
from enrichers.result import (
    FunctionChange,
    FunctionStat,
    Hotspot,
    ProfileKind,
    ServiceAnalysis,
    SourceError,
    Window,
)
from enrichers.settings import EnrichmentSettings, GrafanaSettings
from enrichers.targets import Target
from enrichers.visibility import source_errors, unseen

__all__ = ["Windows", "assess", "compare_with_baseline", "hotspot_text"]

# How the action points from the culprit to the runtime or library leaf that holds the time.
_WHERE: Mapping[ProfileKind, str] = {
    "cpu": "time is in",
    "wall": "time is in",
    "alloc": "allocated in",
    "mutex": "contended in",
}


@dataclass(frozen=True)
class Windows:
    incident: Window
    baseline: Window


def _idle_blind(kind: ProfileKind, profile_type: str) -> bool:
    """Wall-clock profiles (and Node's CPU profile, which is one) hold idle stacks."""
    return kind == "wall" or profile_type.startswith("wall:")


def _rank(
    got: Collection, preset: Preset, settings: EnrichmentSettings
) -> tuple[dict[ProfileKind, TopFunctions], dict[ProfileKind, FunctionStat | None]]:
    """Top functions per profile kind, and the hotspot candidates where idle time is left out."""
    types = got.profile_types or {}
    tops, leaders = {}, {}
    for kind in (k for k in types if k in got.incident):  # the preset's order, not arrival's
        graph = got.incident[kind]
        unit, scale = profile_unit(types[kind])
        frames, prefixes = preset.frames, settings.app_prefixes
        tops[kind] = ranked_in_unit(
            graph, types[kind], n=settings.top_n, frames=frames, app_prefixes=prefixes
        )
        if _idle_blind(kind, types[kind]):
            leaders[kind] = busy_leader(
                graph, unit=unit, unit_scale=scale, frames=frames, app_prefixes=prefixes
            )
    return tops, leaders


def _first_type(preset: Preset) -> str:
    """The preset's first CPU choice, for links when discovery said nothing."""
    return (preset.profile_types.get("cpu") or next(iter(preset.profile_types.values())))[0]


def hotspot_text(spot: Hotspot | None) -> str | None:
    """The hotspot as an action names it: the culprit, and where the time is when that is
    a runtime or library leaf below it."""
    if spot is None:
        return None
    if spot.culprit is None or spot.culprit == spot.function:
        return spot.function
    return f"{spot.culprit} ({_WHERE[spot.profile]} {spot.function})"


def _partial_note(errors: Sequence[SourceError]) -> list[str]:
    if not errors:
        return []
    failed = " and ".join(e.source for e in errors)
    return [f"partial: {failed} failed; verdict from the data that arrived"]


def _findings(
    got: Collection,
    tops: Mapping[ProfileKind, TopFunctions],
    leaders: Mapping[ProfileKind, FunctionStat | None],
) -> ProfileFindings:
    """What the classifier needs from the profiles: ranked tops, and whether all arrived."""
    answered = len(got.incident) + len(got.baseline)
    return ProfileFindings(
        top={kind: top.functions for kind, top in tops.items()},
        reachable=got.profile_types is not None,
        complete=got.profile_types is not None and answered == got.asked_profiles,
        leaders=leaders,
    )


@dataclass(frozen=True)
class _Hot:
    hotspot: Hotspot | None
    kind: ProfileKind  # the hotspot's profile, else CPU (for the links)
    changes: list[FunctionChange]
    riser: FunctionChange | None


def _hot(
    got: Collection,
    spot: Hotspot | None,
    tops: Mapping[ProfileKind, TopFunctions],
    preset: Preset,
    settings: EnrichmentSettings,
) -> _Hot:
    """The hotspot with its culprit and baseline share, and the baseline changes."""
    kind: ProfileKind = spot.profile if spot is not None else "cpu"
    if spot is not None:
        culprit = culprit_of(
            got.incident[kind], spot.function, preset.frames, settings.app_prefixes
        )
        spot = spot.model_copy(update={"culprit": culprit})
    if kind not in got.incident or kind not in got.baseline:
        return _Hot(spot, kind, [], None)
    changes, riser, spot = compare_with_baseline(
        got.baseline[kind],
        got.incident[kind],
        tops[kind],
        spot,
        top_n=settings.top_n,
        frames=preset.frames,
    )
    return _Hot(spot, kind, changes, riser)


def assess(
    target: Target,
    windows: Windows,
    got: Collection,
    *,
    preset: Preset,
    runtime_from: str,
    settings: EnrichmentSettings,
    grafana: GrafanaSettings,
    unanswered: set[str],
) -> ServiceAnalysis:
    """Classify what arrived, with the service's preset (and what named it)."""
    types = got.profile_types or {}
    tops, leaders = _rank(got, preset, settings)
    thresholds = settings.thresholds.laid_over(preset.thresholds)
    verdict = classify(got.health(), _findings(got, tops, leaders), thresholds)
    errors = source_errors(got, unanswered, settings.deadline_seconds)
    hot = _hot(got, verdict.hotspot, tops, preset, settings)
    partial = _partial_note(errors) if verdict.verdict != "UNKNOWN" else []
    return ServiceAnalysis(
        service=target.service,
        pyroscope_service=target.pyroscope_service,
        runtime=preset.name,
        runtime_from=runtime_from,
        verdict=verdict.verdict,
        severity=verdict.severity,
        metrics=got.health(),
        hotspot=hot.hotspot,
        action=render_action(
            preset.actions[verdict.verdict],
            hotspot=hotspot_text(hot.hotspot),
            service=target.service,
            pyroscope_service=target.pyroscope_service,
        ),
        evidence=verdict.evidence,
        notes=[*verdict.notes, *partial],
        top={k: t.functions for k, t in tops.items()},
        profile_types=dict(types),
        truncated_pct={k: t.other_pct for k, t in tops.items() if t.other_pct > 0},
        changes=hot.changes,
        biggest_riser=hot.riser,
        window=windows.incident,
        baseline_window=windows.baseline,
        links=service_links(
            grafana,
            target,
            profile_type=types.get(hot.kind) or types.get("cpu") or _first_type(preset),
            profile_types=types,
            incident=windows.incident,
            baseline=windows.baseline,
        ),
        errors=errors,
        unseen=unseen(target, got, errors),
        units=dict(preset.units),
        alerts=[a.key for a in target.alerts],
        flamegraph=flamegraph_data(
            hot.kind,
            types.get(hot.kind),
            got.incident.get(hot.kind),
            got.baseline.get(hot.kind),
            frames=preset.frames,
            app_prefixes=settings.app_prefixes,
        ),
    )


def compare_with_baseline(
    before_graph: FlameGraph,
    after_graph: FlameGraph,
    top: TopFunctions,
    hotspot: Hotspot | None,
    *,
    top_n: int,
    frames: FrameRules,
) -> tuple[list[FunctionChange], FunctionChange | None, Hotspot | None]:
    """Self-% changes of the top functions of both windows, the biggest riser, and the
    hotspot with its baseline share (0.0 when it did not show in the baseline)."""
    before = self_percentages(before_graph, frames=frames)
    after = self_percentages(after_graph, frames=frames)
    names = [f.function for f in top.functions]
    leaders = sorted(before, key=lambda name: -before[name])[:top_n]
    names += [name for name in leaders if name not in names]
    changes = function_changes(before, after, names)
    if hotspot is not None:
        hotspot = hotspot.model_copy(update={"baseline_pct": before.get(hotspot.function, 0.0)})
    return changes, biggest_riser(changes), hotspot
