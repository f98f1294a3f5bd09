"""The Teams notifier through the real service, against the strict fake Workflows webhook."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from enrichers.result import EnrichmentResult, Link
from receiver.config import Config, load_config
from receiver.errors import ConfigError
from receiver.models import WebhookPayload
from receiver.notifiers.teams import CARD_BUDGET, render_card
from tests.fakes.clock import FakeTime
from tests.fakes.teams import MESSAGE_LIMIT, FakeTeams, card_errors, envelope_errors
from tests.notifiers.conftest import deliver
from tests.notifiers.samples import (
    fleet_enrichment,
    fleet_payload,
    group_links,
    load_payload,
    reference_enrichment,
    service_links,
)

Make = Callable[[WebhookPayload], EnrichmentResult]


@pytest.fixture
async def teams(aiohttp_server: Any) -> tuple[FakeTeams, str]:
    """The fake Workflows trigger on loopback, and its signed URL."""
    fake = FakeTeams()
    server = await aiohttp_server(fake.app())
    return fake, fake.url(str(server.make_url("")).rstrip("/"))


def _config(tmp_path: Path, **entry: Any) -> Config:
    notifier = {"name": "teams", "type": "teams", **entry}
    return Config.model_validate(
        {"store": {"path": str(tmp_path / "flamebot.db")}, "notifiers": [notifier]}
    )


async def _deliver(config: Config, payload: WebhookPayload, make: Make, time: FakeTime) -> str:
    """Accept one webhook, let it be delivered (or buried), stop; the metrics text."""
    service = await deliver(config, payload, fake_time=time, make=make)
    return service.metrics.render().decode()


async def _reference_delivered(
    teams: tuple[FakeTeams, str], tmp_path: Path, name: str
) -> WebhookPayload:
    """The reference analysis of the sample payload `name`, delivered to the fake; the payload."""
    payload = load_payload(name)
    await _deliver(_config(tmp_path, url=teams[1]), payload, reference_enrichment, FakeTime())
    return payload


def _action(title: str, url: str | None) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


async def test_one_adaptive_card_with_verdict_hotspot_action_and_links(
    teams: tuple[FakeTeams, str], tmp_path: Path
) -> None:
    """The reference alert becomes one 1.4 card: headline, the service's facts, link buttons."""
    fake = teams[0]
    payload = await _reference_delivered(teams, tmp_path, "firing.json")
    links = service_links("bank-payment-service", reference_enrichment(payload).services[0].window)
    group = group_links(payload)
    spot = "com.example.PaymentVerticle.sha256"
    assert fake.cards == [
        {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "msteams": {"width": "Full"},
            "body": [
                {
                    "type": "TextBlock",
                    "text": f"[FIRING:1] HighCPUUsage on payment-service: CPU-BOUND, hotspot {spot}"
                    " (34.2% CPU)",
                    "wrap": True,
                    "size": "Large",
                    "weight": "Bolder",
                    "color": "Attention",
                },
                {
                    "type": "Container",
                    "separator": True,
                    "items": [
                        {
                            "type": "TextBlock",
                            "text": "payment-service: CPU-BOUND"
                            " (analysis severity critical, alert severity critical)",
                            "wrap": True,
                            "weight": "Bolder",
                        },
                        {
                            "type": "FactSet",
                            "facts": [
                                {
                                    "title": "Evidence",
                                    "value": "cpu 0.82 cores >= 0.80 cores (critical)",
                                },
                                {
                                    "title": "Hotspot",
                                    "value": f"{spot}: 34.2% of CPU self-time (5.1% before,"
                                    " +29.1 pp)",
                                },
                                {
                                    "title": "Action",
                                    "value": f"optimise {spot} (algorithm, caching, async offload)",
                                },
                                {
                                    "title": "Metrics",
                                    "value": "CPU 0.82 cores · Heap 45.0% · GC 0.012 s/s ·"
                                    " Threads 48 · Latency 85 ms · Errors 0.1% ·"
                                    " Requests 120.5 req/s",
                                },
                            ],
                        },
                    ],
                },
                {
                    "type": "TextBlock",
                    "text": "- firing HighCPUUsage on payment-service:8080: HighCPUUsage on"
                    " payment-service",
                    "wrap": True,
                    "spacing": "None",
                },
            ],
            "actions": [
                _action("Flame graph", links.flame_graph),
                _action("Diff vs baseline", links.diff),
                _action("JVM overview", links.dashboards[0].url),
                _action("Runbook", "https://runbooks.example.com/HighCPUUsage"),
                _action("Silence", group.silence),
                _action("Source", group.source),
            ],
        }
    ]


async def test_a_resolved_group_is_a_good_colored_card(
    teams: tuple[FakeTeams, str], tmp_path: Path
) -> None:
    """A resolved group's headline says RESOLVED, in the `Good` colour."""
    await _reference_delivered(teams, tmp_path, "resolved.json")
    (card,) = teams[0].cards
    head = card["body"][0]
    assert (head["text"].split(" ")[0], head["color"]) == ("[RESOLVED]", "Good")


async def test_a_refused_signature_is_permanent_and_dead_lettered(
    teams: tuple[FakeTeams, str], tmp_path: Path
) -> None:
    """401 for a wrong signature: one attempt, no retry, a dead letter; the URL never logged."""
    fake, url = teams
    config = _config(tmp_path, url=url.replace("s3cr3t-sig", "wrong-sig"))
    time = FakeTime()
    metrics = await _deliver(config, load_payload("firing.json"), reference_enrichment, time)
    assert (fake.attempts, fake.cards, time.sleeps) == (1, [], [])
    assert 'flamebot_notifications_total{notifier="teams",outcome="failed"} 1.0' in metrics
    assert "flamebot_dead_letters_total 1.0" in metrics


async def test_5xx_and_429_are_retried_honouring_retry_after(
    teams: tuple[FakeTeams, str], tmp_path: Path
) -> None:
    """A 503 then a 429 (Retry-After: 2) are retried by the pipeline; the third post lands."""
    fake, url = teams
    fake.script = [503, 429]
    time = FakeTime()
    metrics = await _deliver(
        _config(tmp_path, url=url), load_payload("firing.json"), reference_enrichment, time
    )
    assert (fake.attempts, len(fake.cards)) == (3, 1)
    assert len(time.sleeps) == 2
    assert 0.8 <= time.sleeps[0] <= 1.2  # the first backoff
    assert 2.0 <= time.sleeps[1] <= 2.4  # the second, at least Retry-After
    assert 'flamebot_notifications_total{notifier="teams",outcome="retry"} 2.0' in metrics
    assert 'flamebot_notifications_total{notifier="teams",outcome="ok"} 1.0' in metrics


async def test_the_url_can_come_from_a_file(teams: tuple[FakeTeams, str], tmp_path: Path) -> None:
    """`url_file` is read once (trailing newline stripped); `url` and `url_file` together fail."""
    fake, url = teams
    (tmp_path / "teams-url").write_text(url + "\n")
    entry = {"name": "t", "type": "teams", "url_file": str(tmp_path / "teams-url")}
    environ = {
        "FLAMEBOT__NOTIFIERS": json.dumps([entry]),
        "FLAMEBOT__STORE__PATH": str(tmp_path / "flamebot.db"),
    }
    config = load_config(None, environ=environ)
    await _deliver(config, load_payload("firing.json"), reference_enrichment, FakeTime())
    assert len(fake.cards) == 1
    both = {**environ, "FLAMEBOT__NOTIFIERS": json.dumps([{**entry, "url": url}])}
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ=both)
    assert caught.value.problems == ["notifiers.0.url_file: set either url or url_file, not both"]


def _huge_enrichment(payload: WebhookPayload) -> EnrichmentResult:
    """32 services, each with a long action and six dashboards of 1 KB links."""
    base = fleet_enrichment(payload)
    services = []
    for analysis in base.services * 4:
        boards = [Link(title=f"Board {n}", url="https://g.example/" + "d" * 1000) for n in range(6)]
        links = analysis.links.model_copy(update={"dashboards": boards})
        action = f"{analysis.action} " + "x" * 2500
        services.append(analysis.model_copy(update={"action": action, "links": links}))
    return base.model_copy(update={"services": services})


def test_a_big_group_is_trimmed_to_fit_and_says_so() -> None:
    """32 services and 40 alerts do not fit 28 KB: fewer are shown, and the card says so."""
    payload = fleet_payload()
    message = render_card(payload, _huge_enrichment(payload))
    body = json.dumps(message, ensure_ascii=False).encode()
    assert len(body) <= CARD_BUDGET < MESSAGE_LIMIT
    assert envelope_errors(message) == []
    card = message["attachments"][0]["content"]
    assert card["body"][-1] == {
        "type": "TextBlock",
        "text": "29 more services, 35 more alerts not shown (trimmed to fit Teams' 28 KB"
        " message limit)",
        "wrap": True,
        "isSubtle": True,
    }
    assert [c["items"][0]["text"] for c in card["body"] if c["type"] == "Container"] == [
        "payment-service: CPU-BOUND (analysis severity warning)",
        "payment-service: CPU-BOUND (analysis severity warning)",
        "payment-service: CPU-BOUND (analysis severity warning)",
    ]


async def test_the_fake_refuses_a_message_above_28_kb(teams: tuple[FakeTeams, str]) -> None:
    """The fake endpoint answers 413 to a message above 28 KB, as Teams does."""
    fake, url = teams
    card = {"$schema": "x", "type": "AdaptiveCard", "version": "1.4", "body": []}
    card["body"] = [{"type": "TextBlock", "text": "y" * (MESSAGE_LIMIT + 1)}]
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, json={"type": "message", "attachments": [card]})
    assert (answer.status_code, fake.cards) == (413, [])


@pytest.mark.parametrize(
    ("card", "errors"),
    [
        (
            {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock"}]},
            [
                "content.$schema: missing or not the Adaptive Card schema",
                "content.version: '1.5' is not 1.0-1.4",
                "content.body[0].text: required",
                "content.body[0].text: not a string",
            ],
        ),
        (
            {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "Table", "rows": []},
                    {"type": "TextBlock", "text": "a", "size": "Huge", "wrap": "yes"},
                    {"type": "FactSet", "facts": [{"title": "a"}]},
                    {"type": "Container", "items": [{"type": "ActionSet", "actions": []}, {}]},
                ],
                "actions": [
                    {"type": "Action.Submit", "title": "Go"},
                    {"type": "Action.OpenUrl", "title": "", "url": "javascript:alert(1)"},
                ],
            },
            [
                "content.body[0]: unknown element type 'Table'",
                "content.body[1].size: 'Huge' is not one of"
                " ['Default', 'ExtraLarge', 'Large', 'Medium', 'Small']",
                "content.body[1].wrap: not a boolean",
                "content.body[2].facts[0]: title and value strings are required",
                "content.body[3].items[1]: unknown element type None",
                "content.actions[0]: only Action.OpenUrl works in a webhook card",
                "content.actions[1].title: required",
                "content.actions[1].url: an absolute http(s) URL is required",
            ],
        ),
    ],
)
def test_the_fake_checks_the_adaptive_card_essentials(
    card: dict[str, Any], errors: list[str]
) -> None:
    """Schema, type, version <= 1.4, known element types, required fields, OpenUrl only."""
    assert card_errors(card) == errors


async def test_the_fake_answers_a_bad_envelope_with_400(teams: tuple[FakeTeams, str]) -> None:
    """A card posted without the message envelope is refused with 400 and the reason."""
    fake, url = teams
    card = render_card(
        load_payload("firing.json"), reference_enrichment(load_payload("firing.json"))
    )
    async with httpx.AsyncClient() as client:
        bare = await client.post(url, json=card["attachments"][0]["content"])
        wrong = await client.post(url, json={**card, "attachments": [{"contentType": "x"}]})
    assert (bare.status_code, bare.json()["error"]["details"]) == (400, ["type: must be message"])
    assert wrong.json()["error"]["details"] == [
        "attachments[0].contentType: must be application/vnd.microsoft.card.adaptive"
    ]
    assert fake.cards == []
