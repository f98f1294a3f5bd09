"""The Slack message of an enriched alert group: Block Kit JSON (PRODUCT.md §4), pure.

Layout: header (status and alert name), the change that caused an update, one section per
service for the first five (verdict, evidence, metrics, hotspot, action, notes, failures,
top functions as fields) with its link buttons, the other services by name, the runbook
text, the group's buttons (runbook, silence, source), the interactive buttons of the
notification (`receiver.notifiers.slack_actions`), the alert list, and a context line with
the incident window and the enrichment time.

Whatever the input, the message stays within Slack's limits (reference/protocols.md §2.3):
it is rendered at decreasing levels of detail until the blocks' JSON fits `BLOCKS_BUDGET`
characters, and if even the smallest level does not, optional blocks are dropped.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC
from typing import Any

from enrichers.result import EnrichmentResult, ServiceAnalysis
from receiver.models import WebhookPayload
from receiver.notifiers.incident import alert_severity, resolved_line
from receiver.notifiers.slack_actions import interactive_block
from receiver.notifiers.slack_sections import (
    Block,
    Detail,
    actions_block,
    alerts_block,
    error_text,
    fit,
    group_buttons,
    plain,
    section,
    service_buttons,
    service_section,
)
from receiver.notifiers.summary import (
    PROFILE_TITLES,
    alert_name,
    alert_service,
    headline,
    primary_analysis,
    ranked,
    status_tag,
    truncate,
    verdict_text,
    window_line,
)

__all__ = [
    "BLOCKS_BUDGET",
    "MAX_BLOCKS",
    "render_slack",
    "render_thread_reply",
    "slack_header",
    "slack_text",
]

MAX_BLOCKS = 50
HEADER_MAX = 150
TEXT_MAX = 1000
SHOWN_SERVICES = 5
# Slack answers msg_blocks_too_long near 13.2k characters of blocks, below every documented
# limit (reference/protocols.md §2.3): stay well under it.
BLOCKS_BUDGET = 12_000

_FULL = Detail(
    line=280, top_n=5, function=80, notes=3, alerts=5, every_service_links=True, url=3000
)
_LEAD_LINKS = replace(_FULL, every_service_links=False)
LEVELS = (
    _FULL,
    _LEAD_LINKS,
    replace(_LEAD_LINKS, line=200, top_n=3, function=60, notes=2, alerts=3),
    replace(_LEAD_LINKS, line=120, top_n=2, function=50, notes=1, alerts=3, url=2000, buttons=10),
    replace(_LEAD_LINKS, line=80, top_n=0, function=40, notes=0, alerts=0, url=1200, buttons=5),
)
# Dropped in this order (block_id prefixes) when even the last level is too big.
SHED_ORDER = ("alerts", "runbook", "others", "service-", "links-", "change", "errors", "context")


def blocks_size(blocks: list[Block]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def _emoji(payload: WebhookPayload) -> str:
    return "🔥" if payload.firing else "✅"


def _others(services: list[ServiceAnalysis], detail: Detail) -> Block | None:
    if not services:
        return None
    names = ", ".join(f"{a.service} ({verdict_text(a)})" for a in services)
    return section("others", f"*Also affected ({len(services)}):* " + fit(names, detail.line * 4))


def _service_blocks(
    payload: WebhookPayload, enrichment: EnrichmentResult, detail: Detail
) -> list[Block | None]:
    services = ranked(enrichment.services)
    shown = services[:SHOWN_SERVICES]
    several = len(services) > 1
    blocks: list[Block | None] = []
    for index, analysis in enumerate(shown):
        own = alert_severity(payload, analysis)
        blocks.append(service_section(index, analysis, detail, own))
        if several and (index == 0 or detail.every_service_links):
            buttons = service_buttons(index, analysis, detail, named=True)
            blocks.append(actions_block(f"links-{index}", buttons, detail))
    blocks.append(_others(services[SHOWN_SERVICES:], detail))
    return blocks


def _not_analysed(payload: WebhookPayload, enrichment: EnrichmentResult, detail: Detail) -> Block:
    names = ", ".join(sorted({alert_service(a) for a in payload.alerts}))
    text = "*Not analysed:* " + fit(names, detail.line)
    if enrichment.errors:
        text += "\n" + error_text(enrichment.errors, partial=False, limit=detail.line)
    return section("service-none", text)


def _group_errors(enrichment: EnrichmentResult, detail: Detail) -> Block | None:
    if not enrichment.errors or not enrichment.services:
        return None
    return section("errors", error_text(enrichment.errors, partial=True, limit=detail.line))


def _group_actions(enrichment: EnrichmentResult, detail: Detail) -> Block | None:
    buttons = group_buttons(enrichment.links, detail)
    if len(enrichment.services) == 1:
        buttons = service_buttons(0, enrichment.services[0], detail, named=False) + buttons
    return actions_block("links-group", buttons, detail)


def _runbook(enrichment: EnrichmentResult, detail: Detail) -> Block | None:
    text = enrichment.links.runbook_text
    if not text:
        return None
    return section("runbook", "*Runbook:* " + fit(text, detail.line * 2))


def _context(enrichment: EnrichmentResult) -> Block:
    elements = []
    lead = primary_analysis(enrichment)
    if lead is not None:
        elements.append({"type": "mrkdwn", "text": f"Incident window {window_line(lead.window)}"})
    enriched = enrichment.enriched_at.astimezone(UTC)
    when = f"Enriched {enriched:%Y-%m-%d %H:%M:%S} UTC in {enrichment.duration_seconds:.1f} s"
    elements.append({"type": "mrkdwn", "text": when})
    return {"type": "context", "block_id": "context", "elements": elements}


def slack_header(payload: WebhookPayload, enrichment: EnrichmentResult) -> str:
    """`🔥 FIRING:1 HighCpuUsage · payment-service · CPU-BOUND`: status, alert, the lead
    service and its verdict (one function: the place a template hooks in)."""
    text = f"{_emoji(payload)} {status_tag(payload)} {alert_name(payload)}"
    lead = primary_analysis(enrichment)
    if lead is None:
        names = sorted({alert_service(a) for a in payload.alerts})
        where = names[0] if len(names) == 1 else f"{len(names)} services"
        return f"{text} · {where} · not analysed"
    others = len(enrichment.services) - 1
    where = lead.service + (f" +{others} more" if others else "")
    return f"{text} · {where} · {lead.verdict}"


def slack_text(payload: WebhookPayload, enrichment: EnrichmentResult) -> str:
    """The top-level `text`: the one-line summary (the place a template hooks in)."""
    return f"{_emoji(payload)} " + fit(headline(payload, enrichment), TEXT_MAX)


def _header(payload: WebhookPayload, enrichment: EnrichmentResult) -> Block:
    text = slack_header(payload, enrichment)
    return {"type": "header", "block_id": "header", "text": plain(text, HEADER_MAX)}


def _change(change: str | None) -> Block | None:
    if not change:
        return None
    element = {"type": "mrkdwn", "text": ":arrows_counterclockwise: " + fit(change, 300)}
    return {"type": "context", "block_id": "change", "elements": [element]}


def _blocks(
    payload: WebhookPayload,
    enrichment: EnrichmentResult,
    change: str | None,
    detail: Detail,
    notification_id: int | None = None,
) -> list[Block]:
    blocks: list[Block | None] = [_header(payload, enrichment), _change(change)]
    if enrichment.services:
        blocks += _service_blocks(payload, enrichment, detail)
    else:
        blocks.append(_not_analysed(payload, enrichment, detail))
    blocks += [
        _group_errors(enrichment, detail),
        _runbook(enrichment, detail),
        _group_actions(enrichment, detail),
        None
        if notification_id is None
        else interactive_block(notification_id, payload, enrichment),
        alerts_block(payload, detail),
        _context(enrichment),
    ]
    return [b for b in blocks if b is not None]


def _resolved(
    payload: WebhookPayload, enrichment: EnrichmentResult, change: str | None
) -> list[Block]:
    """A resolve is a short note: when, how long, what changed, what the analysis said; no
    buttons (nothing is left to silence, re-run or correct: the firing thread has them)."""
    lines = [f"*{fit(resolved_line(payload), 300)}*"]
    lead = primary_analysis(enrichment)
    if lead is not None:
        said = f"{lead.service}: {verdict_text(lead)}"
        if lead.hotspot is not None:
            spot = lead.hotspot
            said += (
                f", hotspot {spot.function} ({spot.self_pct:.1f}% {PROFILE_TITLES[spot.profile]})"
            )
        lines.append("*While firing:* " + fit(said, 400))
    lines.append(f"*Alerts:* {len(payload.alerts)} resolved")
    blocks = [
        _header(payload, enrichment),
        _change(change),
        section("resolved", "\n".join(lines)),
        _context(enrichment),
    ]
    return [b for b in blocks if b is not None]


def _shed(blocks: list[Block]) -> list[Block]:
    """Drop optional blocks until the message fits; the header and first section stay."""
    blocks = blocks[:MAX_BLOCKS]
    first = next(b for b in blocks if b["block_id"].startswith("service-"))
    for prefix in SHED_ORDER:
        # Later blocks of a kind go first: the first service's section never leaves.
        for block in reversed(list(blocks)):
            if blocks_size(blocks) <= BLOCKS_BUDGET:
                return blocks
            if block["block_id"].startswith(prefix) and block is not first:
                blocks.remove(block)
    return blocks


def render_slack(
    payload: WebhookPayload,
    enrichment: EnrichmentResult,
    *,
    change: str | None = None,
    notification_id: int | None = None,
    header: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """`{"text": <one-line summary>, "blocks": [...]}` for chat.postMessage / chat.update;
    `header` and `text` replace the default header and summary (`templates:`, rendered);
    with the interactive buttons of notification `notification_id` when given. A resolved
    group gets the short note of `_resolved`."""
    blocks: list[Block] = []
    if payload.status == "resolved":
        blocks = _resolved(payload, enrichment, change)
    else:
        for detail in LEVELS:
            blocks = _blocks(payload, enrichment, change, detail, notification_id)
            if len(blocks) <= MAX_BLOCKS and blocks_size(blocks) <= BLOCKS_BUDGET:
                break
        else:
            blocks = _shed(blocks)
    # A template's output is the user's markup, sent as written (values escaped by `mrkdwn`).
    if header:
        blocks[0] = {**blocks[0], "text": {**plain("", 1), "text": truncate(header, HEADER_MAX)}}
    summary = truncate(text, TEXT_MAX) if text else None
    return {"text": summary or slack_text(payload, enrichment), "blocks": blocks}


def render_thread_reply(
    payload: WebhookPayload, enrichment: EnrichmentResult, change: str
) -> dict[str, Any]:
    """The thread reply posted on each update: what changed, the status, what still fires."""
    firing, total = len(payload.firing), len(payload.alerts)
    text = f"{_emoji(payload)} {change}: {alert_name(payload)} is now {status_tag(payload)}"
    text += f", {firing} of {total} alerts still firing" if firing else ", all alerts resolved"
    lead = primary_analysis(enrichment)
    if lead is not None:
        text += f". {lead.service}: {verdict_text(lead)}"
    return {"text": fit(text, TEXT_MAX)}
