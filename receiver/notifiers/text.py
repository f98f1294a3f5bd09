"""Plain-text rendering of an enriched alert group (the console notifier, `flamebot demo`).

Read at 3 a.m.: the headline, then per service (the first five, most severe first, as in
Slack; the rest by name) what it is and why, the alerts (the first five), the window in UTC,
and the links last. A resolved group is a short note: when it resolved, how long it lasted,
what the analysis said while it fired; not the whole analysis again.
"""

from __future__ import annotations

from enrichers.result import EnrichmentResult, ServiceAnalysis
from enrichers.times import iso_time, window_line
from enrichers.visibility import truncation_lines
from receiver.models import Alert, WebhookPayload
from receiver.notifiers.incident import resolved_line, severities_text
from receiver.notifiers.summary import (
    PROFILE_TITLES,
    evidence_line,
    hotspot_line,
    metric_line,
    primary_analysis,
    ranked,
    source_error_line,
    top_line,
    unseen_line,
    verdict_text,
)
from receiver.notifiers.summary import headline as default_headline

__all__ = ["SHOWN_ALERTS", "SHOWN_SERVICES", "console_headline", "render_text"]

SHOWN_SERVICES = 5  # as Slack: one section per service for the first five
SHOWN_ALERTS = 5


def _service_block(payload: WebhookPayload, analysis: ServiceAnalysis) -> list[str]:
    name = analysis.service
    if analysis.pyroscope_service != analysis.service:
        name += f" (Pyroscope: {analysis.pyroscope_service})"
    lines = [f"  {name}: {analysis.verdict} ({severities_text(payload, analysis)})"]
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
    return lines


def _service_links(analysis: ServiceAnalysis, named: bool) -> list[str]:
    prefix = f"{analysis.service} " if named else ""
    links = analysis.links
    lines = []
    if links.flame_graph:
        lines.append(f"    {prefix}flame graph: {links.flame_graph}")
    if links.diff:
        lines.append(f"    {prefix}diff: {links.diff}")
    lines.extend(f"    {prefix}{d.title}: {d.url}" for d in links.dashboards)
    return lines


def _alert_line(alert: Alert) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    summary = alert.annotations.get("summary", "")
    name = alert.labels.get("alertname", "alert")
    text = f"  - {alert.status} {name} {{{labels}}} since {iso_time(alert.starts_at)}"
    return text + (f": {summary}" if summary else "")


def _alerts(payload: WebhookPayload) -> list[str]:
    firing, resolved = len(payload.firing), len(payload.resolved)
    lines = [f"  Alerts: {len(payload.alerts)} ({firing} firing, {resolved} resolved)"]
    listed = (payload.firing + payload.resolved)[:SHOWN_ALERTS]
    lines.extend(_alert_line(a) for a in listed)
    if len(payload.alerts) > SHOWN_ALERTS:
        lines.append(f"  ... and {len(payload.alerts) - SHOWN_ALERTS} more")
    if payload.truncated_alerts:
        lines.append(f"  ({payload.truncated_alerts} alerts cut by Alertmanager's max_alerts)")
    return lines


def console_headline(
    payload: WebhookPayload,
    enrichment: EnrichmentResult,
    notification_id: int,
    headline: str | None = None,
) -> str:
    """The console's first line; `headline` is `templates.console_headline`, rendered."""
    return f"{headline or default_headline(payload, enrichment)}  (#{notification_id})"


def _window(enrichment: EnrichmentResult) -> list[str]:
    lead = primary_analysis(enrichment)
    if lead is None:
        return []
    return [
        f"  Window: {window_line(lead.window)}, enriched in {enrichment.duration_seconds:.1f} s"
    ]


def _resolved(payload: WebhookPayload, enrichment: EnrichmentResult, first: str) -> str:
    lines = [first, f"  {resolved_line(payload)}"]
    lead = primary_analysis(enrichment)
    if lead is not None:
        spot = hotspot_line(lead)
        said = f"{lead.service}: {verdict_text(lead)}" + (f", hotspot {spot}" if spot else "")
        lines.append(f"  While firing: {said}")
    lines.append(f"  Alerts: {len(payload.alerts)} resolved")
    return "\n".join(lines + _window(enrichment))


def render_text(
    payload: WebhookPayload,
    enrichment: EnrichmentResult,
    notification_id: int,
    *,
    headline: str | None = None,  # `templates.console_headline`, rendered
) -> str:
    first = console_headline(payload, enrichment, notification_id, headline)
    if payload.status == "resolved":
        return _resolved(payload, enrichment, first)
    lines = [first]
    services = ranked(enrichment.services)
    for analysis in services[:SHOWN_SERVICES]:
        lines.extend(_service_block(payload, analysis))
    others = services[SHOWN_SERVICES:]
    if others:
        names = ", ".join(f"{a.service} ({verdict_text(a)})" for a in others)
        lines.append(f"  Also affected ({len(others)}): {names}")
    lines.extend(f"  ! {source_error_line(e)}" for e in enrichment.errors)
    lines.extend(_alerts(payload))
    group = enrichment.links
    if group.runbook_text:
        lines.append(f"  Runbook: {group.runbook_text}")
    lines.extend(_window(enrichment))
    # As Slack's buttons: the lead service's links (named when there are several services).
    links = [line for a in services[:1] for line in _service_links(a, len(services) > 1)]
    if group.runbook:
        links.append(f"    runbook: {group.runbook}")
    if group.silence:
        links.append(f"    silence: {group.silence}")
    if group.source:
        links.append(f"    source: {group.source}")
    if links:
        lines += ["  Links:", *links]
    return "\n".join(lines)
