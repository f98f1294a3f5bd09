"""PagerDuty Events API v2 event and incident note of an enriched alert group, pure.

`trigger` while any alert of the group fires, `resolve` once the group is resolved; the
`dedup_key` is the hex sha256 of Alertmanager's groupKey, as Alertmanager's own PagerDuty
notifier makes it, so both resolve the same incident. Limits (reference/protocols.md §3.1):
`summary` <= 1024 characters, the whole event <= 512 KB: past that, the alert detail goes
first, then the top-function lists shrink, then the per-service detail goes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

from enrichers.document import analysis_document
from enrichers.links import safe_url
from enrichers.result import EnrichmentResult, ServiceAnalysis
from receiver.models import WebhookPayload
from receiver.notifiers.summary import alert_service, headline, primary_analysis, truncate
from receiver.notifiers.text import render_text

__all__ = [
    "EVENT_MAX_BYTES",
    "dedup_key",
    "event_size",
    "pd_severity",
    "render_event",
    "render_note",
]

Event = dict[str, Any]

EVENT_MAX_BYTES = 512_000  # what Alertmanager's PagerDuty notifier holds to
SUMMARY_MAX = 1024
FIELD_MAX = 255  # source, component, group, class: short identifiers
NOTE_MAX = 25_000
ALERTS_DETAIL = 20
LABEL_VALUE_MAX = 1024
LINKS_MAX = 20
HREF_MAX = 3000
SEVERITIES = ("critical", "error", "warning", "info")


def dedup_key(group_key: str) -> str:
    """Hex sha256 of the groupKey (64 characters)."""
    return hashlib.sha256(group_key.encode("utf-8", errors="surrogatepass")).hexdigest()


def pd_severity(labels: Mapping[str, str], default: str) -> str:
    """The alert's `severity` label as a PagerDuty severity; `page` is critical."""
    value = labels.get("severity", "").strip().lower()
    if value in SEVERITIES:
        return value
    return "critical" if value == "page" else default


def _details(analysis: ServiceAnalysis | None) -> dict[str, Any]:
    if analysis is not None:
        return analysis_document(analysis, top_key="top_functions")
    # No service could be analysed: the same keys, no values.
    empty: dict[str, Any] = {"evidence": [], "metrics": {}, "top_functions": {}, "notes": []}
    return dict.fromkeys(("verdict", "severity", "hotspot", "action")) | empty


def _custom_details(payload: WebhookPayload, enrichment: EnrichmentResult) -> dict[str, Any]:
    details = _details(primary_analysis(enrichment))
    if len(enrichment.services) > 1:
        details["services"] = [_details(a) for a in enrichment.services]
    details["firing"] = len(payload.firing)
    details["resolved"] = len(payload.resolved)
    if payload.truncated_alerts:
        details["truncated_alerts"] = payload.truncated_alerts
    details["alerts"] = [
        {k: truncate(v, LABEL_VALUE_MAX) for k, v in a.labels.items()}
        for a in payload.alerts[:ALERTS_DETAIL]
    ]
    errors = [e.model_dump(mode="json") for e in enrichment.errors]
    for analysis in enrichment.services:
        errors += [
            {"service": analysis.service, **e.model_dump(mode="json")} for e in analysis.errors
        ]
    details["errors"] = errors
    return details


def _links(enrichment: EnrichmentResult) -> list[dict[str, str]]:
    several = len(enrichment.services) > 1
    candidates: list[tuple[str, str | None]] = []
    for analysis in enrichment.services:
        suffix = f" ({analysis.service})" if several else ""
        candidates.append((f"Flame graph{suffix}", analysis.links.flame_graph))
        candidates.append((f"Diff vs baseline{suffix}", analysis.links.diff))
        candidates += [(d.title + suffix, d.url) for d in analysis.links.dashboards]
    group = enrichment.links
    candidates += [("Runbook", group.runbook), ("Silence", group.silence), ("Source", group.source)]
    links = []
    for text, url in candidates:
        href = safe_url(url)
        if href is not None and len(href) <= HREF_MAX:
            links.append({"href": href, "text": truncate(text, FIELD_MAX)})
    return links[:LINKS_MAX]


def _trim_top(limit: int) -> Callable[[dict[str, Any]], None]:
    def trim(details: dict[str, Any]) -> None:
        for entry in [details, *details.get("services", [])]:
            top = entry.get("top_functions", {})
            for kind in top:
                top[kind] = top[kind][:limit]

    return trim


# Applied one after the other until the event fits EVENT_MAX_BYTES.
_REDUCTIONS: tuple[Callable[[dict[str, Any]], None], ...] = (
    lambda d: d.pop("alerts", None),
    _trim_top(3),
    _trim_top(1),
    lambda d: d.pop("services", None),
    lambda d: d.pop("top_functions", None),
    lambda d: d.update(notes=d.get("notes", [])[:3], evidence=[], errors=d.get("errors", [])[:5]),
    lambda d: d.clear(),
)


def event_size(event: Event) -> int:
    return len(json.dumps(event).encode())


def _fit(event: Event) -> Event:
    details: dict[str, Any] = event["payload"]["custom_details"]
    for reduce in _REDUCTIONS:
        if event_size(event) <= EVENT_MAX_BYTES:
            break
        reduce(details)
    if not details:
        details["note"] = "details left out: the event was over 512 KB"
    return event


def _source(payload: WebhookPayload, lead: ServiceAnalysis | None) -> str:
    instances = {a.labels.get("instance", "") for a in payload.firing}
    if len(instances) == 1 and "" not in instances:
        return instances.pop()
    return lead.service if lead is not None else alert_service(payload.firing[0])


def _severity(payload: WebhookPayload, default: str) -> str:
    found = {pd_severity(a.labels, default) for a in payload.firing}
    return next((s for s in SEVERITIES if s in found), default)


def render_event(
    payload: WebhookPayload,
    enrichment: EnrichmentResult,
    *,
    routing_key: str,
    default_severity: str,
    summary: str | None = None,  # `templates.pagerduty_summary`, rendered
) -> Event:
    """The Events API v2 body for this state of the group."""
    key = dedup_key(payload.group_key)
    if not payload.firing:
        return {"routing_key": routing_key, "dedup_key": key, "event_action": "resolve"}
    lead = primary_analysis(enrichment)
    body: dict[str, Any] = {
        "summary": truncate(summary or headline(payload, enrichment), SUMMARY_MAX),
        "source": truncate(_source(payload, lead), FIELD_MAX),
        "severity": _severity(payload, default_severity),
        "timestamp": min(a.starts_at for a in payload.firing).astimezone(UTC).isoformat(),
        "component": truncate(
            lead.service if lead else alert_service(payload.firing[0]), FIELD_MAX
        ),
    }
    if lead is not None:
        body["class"] = lead.verdict
    jobs = {a.labels.get("job", "") for a in payload.firing} - {""}
    if jobs:
        body["group"] = truncate(", ".join(sorted(jobs)), FIELD_MAX)
    body["custom_details"] = _custom_details(payload, enrichment)
    event: Event = {
        "routing_key": routing_key,
        "dedup_key": key,
        "event_action": "trigger",
        "client": "flamebot",
        "payload": body,
        "links": _links(enrichment),
    }
    return _fit(event)


def render_note(payload: WebhookPayload, enrichment: EnrichmentResult) -> str:
    """The analysis as a plain-text incident note: the console rendering, <= 25,000 chars."""
    text = render_text(payload, enrichment, 0)
    first, newline, rest = text.partition("\n")
    text = first.removesuffix("  (#0)") + newline + rest
    return truncate(text, NOTE_MAX)
