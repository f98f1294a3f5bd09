"""Facts about the alerts themselves that every renderer states the same way, pure: the
alerts' own severity (beside the analysis' severity, never mixed up with it) and, for a
resolve, when it resolved and how long it lasted."""

from __future__ import annotations

from datetime import datetime, timedelta

from enrichers.result import ServiceAnalysis
from enrichers.times import iso_time
from receiver.models import Alert, WebhookPayload

__all__ = [
    "alert_severity",
    "duration_text",
    "resolved_at",
    "resolved_line",
    "severities_text",
    "started_at",
]


def _alerts_of(payload: WebhookPayload, analysis: ServiceAnalysis | None) -> list[Alert]:
    if analysis is None or not analysis.alerts:
        return list(payload.alerts)
    keys = set(analysis.alerts)
    return [a for a in payload.alerts if a.key in keys] or list(payload.alerts)


def alert_severity(payload: WebhookPayload, analysis: ServiceAnalysis | None = None) -> str | None:
    """The `severity` label of the alerts (of one service when given), `warning, critical`
    when they differ, None when no alert has one."""
    found = sorted(
        {a.labels["severity"] for a in _alerts_of(payload, analysis) if a.labels.get("severity")}
    )
    return ", ".join(found) or None


def severities_text(payload: WebhookPayload, analysis: ServiceAnalysis) -> str:
    """`analysis severity critical, alert severity warning`: two different things, named."""
    text = f"analysis severity {analysis.severity}"
    own = alert_severity(payload, analysis)
    return text + (f", alert severity {own}" if own else "")


def started_at(payload: WebhookPayload) -> datetime:
    return min(a.starts_at for a in payload.alerts)


def resolved_at(payload: WebhookPayload) -> datetime | None:
    """The latest endsAt of the group's alerts, or None when one has none."""
    ends = [a.ends_at for a in payload.alerts]
    if not ends or any(e is None for e in ends):
        return None
    return max(e for e in ends if e is not None)


def duration_text(span: timedelta) -> str:
    """`45 s`, `12 min 5 s`, `3 h 2 min`, `2 d 4 h`."""
    seconds = max(0, int(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def resolved_line(payload: WebhookPayload) -> str:
    """`Resolved at 2026-11-25T17:41:02Z after 15 min 30 s (firing since 2026-11-25T17:25:32Z)`."""
    start = started_at(payload)
    end = resolved_at(payload)
    if end is None:
        return f"Resolved (firing since {iso_time(start)})"
    lasted = duration_text(end - start)
    return f"Resolved at {iso_time(end)} after {lasted} (firing since {iso_time(start)})"
