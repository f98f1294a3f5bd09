"""Pure wording shared by every renderer: the one-line headline, numbers, hotspot lines.

Slack, PagerDuty and the console say the same things in different markup; the sentences
and number formats live here once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from enrichers.result import (
    VERDICTS,
    EnrichmentResult,
    Evidence,
    FunctionChange,
    FunctionStat,
    HealthMetrics,
    Hotspot,
    ServiceAnalysis,
    SourceError,
)
from enrichers.times import window_line
from receiver.models import Alert, WebhookPayload

__all__ = [
    "PARTIAL_DATA",
    "alert_name",
    "alert_service",
    "culprit_detail",
    "errors_line",
    "evidence_line",
    "format_metric",
    "headline",
    "hotspot_detail",
    "hotspot_line",
    "metric_line",
    "primary_analysis",
    "ranked",
    "riser_detail",
    "share",
    "source_error_line",
    "status_tag",
    "top_line",
    "truncate",
    "unseen_line",
    "verdict_text",
    "window_line",
]

# A service flamebot could not see ranks above the ones it saw were fine.
_SEVERITY_RANK = {"critical": 0, "warning": 1, "unknown": 2, "ok": 3}
PROFILE_TITLES = {"cpu": "CPU", "alloc": "Alloc", "mutex": "Mutex", "wall": "Wall"}
METRIC_ORDER = ("cpu", "heap_ratio", "gc", "threads", "latency_ms", "error_ratio", "req_per_sec")
PARTIAL_DATA = "verdict from partial data"
METRIC_TITLES = {
    "cpu": "CPU",
    "heap_ratio": "Heap",
    "gc": "GC",
    "threads": "Threads",
    "latency_ms": "Latency",
    "error_ratio": "Errors",
    "req_per_sec": "Requests",
}


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """Cut at a word boundary when there is one near the limit; never exceed `limit`."""
    if len(text) <= limit:
        return text
    room = limit - len(marker)
    cut = text[:room]
    space = cut.rfind(" ")
    if space >= room * 0.6:
        cut = cut[:space]
    return cut.rstrip() + marker


def format_metric(name: str, value: float, unit: str | None = None) -> str:
    """A metric in its unit; `unit` names the runtime's own where it differs (`gc` in
    collections/s, `threads` in goroutines)."""
    if unit is not None:
        return f"{value:.2f} {unit}" if unit.endswith("/s") else f"{value:.0f} {unit}"
    if name == "cpu":
        return f"{value:.2f} cores"
    if name in ("heap_ratio", "error_ratio"):
        return f"{value * 100:.1f}%"
    if name == "gc":
        return f"{value:.3f} s/s"
    if name == "latency_ms":
        return f"{value:.0f} ms"
    if name == "req_per_sec":
        return f"{value:.1f} req/s"
    return f"{value:.0f}"


def metric_line(metrics: HealthMetrics, units: Mapping[str, str] | None = None) -> str:
    """`CPU 0.82 cores · Heap 45.0% · ...` for the numbers that are known."""
    parts = []
    for name in METRIC_ORDER:
        value = getattr(metrics, name)
        if value is not None:
            unit = (units or {}).get(name)
            parts.append(f"{METRIC_TITLES[name]} {format_metric(name, value, unit)}")
    return " · ".join(parts) if parts else "no health metrics"


def evidence_line(analysis: ServiceAnalysis) -> str:
    """The thresholds that were crossed, each metric once: its critical threshold when
    that one was crossed too, e.g. `cpu 0.82 cores >= 0.80 cores (critical)`."""
    strongest: dict[str, Evidence] = {}
    for e in analysis.evidence:
        if e.crossed and (e.metric not in strongest or e.key.startswith("critical_")):
            strongest[e.metric] = e
    if not strongest:
        return "no threshold crossed"
    return ", ".join(_evidence(e, analysis.units.get(e.metric)) for e in strongest.values())


def _evidence(e: Evidence, unit: str | None) -> str:
    if e.metric in METRIC_TITLES:
        value = format_metric(e.metric, e.value, unit)
        threshold = format_metric(e.metric, e.threshold, unit)
    elif e.metric == "mutex_pct":  # the top function's share of the mutex profile
        value, threshold = share(e.value), share(e.threshold)
    else:
        value, threshold = f"{e.value:g}", f"{e.threshold:g}"
    text = f"{e.metric} {value} {e.op} {threshold}"
    return text + " (critical)" if e.key.startswith("critical_") else text


def share(pct: float) -> str:
    """A self or total share of a profile: `34.2%`."""
    return f"{pct:.1f}%"


def hotspot_detail(spot: Hotspot) -> str:
    """`34.2% of CPU self-time (5.1% before, +29.1 pp)`: the hotspot without its name."""
    text = f"{share(spot.self_pct)} of {PROFILE_TITLES[spot.profile]} self-time"
    if spot.baseline_pct is not None:
        delta = spot.self_pct - spot.baseline_pct
        text += f" ({share(spot.baseline_pct)} before, {delta:+.1f} pp)"
    return text


def culprit_detail(spot: Hotspot) -> str | None:
    """`called from com.example.Validator.validate` when the hot leaf is not application code."""
    if spot.culprit is None or spot.culprit == spot.function:
        return None
    return f"called from {spot.culprit}"


def hotspot_line(analysis: ServiceAnalysis) -> str | None:
    """`sha256: 34.2% of CPU self-time (5.1% before, +29.1 pp)`, or None."""
    spot = analysis.hotspot
    if spot is None:
        return None
    caller = culprit_detail(spot)
    return f"{spot.function}: {hotspot_detail(spot)}" + (f", {caller}" if caller else "")


def unseen_line(analysis: ServiceAnalysis) -> str | None:
    """What could not be seen and why, `; `-separated, or None when everything was seen."""
    return "; ".join(analysis.unseen) if analysis.unseen else None


def verdict_text(analysis: ServiceAnalysis) -> str:
    """The verdict; an UNKNOWN or NO-PROFILE-DATA one with what could not be seen."""
    seen = unseen_line(analysis)
    if analysis.verdict in ("UNKNOWN", "NO-PROFILE-DATA") and seen:
        return f"{analysis.verdict} ({seen})"
    return analysis.verdict


def riser_detail(change: FunctionChange) -> str:
    """`5.1% -> 34.2% (+29.1 pp)`: a function's self-% from baseline to incident."""
    return (
        f"{share(change.baseline_pct)} -> {share(change.incident_pct)} ({change.delta_pp:+.1f} pp)"
    )


def top_line(stats: Sequence[FunctionStat], limit: int = 3) -> str:
    if not stats:
        return "(none)"
    return " | ".join(f"{s.function} {share(s.self_pct)}" for s in stats[:limit])


def source_error_line(error: SourceError) -> str:
    return f"{error.source} failed: {error.reason}"


def errors_line(errors: Sequence[SourceError], *, partial: bool) -> str:
    """`prometheus failed: connection refused — verdict from partial data`."""
    text = "; ".join(source_error_line(e) for e in errors)
    return f"{text} — {PARTIAL_DATA}" if partial else text


def _importance(analysis: ServiceAnalysis) -> tuple[int, int]:
    return _SEVERITY_RANK[analysis.severity], VERDICTS.index(analysis.verdict)


def ranked(services: Sequence[ServiceAnalysis]) -> list[ServiceAnalysis]:
    """Most severe first, then decision-table order; ties keep their order."""
    return sorted(services, key=_importance)


def primary_analysis(enrichment: EnrichmentResult) -> ServiceAnalysis | None:
    """The service to lead with: most severe first, then decision-table order."""
    if not enrichment.services:
        return None
    return min(enrichment.services, key=_importance)


def status_tag(payload: WebhookPayload) -> str:
    """`FIRING:2`, `RESOLVED` or `FIRING:1, RESOLVED:1` from the per-alert statuses."""
    firing, resolved = len(payload.firing), len(payload.resolved)
    if firing and resolved:
        return f"FIRING:{firing}, RESOLVED:{resolved}"
    return f"FIRING:{firing}" if firing else "RESOLVED"


def alert_name(payload: WebhookPayload) -> str:
    names = sorted({a.labels.get("alertname", "") for a in payload.alerts} - {""})
    if len(names) == 1:
        return names[0]
    return f"{len(names)} alerts" if names else "alert"


def alert_service(alert: Alert) -> str:
    """What an alert is about, from its labels, before any enrichment."""
    for key in ("service_name", "service", "app", "job"):
        if alert.labels.get(key):
            if key == "job" and alert.labels.get("instance"):
                return alert.labels["instance"].rsplit(":", 1)[0]
            return alert.labels[key]
    return alert.labels.get("instance", "").rsplit(":", 1)[0] or "unknown service"


def headline(payload: WebhookPayload, enrichment: EnrichmentResult) -> str:
    """One line: status, alert, service, verdict, hotspot."""
    lead = primary_analysis(enrichment)
    services = {a.service for a in enrichment.services} or {
        alert_service(a) for a in payload.alerts
    }
    where = next(iter(services)) if len(services) == 1 else f"{len(services)} services"
    text = f"[{status_tag(payload)}] {alert_name(payload)} on {where}"
    if lead is None:
        return text + ": not analysed"
    text += f": {verdict_text(lead)}"
    if len(services) > 1:
        text += f" ({lead.service})"
    if lead.hotspot is not None:
        spot = lead.hotspot
        text += f", hotspot {spot.function} ({spot.self_pct:.1f}% {PROFILE_TITLES[spot.profile]})"
    if lead.errors and verdict_text(lead) == lead.verdict:
        failed = " and ".join(e.source for e in lead.errors)
        text += f" ({PARTIAL_DATA}: {failed} failed)"
    return text
