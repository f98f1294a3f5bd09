"""SlackNotifier against a fake Slack: post, update in place, thread replies, restarts."""

from __future__ import annotations

import copy

import pytest

from receiver.errors import NotifyError
from receiver.models import WebhookPayload
from receiver.notifiers.slack import SlackNotifier, describe_change
from receiver.seams import Notification
from tests.conftest import load_payload
from tests.fakes.clock import FakeTime
from tests.fakes.notifiers import FixedEnricher, MemoryConversations
from tests.fakes.slack import FakeSlack
from tests.notifiers.conftest import Far, deliver


async def test_post_update_and_thread_across_a_restart(slack: Far[FakeSlack]) -> None:
    """Firing posts; after a restart the resolve updates that message and replies in thread."""
    fake, config = slack.fake, slack.config()
    await deliver(config, "reference-highcpuusage.json")
    [message] = fake.top_level()
    assert message.channel == "C0PAYMENTS"
    assert message.text == "🔥 [FIRING:1] HighCpuUsage on payment-service: not analysed"
    await deliver(config, "reference-highcpuusage-resolved.json")
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


async def test_fires_again_after_resolve_starts_a_new_message(slack: Far[FakeSlack]) -> None:
    """A group that fires again after a full resolve gets a new top-level message."""
    fake = slack.fake
    again = load_payload("reference-highcpuusage.json")
    again["alerts"][0]["startsAt"] = "2026-11-25T18:00:00Z"
    await deliver(
        slack.config(), "reference-highcpuusage.json", "reference-highcpuusage-resolved.json", again
    )
    first, second = fake.top_level()
    assert first.text.startswith("✅ [RESOLVED]")
    assert second.text.startswith("🔥 [FIRING:1]")
    assert len(fake.replies(first.ts)) == 1
    assert fake.replies(second.ts) == []


async def test_partial_resolve_updates_and_says_what_changed(slack: Far[FakeSlack]) -> None:
    """One alert of a two-alert group resolving updates the message: "1 alert resolved"."""
    fake = slack.fake
    await deliver(slack.config(), "grouped-firing.json", "grouped-partially-resolved.json")
    [message] = fake.top_level()
    assert message.text == "🔥 [FIRING:1, RESOLVED:1] HighCPUUsage on 2 services: not analysed"
    [reply] = fake.replies(message.ts)
    assert "1 alert resolved" in reply.text


async def test_deleted_message_is_posted_again(slack: Far[FakeSlack]) -> None:
    """If the message to update is gone (message_not_found), a new message is posted."""
    fake, config = slack.fake, slack.config()
    await deliver(config, "grouped-firing.json")
    fake.messages.clear()
    await deliver(config, "grouped-partially-resolved.json")
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
    slack: Far[FakeSlack],
    status: int,
    error: str,
    retry_after: int | None,
    retryable: bool,
    expected_after: float | None,
    message: str,
) -> None:
    """Each Slack answer maps to one retry decision (and Retry-After when retryable)."""
    fake = slack.fake
    fake.fail_next(status, error, retry_after)
    settings = slack.config().notifiers[0]
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


async def test_429_retry_after_is_waited_out(slack: Far[FakeSlack]) -> None:
    """Slack's 429 with Retry-After: 4 makes the pipeline wait 4 s, then the post succeeds."""
    fake = slack.fake
    fake.fail_next(429, "ratelimited", 4)
    fake.fail_next(500, "internal_error")
    fake_time = FakeTime()
    service = await deliver(slack.config(), "firing.json", fake_time=fake_time)
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
