"""Microsoft Teams, through a Workflows webhook: one Adaptive Card 1.4 per notification.

The body is the Workflows envelope `{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "content": <AdaptiveCard>}]}`. The card holds the
headline, one container per service (verdict, evidence, hotspot, action, metrics) with its
link buttons, the group's buttons (runbook, silence, source) as `Action.OpenUrl`, and the
alert list. Teams refuses a message above about 28 KB: the card is rendered with fewer
services and alerts until its JSON fits `CARD_BUDGET` bytes, and then says what it left
out. The URL carries the workflow's signature, so it is a secret (`url` / `url_file`).
Failures are classified by the shared table (`base.check_status`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from pydantic import Field, SecretStr

from enrichers.clients.backend_http import USER_AGENT
from enrichers.result import EnrichmentResult, ServiceAnalysis
from receiver.models import WebhookPayload
from receiver.notifiers.base import NotifierSettingsBase, send
from receiver.notifiers.incident import severities_text
from receiver.notifiers.integration import Integration
from receiver.notifiers.summary import (
    alert_service,
    evidence_line,
    headline,
    hotspot_line,
    metric_line,
    ranked,
    truncate,
    verdict_text,
)
from receiver.seams import Notification

__all__ = [
    "CARD_BUDGET",
    "INTEGRATION",
    "TeamsNotifier",
    "TeamsNotifierSettings",
    "card_size",
    "render_card",
]

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
TEAMS_LIMIT = 28 * 1024  # bytes of the whole message, as Teams counts it
CARD_BUDGET = TEAMS_LIMIT - 1024  # room for what Teams adds around the card
# (services shown, alerts listed, characters per line): the first level that fits is sent.
LEVELS = ((5, 10, 400), (3, 5, 240), (1, 3, 160), (1, 0, 100))
ACTIONS_MAX = 6  # buttons of the card's own action bar

Element = dict[str, Any]


class TeamsNotifierSettings(NotifierSettingsBase):
    """Posts an Adaptive Card to a Teams Workflows webhook (`url` holds its signature)."""

    secrets = required_secrets = ("url",)

    type: Literal["teams"]
    url: SecretStr | None = None
    url_file: Path | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0


def _text(text: str, limit: int, **style: Any) -> Element:
    return {"type": "TextBlock", "text": truncate(text, limit), "wrap": True, **style}


def _open(title: str, url: str | None) -> Element | None:
    return {"type": "Action.OpenUrl", "title": title, "url": url} if url else None


def _service_actions(analysis: ServiceAnalysis) -> list[Element]:
    links = analysis.links
    found = [_open("Flame graph", links.flame_graph), _open("Diff vs baseline", links.diff)]
    found += [_open(d.title, d.url) for d in links.dashboards]
    return [a for a in found if a is not None]


def _service(
    payload: WebhookPayload, analysis: ServiceAnalysis, width: int, buttons: bool
) -> Element:
    facts = [("Evidence", evidence_line(analysis)), ("Hotspot", hotspot_line(analysis) or "none")]
    facts += [("Action", analysis.action)]
    facts += [("Metrics", metric_line(analysis.metrics, analysis.units))]
    title = f"{analysis.service}: {verdict_text(analysis)} ({severities_text(payload, analysis)})"
    items: list[Element] = [
        _text(title, width, weight="Bolder"),
        {
            "type": "FactSet",
            "facts": [{"title": t, "value": truncate(v, width)} for t, v in facts if v],
        },
    ]
    actions = _service_actions(analysis) if buttons else []
    if actions:
        items.append({"type": "ActionSet", "actions": actions[:ACTIONS_MAX]})
    return {"type": "Container", "separator": True, "items": items}


def _alerts(payload: WebhookPayload, shown: int, width: int) -> list[Element]:
    lines = []
    for alert in payload.alerts[:shown]:
        name = alert.labels.get("alertname", "alert")
        where = alert.labels.get("instance") or alert_service(alert)
        summary = alert.annotations.get("summary", "")
        lines.append(f"- {alert.status} {name} on {where}" + (f": {summary}" if summary else ""))
    return [_text(truncate(line, width), width, spacing="None") for line in lines]


def _group_actions(enrichment: EnrichmentResult) -> list[Element]:
    group = enrichment.links
    found = [
        _open("Runbook", group.runbook),
        _open("Silence", group.silence),
        _open("Source", group.source),
    ]
    return [a for a in found if a is not None]


def _card(
    payload: WebhookPayload, enrichment: EnrichmentResult, level: int, buttons: bool = True
) -> Element:
    services, alerts, width = LEVELS[level]
    analyses = ranked(enrichment.services)
    color = "Attention" if payload.firing else "Good"
    body = [_text(headline(payload, enrichment), 600, size="Large", weight="Bolder", color=color)]
    several = len(analyses) > 1  # one service: its buttons are the card's own
    body += [_service(payload, a, width, buttons and several) for a in analyses[:services]]
    if enrichment.links.runbook_text and not enrichment.links.runbook:
        body.append(_text(f"Runbook: {enrichment.links.runbook_text}", width))
    body += _alerts(payload, alerts, width)
    left_out = []
    if len(analyses) > services:
        left_out.append(f"{len(analyses) - services} more services")
    if len(payload.alerts) > alerts:
        left_out.append(f"{len(payload.alerts) - alerts} more alerts")
    if not buttons:
        left_out.append("the link buttons")
    if left_out:
        note = ", ".join(left_out) + " not shown"
        if level > 0:
            note += " (trimmed to fit Teams' 28 KB message limit)"
        body.append(_text(note, 200, isSubtle=True))
    lead = analyses[0] if len(analyses) == 1 else None
    actions = (_service_actions(lead) if lead else []) + _group_actions(enrichment)
    actions = actions if buttons else []
    card: Element = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        card["actions"] = actions[:ACTIONS_MAX]
    return card


def envelope(card: Element) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_TYPE, "contentUrl": None, "content": card}],
    }


def card_size(message: dict[str, Any]) -> int:
    """Bytes of the message as sent (UTF-8 JSON)."""
    return len(json.dumps(message, ensure_ascii=False).encode())


def render_card(payload: WebhookPayload, enrichment: EnrichmentResult) -> dict[str, Any]:
    """The Workflows message of this state of the group, within `CARD_BUDGET` bytes."""
    message: dict[str, Any] = {}
    for level in range(len(LEVELS)):
        message = envelope(_card(payload, enrichment, level))
        if card_size(message) <= CARD_BUDGET:
            return message
    # Links too long even for one service: the text goes without its buttons.
    return envelope(_card(payload, enrichment, len(LEVELS) - 1, buttons=False))


class TeamsNotifier:
    def __init__(
        self, settings: TeamsNotifierSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        assert settings.url is not None  # the config validator guarantees it
        self.name = settings.name
        self._url = settings.url.get_secret_value()
        self._client = httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT},
            timeout=settings.timeout_seconds,
            transport=transport,
        )

    async def notify(self, notification: Notification) -> None:
        message = render_card(notification.payload, notification.enrichment)
        await send(self._client, f"teams {self.name}", "POST", self._url, json=message)

    async def aclose(self) -> None:
        await self._client.aclose()


INTEGRATION = Integration(TeamsNotifierSettings, lambda s, _: TeamsNotifier(s))
