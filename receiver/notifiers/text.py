"""Plain-text rendering of an enriched alert group (the console notifier, `flamebot demo`)."""

from __future__ import annotations

from enrichers.result import EnrichmentResult, ServiceAnalysis
from enrichers.visibility import truncation_lines
from receiver.models import Alert, WebhookPayload
from receiver.notifiers.summary import (
    PROFILE_TITLES,
    evidence_line,
    hotspot_line,
    metric_line,
    source_error_line,
    top_line,
    unseen_line,
)
from receiver.notifiers.summary import headline as default_headline

__all__ = ["render_text"]


def _service_block(analysis: ServiceAnalysis) -> list[str]:
    name = analysis.service
    if analysis.pyroscope_service != analysis.service:
        name += f" (Pyroscope: {analysis.pyroscope_service})"
    lines = [f"  {name}: {analysis.verdict} [{analysis.severity}]"]
    unseen = unseen_line(analysis)
    if unseen:  # every failed source is among these
        lines.append(f"    Not seen: {unseen}")
    lines += [
        f"    Metrics:  {metric_line(analysis.metrics, analysis.units)}",
        f"    Evidence: {evidence_line(analysis)}",
    ]
    spot = hotspot_line(analysis)
    lines.append(f"    Hotspot:  {spot}" if spot else "    Hotspot:  none")
    lines.append(f"    Action:   {analysis.action}")
    for kind, stats in analysis.top.items():
        lines.append(f"    Top {PROFILE_TITLES[kind]:<6} {top_line(stats)}")
    lines.extend(f"    Merged:   {line}" for line in truncation_lines(analysis.truncated_pct))
    riser = analysis.biggest_riser
    if riser is not None and riser.delta_pp > 0:
        lines.append(
            f"    Riser:    {riser.function} {riser.baseline_pct:.1f}% -> "
            f"{riser.incident_pct:.1f}% ({riser.delta_pp:+.1f} pp)"
        )
    lines.extend(f"    Note:     {note}" for note in analysis.notes)
    links = analysis.links
    if links.flame_graph:
        lines.append(f"    Flame graph: {links.flame_graph}")
    if links.diff:
        lines.append(f"    Diff:        {links.diff}")
    lines.extend(f"    {d.title}: {d.url}" for d in links.dashboards)
    return lines


def _alert_line(alert: Alert) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    summary = alert.annotations.get("summary", "")
    name = alert.labels.get("alertname", "alert")
    text = f"  - {alert.status} {name} {{{labels}}} since {alert.starts_at.isoformat()}"
    return text + (f": {summary}" if summary else "")


def render_text(
    payload: WebhookPayload,
    enrichment: EnrichmentResult,
    notification_id: int,
    *,
    headline: str | None = None,  # `templates.console_headline`, rendered
) -> str:
    lines = [f"{headline or default_headline(payload, enrichment)}  (#{notification_id})"]
    for analysis in enrichment.services:
        lines.extend(_service_block(analysis))
    lines.extend(f"  ! {source_error_line(e)}" for e in enrichment.errors)
    lines.append("  Alerts:")
    lines.extend(_alert_line(a) for a in payload.alerts[:20])
    if len(payload.alerts) > 20:
        lines.append(f"  ... and {len(payload.alerts) - 20} more")
    if payload.truncated_alerts:
        lines.append(f"  ({payload.truncated_alerts} alerts cut by Alertmanager's max_alerts)")
    group = enrichment.links
    if group.runbook:
        lines.append(f"  Runbook: {group.runbook}")
    elif group.runbook_text:
        lines.append(f"  Runbook: {group.runbook_text}")
    if group.silence:
        lines.append(f"  Silence: {group.silence}")
    if group.source:
        lines.append(f"  Source:  {group.source}")
    if enrichment.services:
        window = enrichment.services[0].window
        lines.append(
            f"  Window: {window.start:%Y-%m-%d %H:%M:%S} to {window.end:%H:%M:%S} UTC,"
            f" enriched in {enrichment.duration_seconds:.1f} s"
        )
    return "\n".join(lines)
