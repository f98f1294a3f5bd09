"""The preset contract, walked over the registry: every preset answers every verdict.

For each preset and each row of the decision table, what arrived (metrics in the runtime's
own units, profiles with frames as the runtime writes them) goes through `assess()`: the
verdict and severity are the table's, the hotspot is the leaf with its application caller
as culprit, and the action is the preset's own, naming the culprit. A preset whose runtime
has no profile of a kind (Node has no mutex profile) still answers when one is configured
(`enrichment.profile_types`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from enrichers import profile_types as ids
from enrichers.assessment import Windows, assess
from enrichers.classifier import HOTSPOT_PROFILE
from enrichers.clients.pyroscope import ServiceProfiles
from enrichers.collection import Collection
from enrichers.detection import Detected
from enrichers.flamegraph import parse_connect
from enrichers.presets import PRESETS, Preset, render_action
from enrichers.result import PROFILE_KINDS, VERDICTS, ProfileKind, Verdict, Window
from enrichers.settings import EnrichmentSettings, GrafanaSettings, Thresholds
from enrichers.targets import service_target
from receiver.demo.folded import encode_flamegraph
from tests.support.runtimes import FRAMES

END = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
WINDOWS = Windows(
    Window(start=END - timedelta(minutes=15), end=END),
    Window(start=END - timedelta(minutes=75), end=END - timedelta(hours=1)),
)
# A profile type for a kind the runtime's agent does not write, as a config would add it.
CONFIGURED: dict[ProfileKind, str] = {
    "cpu": ids.PROCESS_CPU,
    "alloc": ids.GO_ALLOC_SPACE,
    "mutex": ids.GO_MUTEX_DELAY,
    "wall": ids.GO_BLOCK_DELAY,
}
SEVERITY = {"HEALTHY": "ok", "NO-PROFILE-DATA": "ok", "UNKNOWN": "unknown"}
WHERE = {
    "cpu": "time is in",
    "wall": "time is in",
    "alloc": "allocated in",
    "mutex": "contended in",
}


def metrics_for(verdict: Verdict, t: Thresholds) -> dict[str, float]:
    """Numbers, in the preset's units, that make exactly this row hold."""
    calm = {"cpu": t.cpu / 3, "gc": t.gc / 3, "heap_ratio": t.heap_ratio / 2, "latency_ms": 50.0}
    return {
        "CPU-BOUND": {**calm, "cpu": t.cpu * 1.5},
        "GC-BOUND": {**calm, "gc": t.gc * 1.5},
        "MEMORY-PRESSURE": {**calm, "heap_ratio": (t.heap_ratio + t.critical_heap_ratio) / 2},
        "NO-PROFILE-DATA": {**calm, "latency_ms": t.latency_ms * 2},
        "LOCK-BOUND": {**calm, "latency_ms": t.latency_ms * 2},
        "I/O-BOUND": {**calm, "latency_ms": t.latency_ms * 2},
        "HEALTHY": calm,
        "UNKNOWN": {},
    }[verdict]


def arrived(preset: Preset, verdict: Verdict) -> Collection:
    """Metrics for the row; every profile kind, the deciding one hot in a runtime leaf."""
    frames = FRAMES[preset.name]
    t = EnrichmentSettings().thresholds.laid_over(preset.thresholds)
    types: dict[ProfileKind, str] = {
        kind: (preset.profile_types.get(kind) or (CONFIGURED[kind],))[0] for kind in PROFILE_KINDS
    }
    hot = HOTSPOT_PROFILE.get(verdict)
    graphs = {}
    for kind in types:
        leaf = frames.stack(frames.leaf) if kind == hot else frames.stack(f"{frames.app}Calm")
        stacks = {} if verdict == "NO-PROFILE-DATA" else {leaf: 90, frames.stack(): 10}
        if kind == "mutex" and kind != hot and stacks:  # 25 locks, 4% each: below mutex_pct
            stacks = {frames.stack(f"{frames.app}Lock{i}"): 4 for i in range(25)}
        graphs[kind] = parse_connect({"flamegraph": encode_flamegraph(stacks)})
    got = Collection(
        runtime=Detected(preset.name, "test"),
        preset=preset,
        metrics=metrics_for(verdict, t),  # type: ignore[arg-type]
        available=ServiceProfiles(frozenset(types.values())),
        profile_types=types,
        incident=graphs,
        baseline=dict(graphs),
        asked_metrics=len(preset.queries),
        asked_profiles=2 * len(types),
    )
    if verdict == "UNKNOWN":
        got.errors["prometheus"] = ["connection refused"]
    return got


CASES = [(name, verdict) for name in PRESETS for verdict in VERDICTS]


@pytest.mark.parametrize(("name", "verdict"), CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_every_preset_answers_every_verdict(name: str, verdict: Verdict) -> None:
    """Each row holds per preset; the action is the preset's, naming culprit and runtime leaf."""
    preset = PRESETS[name]
    settings = EnrichmentSettings()
    target = service_target("cart", settings)
    analysis = assess(
        target,
        WINDOWS,
        arrived(preset, verdict),
        preset=preset,
        runtime_from="test",
        settings=settings,
        grafana=GrafanaSettings(),
        unanswered=set(),
    )
    assert (analysis.verdict, analysis.runtime) == (verdict, name)
    assert analysis.severity == SEVERITY.get(verdict, "warning")
    frames = FRAMES[name]
    kind = HOTSPOT_PROFILE.get(verdict)
    spot: Any = analysis.hotspot
    if kind is None:
        assert spot is None
        named = None
    else:
        assert (spot.function, spot.culprit, spot.profile) == (
            frames.shown_leaf,
            frames.shown_app,
            kind,
        )
        named = f"{frames.shown_app} ({WHERE[kind]} {frames.shown_leaf})"
    expected = render_action(
        preset.actions[verdict], hotspot=named, service="cart", pyroscope_service="cart"
    )
    assert analysis.action == expected
    assert "{" not in analysis.action
    if named is not None:
        assert named in analysis.action
