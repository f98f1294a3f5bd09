"""What could not be seen, and why: the sentences an UNKNOWN (or a partial) analysis gives. Pure.

    prometheus unreachable (connection refused)
    no Prometheus series matched instance=~"payment-service(:[0-9]+)?"
    Pyroscope has no profiles for service_name="bank-payment-service"

and, for a profile Pyroscope had to merge: "23% of CPU samples are in functions Pyroscope
merged; raise `pyroscope.max_nodes`" (the `other` node, pyroscope-api.md §1.6).
"""

from __future__ import annotations

from collections.abc import Mapping

from enrichers.collection import Collection
from enrichers.promql import quote
from enrichers.result import ProfileKind, SourceError
from enrichers.targets import Target

__all__ = [
    "TRUNCATION_NOTE_PCT",
    "failure_kind",
    "source_errors",
    "truncation_lines",
    "unseen",
]

TRUNCATION_NOTE_PCT = 5.0  # a merged `other` node this big is said in every output
_UNREACHABLE = (
    "connection ",
    "name not resolved",
    "TLS handshake failed",
    "timed out",
    "no answer",
)
_SAMPLES = {"cpu": "CPU", "alloc": "allocation", "mutex": "lock", "wall": "wall-clock"}


def failure_kind(reason: str) -> str:
    """`unreachable` when no answer came (refused, timed out, ...), else `failed`."""
    return "unreachable" if reason.startswith(_UNREACHABLE) or "timed out" in reason else "failed"


def source_errors(got: Collection, unanswered: set[str], deadline: float) -> list[SourceError]:
    """One error per failed source, its distinct reasons in order, the deadline last."""
    found = []
    for source in ("prometheus", "pyroscope"):
        reasons = list(dict.fromkeys(got.errors.get(source, [])))
        if source in unanswered:
            reasons.append(f"no answer within the {deadline:g} s deadline")
        if reasons:
            found.append(SourceError(source=source, reason="; ".join(reasons)))
    return found


def _prometheus_unseen(target: Target, got: Collection) -> str | None:
    if got.asked_metrics == 0:
        return (
            None if got.preset is not None else "prometheus not asked: no runtime by the deadline"
        )
    answered = len(got.metrics) == got.asked_metrics
    if answered and all(value is None for value in got.metrics.values()):
        return f"no Prometheus series matched {target.selector}"
    return None


def _pyroscope_unseen(target: Target, got: Collection) -> str | None:
    if got.available is None or got.profile_types is None:
        return None
    service = f"service_name={quote(target.pyroscope_service)}"
    if not got.available.types:
        return f"Pyroscope has no profiles for {service}"
    preset = got.preset.name if got.preset is not None else "chosen"
    if not got.profile_types:
        return f"Pyroscope has no profile type the {preset} preset reads for {service}"
    answered = len(got.incident) + len(got.baseline) == got.asked_profiles
    if answered and not any(graph.total for graph in got.incident.values()):
        return f"Pyroscope has no samples for {service} in the incident window"
    return None


def unseen(target: Target, got: Collection, errors: list[SourceError]) -> list[str]:
    """Every source that failed, and every source that answered with nothing for this service."""
    found = [f"{e.source} {failure_kind(e.reason)} ({e.reason})" for e in errors]
    failed = {e.source for e in errors}
    if "prometheus" not in failed:
        found.append(_prometheus_unseen(target, got) or "")
    if "pyroscope" not in failed:
        found.append(_pyroscope_unseen(target, got) or "")
    return [sentence for sentence in found if sentence]


def truncation_lines(truncated_pct: Mapping[ProfileKind, float]) -> list[str]:
    """One sentence per profile whose merged `other` node holds >= 5% of it."""
    return [
        f"{pct:.0f}% of {_SAMPLES[kind]} samples are in functions Pyroscope merged;"
        " raise `pyroscope.max_nodes`"
        for kind, pct in truncated_pct.items()
        if pct >= TRUNCATION_NOTE_PCT
    ]
