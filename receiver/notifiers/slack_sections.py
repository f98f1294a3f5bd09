"""Block Kit pieces of the Slack message: escaping, service sections, buttons, alert list.

Pure functions. Every string that came from an alert or a profile goes through `fit()`
(mrkdwn escape of `&`, `<`, `>` and nothing else, then a length cap that holds after
escaping); every button URL through `enrichers.links.safe_url` (http(s) only, `|<>` encoded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enrichers.links import safe_url
from enrichers.result import FunctionStat, GroupLinks, ServiceAnalysis, SourceError
from enrichers.visibility import truncation_lines
from receiver.models import Alert, WebhookPayload
from receiver.notifiers.summary import (
    PARTIAL_DATA,
    PROFILE_TITLES,
    alert_service,
    culprit_detail,
    errors_line,
    evidence_line,
    hotspot_detail,
    metric_line,
    riser_detail,
    share,
    truncate,
    unseen_line,
)

__all__ = [
    "Detail",
    "actions_block",
    "alerts_block",
    "code",
    "escape",
    "fit",
    "group_buttons",
    "section",
    "service_buttons",
    "service_section",
]

Block = dict[str, Any]

SECTION_MAX = 3000
FIELD_MAX = 2000
BUTTON_TEXT_MAX = 75
BUTTON_URL_MAX = 3000
ACTIONS_MAX = 25
FIELDS_MAX = 10


@dataclass(frozen=True, slots=True)
class Detail:
    """How much one rendering shows; smaller levels keep the message under Slack's size."""

    line: int  # characters of one line of a service section
    top_n: int  # functions per profile type
    function: int  # characters of a function name
    notes: int  # notes per service
    alerts: int  # alerts listed one by one
    every_service_links: bool  # buttons for every service shown, else for the first only
    url: int  # buttons with a longer URL are left out
    buttons: int = ACTIONS_MAX  # buttons per actions block


def escape(text: str) -> str:
    """Slack mrkdwn escaping: `&`, `<` and `>` only (reference/protocols.md §2.4)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(raw: str, limit: int) -> str:
    """`raw` on one line, escaped, cut at a word boundary so that the escaped text fits."""
    raw = " ".join(raw.split())
    room = limit
    while True:
        text = escape(truncate(raw, room))
        if len(text) <= limit or room <= 1:
            return text
        room = max(1, min(room - 1, room * limit // len(text)))


def code(raw: str, limit: int) -> str:
    """A function name as inline code; a backtick inside would end the code span."""
    return "`" + fit(raw.replace("`", "'"), max(1, limit - 2)) + "`"


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text or " "}


def plain(raw: str, limit: int) -> dict[str, Any]:
    """A plain_text object; Slack decodes entities there too, so it is escaped the same way."""
    return {"type": "plain_text", "text": fit(raw, limit) or " ", "emoji": True}


def section(block_id: str, text: str, fields: list[str] | None = None) -> Block:
    """A section; `text` must be escaped mrkdwn already. Cut to Slack's limits as a last guard."""
    block: Block = {
        "type": "section",
        "block_id": block_id,
        "text": mrkdwn(truncate(text, SECTION_MAX)),
    }
    if fields:
        block["fields"] = [mrkdwn(truncate(f, FIELD_MAX)) for f in fields[:FIELDS_MAX]]
    return block


def _service_title(analysis: ServiceAnalysis, detail: Detail, alert_severity: str | None) -> str:
    name = analysis.service
    if analysis.pyroscope_service != analysis.service:
        name += f" (Pyroscope: {analysis.pyroscope_service})"
    # Two different severities, each named: the analysis' and the alert's own label.
    severities = f"analysis severity {analysis.severity}"
    if alert_severity:
        severities += f" · alert severity {fit(alert_severity, 60)}"
    return f"*{analysis.verdict}* · {severities} · *{fit(name, detail.line)}*"


def _hotspot_lines(analysis: ServiceAnalysis, detail: Detail) -> list[str]:
    spot = analysis.hotspot
    if spot is None:
        return ["*Hotspot:* none"]
    text = f"*Hotspot:* {code(spot.function, detail.function)} {hotspot_detail(spot)}"
    if culprit_detail(spot) and spot.culprit is not None:
        text += f", called from {code(spot.culprit, detail.function)}"
    lines = [text]
    riser = analysis.biggest_riser
    if riser is not None and riser.delta_pp > 0 and riser.function != spot.function:
        riser_text = escape(riser_detail(riser))  # its `->` is mrkdwn's `>` otherwise
        lines.append(f"*Riser:* {code(riser.function, detail.function)} {riser_text}")
    return lines


def _top_field(kind: str, stats: list[FunctionStat], detail: Detail) -> str:
    rows = [
        f"{code(s.function, detail.function)} {share(s.self_pct)}" for s in stats[: detail.top_n]
    ]
    return "\n".join([f"*Top {PROFILE_TITLES[kind]}* (self)", *rows])


def error_text(errors: list[SourceError], *, partial: bool, limit: int) -> str:
    return ":warning: " + fit(errors_line(errors, partial=partial), limit)


def _unseen_text(analysis: ServiceAnalysis, width: int) -> list[str]:
    """What could not be seen (every failed source among it), said whatever the detail level."""
    seen = unseen_line(analysis)
    if seen is None:
        return []
    partial = f" — {PARTIAL_DATA}" if analysis.errors and analysis.verdict != "UNKNOWN" else ""
    return [":warning: *Not seen:* " + fit(seen + partial, width * 2)]


def service_section(
    index: int, analysis: ServiceAnalysis, detail: Detail, alert_severity: str | None = None
) -> Block:
    """Verdict, what was not seen, evidence, metrics, hotspot, action, notes of one service."""
    width = detail.line
    lines = [
        _service_title(analysis, detail, alert_severity),
        *_unseen_text(analysis, width),
        "*Evidence:* " + fit(evidence_line(analysis), width),
        "*Metrics:* " + fit(metric_line(analysis.metrics, analysis.units), width),
        *_hotspot_lines(analysis, detail),
        "*Action:* " + fit(analysis.action, width),
    ]
    # The merged share and its fix are a short sentence of our own: never cut.
    lines += [":scissors: " + fit(line, 200) for line in truncation_lines(analysis.truncated_pct)]
    lines += ["*Note:* " + fit(note, width) for note in analysis.notes[: detail.notes]]
    fields = []
    if detail.top_n:
        fields = [_top_field(k, stats, detail) for k, stats in analysis.top.items() if stats]
    return section(f"service-{index}", "\n".join(lines), fields)


def button(text: str, url: str | None, action_id: str, max_url: int) -> Block | None:
    """A link button, or None when the URL is missing, not http(s) or too long."""
    href = safe_url(url)
    if href is None or len(href) > min(max_url, BUTTON_URL_MAX):
        return None
    return {
        "type": "button",
        "action_id": action_id,
        "text": plain(text, BUTTON_TEXT_MAX),
        "url": href,
    }


def service_buttons(
    index: int, analysis: ServiceAnalysis, detail: Detail, *, named: bool
) -> list[Block]:
    """Flame graph, baseline diff and dashboards of one service."""
    suffix = f": {analysis.service}" if named else ""
    links = analysis.links
    candidates = [
        button(f"Flame graph{suffix}", links.flame_graph, f"flame-graph-{index}", detail.url),
        button(f"Diff vs baseline{suffix}", links.diff, f"diff-{index}", detail.url),
    ]
    candidates += [
        button(d.title + suffix, d.url, f"dashboard-{index}-{n}", detail.url)
        for n, d in enumerate(links.dashboards)
    ]
    return [b for b in candidates if b is not None]


def group_buttons(links: GroupLinks, detail: Detail) -> list[Block]:
    """Runbook, silence and source (`generatorURL`) of the group."""
    candidates = [
        button("Runbook", links.runbook, "runbook", detail.url),
        button("Silence", links.silence, "silence", detail.url),
        button("Source", links.source, "source", detail.url),
    ]
    return [b for b in candidates if b is not None]


def actions_block(block_id: str, buttons: list[Block], detail: Detail) -> Block | None:
    if not buttons:
        return None
    elements = buttons[: min(detail.buttons, ACTIONS_MAX)]
    return {"type": "actions", "block_id": block_id, "elements": elements}


def _alert_line(alert: Alert, width: int) -> str:
    mark = ":fire:" if alert.status == "firing" else ":white_check_mark:"
    name = alert.labels.get("alertname", "alert")
    where = alert.labels.get("instance") or alert_service(alert)
    text = f"{name} on {where}"
    summary = alert.annotations.get("summary", "")
    if summary:
        text += f": {summary}"
    return f"• {mark} " + fit(text, width)


def alerts_block(payload: WebhookPayload, detail: Detail) -> Block:
    """The group's alerts: counts, then the first few (firing first) by name and instance."""
    firing, resolved = len(payload.firing), len(payload.resolved)
    total = len(payload.alerts)
    head = f"*Alerts:* {total} ({firing} firing, {resolved} resolved)"
    if payload.truncated_alerts:
        head += f", {payload.truncated_alerts} more cut by Alertmanager's max_alerts"
    lines = [head]
    listed = (payload.firing + payload.resolved)[: detail.alerts]
    lines += [_alert_line(a, detail.line) for a in listed]
    if total > detail.alerts > 0:
        lines.append(f"… and {total - detail.alerts} more")
    return section("alerts", "\n".join(lines))
