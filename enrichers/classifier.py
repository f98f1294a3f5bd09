"""The bottleneck classifier: PRODUCT.md §2's decision table, as a pure function.

Rows are evaluated in order and the first that holds is the verdict:

    1 CPU-BOUND        cpu >= thresholds.cpu               hotspot: top self of CPU
    2 GC-BOUND         gc >= thresholds.gc                 hotspot: top self of alloc
    3 MEMORY-PRESSURE  heap_ratio >= thresholds.heap_ratio hotspot: top self of alloc
    4 NO-PROFILE-DATA  Pyroscope answered: every profile type had zero samples, or the
                       service has no profiles
    5 LOCK-BOUND       top mutex self-% > thresholds.mutex_pct   hotspot: top self of mutex
    6 I/O-BOUND        latency_ms > thresholds.latency_ms  hotspot: top self of wall (of the
                       stacks with application code), if any
    7 HEALTHY          none of the above, and health metrics arrived
    8 UNKNOWN          none of the above, and no health metric arrived

Rows 1-3 need metrics only, row 5 the mutex profile only, row 6 the latency. HEALTHY is a
claim that needs evidence: blind (no health metric: a source failed or no series matched the
selector), the verdict is UNKNOWN. Threads and error ratio never decide; they show in the
evidence. Severity is `critical` past a critical threshold (cpu, heap ratio, gc), `ok` for
HEALTHY and NO-PROFILE-DATA, `unknown` for UNKNOWN, else `warning`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from enrichers.result import (
    Evidence,
    FunctionStat,
    HealthMetrics,
    Hotspot,
    ProfileKind,
    Severity,
    Verdict,
)
from enrichers.settings import Thresholds

__all__ = [
    "ALLOC_NOTE_PCT",
    "HOTSPOT_PROFILE",
    "Classification",
    "ProfileFindings",
    "classify",
    "sees_health",
]

# Cross-reference note "computation creating temporary objects" (PRODUCT.md §2).
ALLOC_NOTE_PCT = 20.0


@dataclass(frozen=True)
class ProfileFindings:
    """What Pyroscope said about one service in the incident window.

    `top` holds the ranked functions of each profile kind that was fetched (an empty list
    means zero samples); `leaders` the hotspot candidate of a kind where it is not the first
    of `top` (wall: idle stacks are never the hotspot; None: every stack was idle);
    `reachable` is False when Pyroscope could not be asked at all.
    """

    top: Mapping[ProfileKind, Sequence[FunctionStat]] = field(default_factory=dict)
    reachable: bool = True
    complete: bool = True  # every profile query answered
    leaders: Mapping[ProfileKind, FunctionStat | None] = field(default_factory=dict)

    def leader(self, kind: ProfileKind) -> FunctionStat | None:
        if kind in self.leaders:
            return self.leaders[kind]
        stats = self.top.get(kind)
        return stats[0] if stats else None

    @property
    def no_data(self) -> bool:
        """Row 4: Pyroscope answered every query and no profile type had any sample."""
        return self.reachable and self.complete and not any(self.top.values())


@dataclass(frozen=True)
class Classification:
    verdict: Verdict
    severity: Severity
    hotspot: Hotspot | None
    evidence: list[Evidence]
    notes: list[str]


def _check(
    metric: str, key: str, value: float | None, threshold: float, op: Literal[">=", ">"]
) -> Evidence | None:
    if value is None:
        return None
    crossed = value >= threshold if op == ">=" else value > threshold
    return Evidence(
        metric=metric, key=key, value=value, threshold=threshold, op=op, crossed=crossed
    )


def _evidence(m: HealthMetrics, mutex_pct: float | None, t: Thresholds) -> list[Evidence]:
    checks = [
        _check("cpu", "cpu", m.cpu, t.cpu, ">="),
        _check("gc", "gc", m.gc, t.gc, ">="),
        _check("heap_ratio", "heap_ratio", m.heap_ratio, t.heap_ratio, ">="),
        _check("mutex_pct", "mutex_pct", mutex_pct, t.mutex_pct, ">"),
        _check("latency_ms", "latency_ms", m.latency_ms, t.latency_ms, ">"),
        _check("threads", "threads", m.threads, t.threads, ">"),
        _check("error_ratio", "error_ratio", m.error_ratio, t.error_ratio, ">"),
        _check("cpu", "critical_cpu", m.cpu, t.critical_cpu, ">="),
        _check("heap_ratio", "critical_heap_ratio", m.heap_ratio, t.critical_heap_ratio, ">="),
        _check("gc", "critical_gc", m.gc, t.critical_gc, ">="),
    ]
    return [e for e in checks if e is not None]


def _crossed(evidence: list[Evidence], key: str) -> bool:
    return any(e.key == key and e.crossed for e in evidence)


# The numbers that can decide a verdict: with none of them, HEALTHY cannot be claimed.
_DECIDING = ("cpu", "gc", "heap_ratio", "latency_ms")


def sees_health(metrics: HealthMetrics) -> bool:
    """Whether any metric that decides a verdict arrived."""
    return any(getattr(metrics, name) is not None for name in _DECIDING)


def _decide(evidence: list[Evidence], profiles: ProfileFindings, seen: bool) -> Verdict:
    if _crossed(evidence, "cpu"):
        return "CPU-BOUND"
    if _crossed(evidence, "gc"):
        return "GC-BOUND"
    if _crossed(evidence, "heap_ratio"):
        return "MEMORY-PRESSURE"
    if profiles.no_data:
        return "NO-PROFILE-DATA"
    if _crossed(evidence, "mutex_pct"):
        return "LOCK-BOUND"
    if _crossed(evidence, "latency_ms"):
        return "I/O-BOUND"
    return "HEALTHY" if seen else "UNKNOWN"


HOTSPOT_PROFILE: dict[Verdict, ProfileKind] = {
    "CPU-BOUND": "cpu",
    "GC-BOUND": "alloc",
    "MEMORY-PRESSURE": "alloc",
    "LOCK-BOUND": "mutex",
    "I/O-BOUND": "wall",
}


def _severity(verdict: Verdict, evidence: list[Evidence]) -> Severity:
    if verdict in ("HEALTHY", "NO-PROFILE-DATA"):
        return "ok"
    if verdict == "UNKNOWN":
        return "unknown"
    critical = ("critical_cpu", "critical_heap_ratio", "critical_gc")
    return "critical" if any(_crossed(evidence, key) for key in critical) else "warning"


def _notes(verdict: Verdict, profiles: ProfileFindings, t: Thresholds) -> list[str]:
    notes = []
    mutex, alloc = profiles.leader("mutex"), profiles.leader("alloc")
    if verdict == "CPU-BOUND" and mutex is not None and mutex.self_pct > t.mutex_pct:
        notes.append(
            f"threads spinning on a lock: {mutex.function} holds {mutex.self_pct:.1f}%"
            " of lock contention"
        )
    if verdict == "CPU-BOUND" and alloc is not None and alloc.self_pct > ALLOC_NOTE_PCT:
        notes.append(
            f"computation creating temporary objects: {alloc.function} makes"
            f" {alloc.self_pct:.1f}% of allocations"
        )
    if verdict == "I/O-BOUND":
        notes.append("off-CPU: see the wall-clock profile")
    metrics_only = verdict in ("CPU-BOUND", "GC-BOUND", "MEMORY-PRESSURE")
    if metrics_only and profiles.leader(HOTSPOT_PROFILE[verdict]) is None:
        notes.append("hotspot unknown: no profile data")
    return notes


def classify(
    metrics: HealthMetrics, profiles: ProfileFindings, thresholds: Thresholds
) -> Classification:
    """Apply the decision table; evidence lists every threshold whose number is known."""
    mutex = profiles.leader("mutex")
    evidence = _evidence(metrics, None if mutex is None else mutex.self_pct, thresholds)
    verdict = _decide(evidence, profiles, sees_health(metrics))
    hotspot = None
    kind = HOTSPOT_PROFILE.get(verdict)
    leader = profiles.leader(kind) if kind is not None else None
    if kind is not None and leader is not None:
        hotspot = Hotspot(function=leader.function, profile=kind, self_pct=leader.self_pct)
    return Classification(
        verdict=verdict,
        severity=_severity(verdict, evidence),
        hotspot=hotspot,
        evidence=evidence,
        notes=_notes(verdict, profiles, thresholds),
    )
