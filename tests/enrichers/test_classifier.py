"""The decision table of PRODUCT.md §2: one case per verdict and per cross-reference row."""

from __future__ import annotations

from typing import Any

import pytest

from enrichers.classifier import ProfileFindings, classify
from enrichers.result import Evidence, FunctionStat, HealthMetrics, Hotspot
from enrichers.settings import Thresholds

T = Thresholds()


def fn(name: str, pct: float) -> FunctionStat:
    return FunctionStat(
        function=name, self_pct=pct, total_pct=pct, value=pct, unit="seconds", frame_class="app"
    )


CALM = HealthMetrics(
    cpu=0.1, heap_ratio=0.4, gc=0.005, threads=20, req_per_sec=10, error_ratio=0.0, latency_ms=50
)
PROFILES = ProfileFindings(
    top={
        "cpu": [fn("com.example.A.cpu", 30.0)],
        "alloc": [fn("com.example.A.alloc", 10.0)],
        "mutex": [fn("com.example.A.lock", 2.0)],
        "wall": [fn("java.net.SocketInputStream.read", 60.0)],
    }
)


def ev(metric: str, key: str, value: float, threshold: float, op: str, crossed: bool) -> Evidence:
    return Evidence(
        metric=metric, key=key, value=value, threshold=threshold, op=op, crossed=crossed
    )  # type: ignore[arg-type]


def calm_evidence(**changes: tuple[float, bool] | None) -> list[Evidence]:
    """The evidence of CALM with PROFILES; an entry named is there with another (value,
    crossed), or not at all for None."""
    base = {
        "cpu": ev("cpu", "cpu", 0.1, 0.3, ">=", False),
        "gc": ev("gc", "gc", 0.005, 0.03, ">=", False),
        "heap_ratio": ev("heap_ratio", "heap_ratio", 0.4, 0.75, ">=", False),
        "mutex_pct": ev("mutex_pct", "mutex_pct", 2.0, 5.0, ">", False),
        "latency_ms": ev("latency_ms", "latency_ms", 50, 500, ">", False),
        "threads": ev("threads", "threads", 20, 60, ">", False),
        "error_ratio": ev("error_ratio", "error_ratio", 0.0, 0.02, ">", False),
        "critical_cpu": ev("cpu", "critical_cpu", 0.1, 0.8, ">=", False),
        "critical_heap_ratio": ev("heap_ratio", "critical_heap_ratio", 0.4, 0.85, ">=", False),
        "critical_gc": ev("gc", "critical_gc", 0.005, 0.1, ">=", False),
    }
    found = []
    for key, entry in base.items():
        if key not in changes:
            found.append(entry)
        elif (change := changes[key]) is not None:
            value, crossed = change
            found.append(ev(entry.metric, key, value, entry.threshold, entry.op, crossed))
    return found


def with_top(**tops: list[FunctionStat]) -> ProfileFindings:
    return ProfileFindings(top={**PROFILES.top, **tops})


A_CPU = Hotspot(function="com.example.A.cpu", profile="cpu", self_pct=30.0)
A_ALLOC = Hotspot(function="com.example.A.alloc", profile="alloc", self_pct=10.0)
NO_PROFILES = ProfileFindings(top={"cpu": [], "alloc": [], "mutex": [], "wall": []})
ORDERS = "com.example.OrderVerticle.processOrders"
READ = "java.net.SocketInputStream.read"


def case(
    name: str,
    changes: dict[str, float],
    verdict: str,
    severity: str,
    hotspot: Hotspot | None,
    notes: list[str] | None = None,
    profiles: ProfileFindings = PROFILES,
    **evidence: tuple[float, bool] | None,
) -> Any:
    """A row: CALM with `changes`, the expected outcome, and the evidence entries that differ
    from calm_evidence()."""
    metrics = CALM.model_copy(update=changes)
    expected = calm_evidence(**evidence)
    return pytest.param(
        metrics, profiles, verdict, severity, hotspot, notes or [], expected, id=name
    )


CASES = [
    case("cpu-bound-critical", {"cpu": 0.82}, "CPU-BOUND", "critical", A_CPU,
         cpu=(0.82, True), critical_cpu=(0.82, True)),
    case("cpu-bound-at-threshold", {"cpu": 0.3}, "CPU-BOUND", "warning", A_CPU,
         cpu=(0.3, True), critical_cpu=(0.3, False)),
    case("gc-bound", {"gc": 0.05}, "GC-BOUND", "warning", A_ALLOC,
         gc=(0.05, True), critical_gc=(0.05, False)),
    case("memory-pressure", {"heap_ratio": 0.9}, "MEMORY-PRESSURE", "critical", A_ALLOC,
         heap_ratio=(0.9, True), critical_heap_ratio=(0.9, True)),
    case("no-profile-data-beats-latency", {"latency_ms": 900}, "NO-PROFILE-DATA", "ok", None,
         profiles=NO_PROFILES, mutex_pct=None, latency_ms=(900, True)),
    case("lock-bound", {"latency_ms": 800, "threads": 80}, "LOCK-BOUND", "warning",
         Hotspot(function=ORDERS, profile="mutex", self_pct=62.0),
         profiles=with_top(mutex=[fn(ORDERS, 62.0)]),
         mutex_pct=(62.0, True), latency_ms=(800, True), threads=(80, True)),
    case("io-bound", {"latency_ms": 1200, "error_ratio": 0.05}, "I/O-BOUND", "warning",
         Hotspot(function=READ, profile="wall", self_pct=60.0),
         notes=["off-CPU: see the wall-clock profile"],
         latency_ms=(1200, True), error_ratio=(0.05, True)),
    case("healthy-threads-and-errors-never-decide", {"threads": 200, "error_ratio": 0.5},
         "HEALTHY", "ok", None, threads=(200, True), error_ratio=(0.5, True)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("metrics", "profiles", "verdict", "severity", "hotspot", "notes", "evidence"), CASES
)
def test_decision_table(
    metrics: HealthMetrics,
    profiles: ProfileFindings,
    verdict: str,
    severity: str,
    hotspot: Hotspot | None,
    notes: list[str],
    evidence: list[Evidence],
) -> None:
    """Each row of the decision table gives its verdict, severity, hotspot and evidence."""
    result = classify(metrics, profiles, T)
    assert (result.verdict, result.severity, result.hotspot, result.notes) == (
        verdict,
        severity,
        hotspot,
        notes,
    )
    assert result.evidence == evidence


def test_cpu_with_a_hot_lock_notes_spinning_threads() -> None:
    """CPU verdict and mutex top > mutex_pct: "threads spinning on a lock"."""
    profiles = with_top(mutex=[fn("com.example.Cache.get", 40.0)])
    result = classify(CALM.model_copy(update={"cpu": 0.5}), profiles, T)
    assert (result.verdict, result.notes) == (
        "CPU-BOUND",
        ["threads spinning on a lock: com.example.Cache.get holds 40.0% of lock contention"],
    )


def test_cpu_with_a_hot_allocator_notes_temporary_objects() -> None:
    """CPU verdict and allocation top > 20 %: "computation creating temporary objects"."""
    profiles = with_top(alloc=[fn("java.math.BigDecimal.<init>", 25.0)])
    result = classify(CALM.model_copy(update={"cpu": 0.5}), profiles, T)
    assert (result.verdict, result.notes) == (
        "CPU-BOUND",
        [
            "computation creating temporary objects: java.math.BigDecimal.<init> makes 25.0%"
            " of allocations"
        ],
    )


def test_both_cross_reference_notes_together() -> None:
    """A hot lock and a hot allocator under a CPU verdict give both notes, lock first."""
    profiles = with_top(mutex=[fn("L.lock", 9.0)], alloc=[fn("A.alloc", 21.0)])
    result = classify(CALM.model_copy(update={"cpu": 0.5}), profiles, T)
    assert result.notes == [
        "threads spinning on a lock: L.lock holds 9.0% of lock contention",
        "computation creating temporary objects: A.alloc makes 21.0% of allocations",
    ]


def test_metric_rows_hold_without_profiles() -> None:
    """Rows 1-3 need only metrics: with Pyroscope down the verdict holds, hotspot unknown."""
    down = ProfileFindings(top={}, reachable=False, complete=False)
    result = classify(CALM.model_copy(update={"gc": 0.2}), down, T)
    assert (result.verdict, result.severity, result.hotspot, result.notes) == (
        "GC-BOUND",
        "critical",
        None,
        ["hotspot unknown: no profile data"],
    )


def test_pyroscope_down_is_not_no_profile_data() -> None:
    """A failed Pyroscope is not "no data": the verdict comes from what arrived."""
    down = ProfileFindings(top={}, reachable=False, complete=False)
    result = classify(CALM.model_copy(update={"latency_ms": 700}), down, T)
    assert (result.verdict, result.hotspot) == ("I/O-BOUND", None)


def test_partly_answered_profiles_are_not_no_profile_data() -> None:
    """When some profile queries failed, empty answers do not prove there is no data."""
    partial = ProfileFindings(top={"cpu": []}, reachable=True, complete=False)
    assert classify(CALM, partial, T).verdict == "HEALTHY"


def test_prometheus_down_leaves_profile_rows() -> None:
    """With no metrics at all, a hot lock still gives LOCK-BOUND; evidence has only the mutex."""
    profiles = with_top(mutex=[fn("com.example.Q.take", 12.0)])
    result = classify(HealthMetrics(), profiles, T)
    assert (result.verdict, result.evidence) == (
        "LOCK-BOUND",
        [ev("mutex_pct", "mutex_pct", 12.0, 5.0, ">", True)],
    )


def test_custom_thresholds_move_the_boundaries() -> None:
    """Thresholds come from config: cpu 0.5 is not CPU-BOUND when the threshold is 0.6."""
    result = classify(CALM.model_copy(update={"cpu": 0.5}), PROFILES, Thresholds(cpu=0.6))
    assert result.verdict == "HEALTHY"
