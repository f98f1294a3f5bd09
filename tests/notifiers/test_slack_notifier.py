"""SlackNotifier against a fake Slack: post, update in place, thread replies, restarts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from receiver.config import Config
from receiver.errors import NotifyError
from receiver.models import WebhookPayload
from receiver.notifiers.slack import SlackNotifier, describe_change
from receiver.seams import Notification
from receiver.service import Service
from tests.conftest import load_payload
from tests.fakes.clock import FakeTime
from tests.fakes.notifiers import FixedEnricher, MemoryConversations
from tests.fakes.slack import FakeSlack
from tests.support.waiting import SETTLE_SECONDS


def slack_config(tmp_path: Path, api_url: str, **extra: Any) -> Config:
    notifier = {
        "name": "slack",
        "type": "slack",
        "token": "xoxb-test-token",
        "channel": "#payments",
    }
    notifier.update(api_url=api_url, **extra)
    return Config.model_validate(
        {
            "store": {"path": str(tmp_path / "flamebot.db")},
            "notifiers": [notifier],
            "routes": {"default": ["slack"]},
        }
    )


@pytest.fixture
async def fake_slack(aiohttp_server: Any) -> tuple[FakeSlack, str]:
    fake = FakeSlack()
    server = await aiohttp_server(fake.app())
    return fake, str(server.make_url("/api/"))


async def run(config: Config, *names: str, fake_time: FakeTime | None = None) -> Service:
    """Start a service on `config`, accept the named payloads in order, drain, stop."""
    kwargs: dict[str, Any] = {}
    if fake_time is not None:
        kwargs = {"clock": fake_time.clock, "sleep": fake_time.sleep}
    service = Service(config, enricher=FixedEnricher(), **kwargs)
    await service.start()
    for name in names:
        await service.accept("default", WebhookPayload.model_validate(load_payload(name)))
        assert await service.dispatcher.wait_idle(SETTLE_SECONDS)
    await service.stop()
    return service


async def test_post_update_and_thread_across_a_restart(
    tmp_path: Path, fake_slack: tuple[FakeSlack, str]
) -> None:
    """Firing posts; after a restart the resolve updates that message and replies in thread."""
    fake, url = fake_slack
    config = slack_config(tmp_path, url)
    await run(config, "reference-highcpuusage.json")
    [message] = fake.top_level()
    assert message.channel == "C0PAYMENTS"
    assert message.text == "🔥 [FIRING:1] HighCpuUsage on payment-service: not analysed"
    await run(config, "reference-highcpuusage-resolved.json")
    assert fake.top_level() == [message]
    assert message.text == "✅ [RESOLVED] HighCpuUsage on payment-service: not analysed"
    assert len(message.edits) == 1
    [reply] = fake.replies(message.ts)
    assert "group resolved" in reply.text
    assert [method for method, _ in fake.calls] == [
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
    ]
    update = fake.calls[1][1]
    assert (update["channel"], update["ts"]) == ("C0PAYMENTS", message.ts)


async def test_fires_again_after_resolve_starts_a_new_message(
    tmp_path: Path, fake_slack: tuple[FakeSlack, str]
) -> None:
    """A group that fires again after a full resolve gets a new top-level message."""
    fake, url = fake_slack
    again = load_payload("reference-highcpuusage.json")
    again["alerts"][0]["startsAt"] = "2026-11-25T18:00:00Z"
    config = slack_config(tmp_path, url)
    service = Service(config, enricher=FixedEnricher())
    await service.start()
    for body in (
        load_payload("reference-highcpuusage.json"),
        load_payload("reference-highcpuusage-resolved.json"),
        again,
    ):
        await service.accept("default", WebhookPayload.model_validate(body))
        assert await service.dispatcher.wait_idle(SETTLE_SECONDS)
    await service.stop()
    first, second = fake.top_level()
    assert first.text.startswith("✅ [RESOLVED]")
    assert second.text.startswith("🔥 [FIRING:1]")
    assert len(fake.replies(first.ts)) == 1
    assert fake.replies(second.ts) == []


async def test_partial_resolve_updates_and_says_what_changed(
    tmp_path: Path, fake_slack: tuple[FakeSlack, str]
) -> None:
    """One alert of a two-alert group resolving updates the message: "1 alert resolved"."""
    fake, url = fake_slack
    await run(slack_config(tmp_path, url), "grouped-firing.json", "grouped-partially-resolved.json")
    [message] = fake.top_level()
    assert message.text == "🔥 [FIRING:1, RESOLVED:1] HighCPUUsage on 2 services: not analysed"
    [reply] = fake.replies(message.ts)
    assert "1 alert resolved" in reply.text


async def test_deleted_message_is_posted_again(
    tmp_path: Path, fake_slack: tuple[FakeSlack, str]
) -> None:
    """If the message to update is gone (message_not_found), a new message is posted."""
    fake, url = fake_slack
    config = slack_config(tmp_path, url)
    await run(config, "grouped-firing.json")
    fake.messages.clear()
    await run(config, "grouped-partially-resolved.json")
    [message] = fake.top_level()
    assert message.text == "🔥 [FIRING:1, RESOLVED:1] HighCPUUsage on 2 services: not analysed"


@pytest.mark.parametrize(
    ("status", "error", "retry_after", "retryable", "expected_after", "message"),
    [
        (429, "ratelimited", 3, True, 3.0, "slack chat.postMessage: HTTP 429: ratelimited"),
        (200, "ratelimited", None, True, None, "slack chat.postMessage: ratelimited"),
        (
            500,
            "internal_error",
            None,
            True,
            None,
            "slack chat.postMessage: HTTP 500: internal_error",
        ),
        (
            503,
            "service_unavailable",
            9,
            True,
            9.0,
            "slack chat.postMessage: HTTP 503: service_unavailable",
        ),
        (200, "channel_not_found", None, False, None, "slack chat.postMessage: channel_not_found"),
        (200, "invalid_auth", None, False, None, "slack chat.postMessage: invalid_auth"),
        (200, "invalid_blocks", None, False, None, "slack chat.postMessage: invalid_blocks"),
        (200, "msg_too_long", None, False, None, "slack chat.postMessage: msg_too_long"),
        (
            400,
            "invalid_arguments",
            None,
            False,
            None,
            "slack chat.postMessage: HTTP 400: invalid_arguments",
        ),
        (
            404,
            "unknown_method",
            None,
            False,
            None,
            "slack chat.postMessage: HTTP 404: unknown_method",
        ),
    ],
)
async def test_slack_failures_are_classified(
    tmp_path: Path,
    fake_slack: tuple[FakeSlack, str],
    status: int,
    error: str,
    retry_after: int | None,
    retryable: bool,
    expected_after: float | None,
    message: str,
) -> None:
    """Each Slack answer maps to one retry decision (and Retry-After when retryable)."""
    fake, url = fake_slack
    fake.fail_next(status, error, retry_after)
    settings = slack_config(tmp_path, url).notifiers[0]
    notifier = SlackNotifier(settings, MemoryConversations())  # type: ignore[arg-type]
    payload = WebhookPayload.model_validate(load_payload("firing.json"))
    enrichment = await FixedEnricher().enrich(payload)
    with pytest.raises(NotifyError) as caught:
        await notifier.notify(Notification(1, "default", payload, enrichment))
    assert (str(caught.value), caught.value.retryable, caught.value.retry_after) == (
        message,
        retryable,
        expected_after,
    )
    await notifier.aclose()


async def test_unreachable_slack_is_retryable(tmp_path: Path) -> None:
    """A refused connection is a transport error, retryable."""
    settings = slack_config(tmp_path, "http://127.0.0.1:9/api/").notifiers[0]
    notifier = SlackNotifier(settings, MemoryConversations())  # type: ignore[arg-type]
    payload = WebhookPayload.model_validate(load_payload("firing.json"))
    with pytest.raises(NotifyError) as caught:
        await notifier.notify(
            Notification(1, "default", payload, await FixedEnricher().enrich(payload))
        )
    assert (str(caught.value), caught.value.retryable) == (
        "slack chat.postMessage: transport error (ClientConnectorError)",
        True,
    )
    await notifier.aclose()


async def test_429_retry_after_is_waited_out(
    tmp_path: Path, fake_slack: tuple[FakeSlack, str]
) -> None:
    """Slack's 429 with Retry-After: 4 makes the pipeline wait 4 s, then the post succeeds."""
    fake, url = fake_slack
    fake.fail_next(429, "ratelimited", 4)
    fake.fail_next(500, "internal_error")
    fake_time = FakeTime()
    service = await run(slack_config(tmp_path, url), "firing.json", fake_time=fake_time)
    assert fake_time.sleeps[0] == 4.0
    assert 1.6 <= fake_time.sleeps[1] <= 2.4
    assert len(fake.top_level()) == 1
    text = service.metrics.render().decode()
    assert 'flamebot_notifications_total{notifier="slack",outcome="retry"} 2.0' in text
    assert 'flamebot_notifications_total{notifier="slack",outcome="ok"} 1.0' in text


def test_describe_change_names_what_happened() -> None:
    """The thread reply says which alerts resolved, were added or fire again."""
    firing = WebhookPayload.model_validate(load_payload("grouped-firing.json"))
    partial = WebhookPayload.model_validate(load_payload("grouped-partially-resolved.json"))
    before = {a.key: a.status for a in firing.alerts}
    assert describe_change(before, partial) == "1 alert resolved"
    assert describe_change({}, firing) == "2 alerts added"
    back = copy.deepcopy(load_payload("grouped-partially-resolved.json"))
    back["alerts"][0]["status"] = "firing"
    back["alerts"][0]["endsAt"] = "0001-01-01T00:00:00Z"
    after = {a.key: a.status for a in partial.alerts}
    assert describe_change(after, WebhookPayload.model_validate(back)) == "1 alert firing again"
    resolved = WebhookPayload.model_validate(load_payload("resolved.json"))
    assert describe_change(before, resolved) == "group resolved"
