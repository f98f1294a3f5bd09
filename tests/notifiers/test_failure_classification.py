"""The one failure classification every notifier shares: status -> retry decision."""

from __future__ import annotations

import email.utils
import json
import socket
from datetime import UTC, datetime

import httpx
import pytest

from receiver.errors import NotifyError
from receiver.models import WebhookPayload
from receiver.notifiers import INTEGRATIONS
from receiver.notifiers.base import check_status, parse_retry_after
from receiver.notifiers.registry import NotifierContext
from receiver.notifiers.webhook import WebhookNotifier, WebhookNotifierSettings
from receiver.seams import Notification
from tests.conftest import load_payload
from tests.fakes.notifiers import FixedEnricher, MemoryConversations

STATUS_TABLE = [
    (200, None),
    (201, None),
    (202, None),
    (204, None),
    (301, False),
    (304, False),
    (400, False),
    (401, False),
    (403, False),
    (404, False),
    (409, False),
    (413, False),
    (422, False),
    (429, True),
    (500, True),
    (502, True),
    (503, True),
    (504, True),
]


@pytest.mark.parametrize(("status", "retryable"), STATUS_TABLE)
def test_each_status_has_one_retry_decision(status: int, retryable: bool | None) -> None:
    """2xx is success; 429 and 5xx are retryable; every other status is permanent."""
    if retryable is None:
        check_status("x", status)
        return
    with pytest.raises(NotifyError) as caught:
        check_status("x", status, detail="why")
    assert (str(caught.value), caught.value.retryable) == (f"x: HTTP {status}: why", retryable)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_retry_after_in_seconds(header: str | None, seconds: float | None) -> None:
    """Retry-After as delta-seconds; nonsense is ignored, negatives mean now."""
    assert parse_retry_after(header) == seconds


def test_retry_after_as_http_date() -> None:
    """Retry-After as an HTTP date is the time left until then."""
    now = datetime(2026, 11, 25, 17, 0, 0, tzinfo=UTC).timestamp()
    header = email.utils.formatdate(now + 90, usegmt=True)
    assert parse_retry_after(header, now=now) == 90.0


def test_retry_after_is_kept_only_when_retrying() -> None:
    """A 429's Retry-After travels with the error; a 400's is dropped."""
    with pytest.raises(NotifyError) as limited:
        check_status("x", 429, retry_after="12")
    with pytest.raises(NotifyError) as refused:
        check_status("x", 400, retry_after="12")
    assert (limited.value.retry_after, refused.value.retry_after) == (12.0, None)


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (429, True), (404, False)])
async def test_webhook_notifier_posts_json_and_classifies(status: int, retryable: bool) -> None:
    """The webhook notifier POSTs {id, route, group, enrichment} with its bearer token."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200 if len(seen) == 1 else status, headers={"Retry-After": "3"})

    settings = WebhookNotifierSettings(
        name="hook", type="webhook", url="http://hook.example/in", bearer_token="tok-1"
    )
    notifier = WebhookNotifier(settings, transport=httpx.MockTransport(answer))
    payload = WebhookPayload.model_validate(load_payload("firing.json"))
    sent = Notification(3, "default", payload, await FixedEnricher().enrich(payload))
    await notifier.notify(sent)
    body = json.loads(seen[0].content)
    assert (body["id"], body["route"], body["group"]["groupKey"]) == (
        3,
        "default",
        payload.group_key,
    )
    assert body["enrichment"]["services"] == []
    assert seen[0].headers["Authorization"] == "Bearer tok-1"
    assert seen[0].headers["User-Agent"] == "flamebot/0.1"
    with pytest.raises(NotifyError) as caught:
        await notifier.notify(sent)
    assert (str(caught.value), caught.value.retryable) == (
        f"webhook hook: HTTP {status}",
        retryable,
    )
    assert caught.value.retry_after == (3.0 if retryable else None)
    await notifier.aclose()


# Every integration that talks to a far end, pointed where nothing listens (a key in the URL).
UNREACHABLE = {
    "webhook": ({"url": "{down}/in?key=abc"}, "webhook mine: transport error (ConnectError)"),
    "slack": (
        {"token": "xoxb-test", "channel": "#c", "api_url": "{down}/api/"},
        "slack chat.postMessage: transport error (ClientConnectorError)",
    ),
    "pagerduty": (
        {"routing_key": "R" * 32, "events_url": "{down}/v2/enqueue?key=abc"},
        "pagerduty events: transport error (ConnectError)",
    ),
    "teams": (
        {"url": "{down}/workflows/f/invoke?sig=abc"},
        "teams mine: transport error (ConnectError)",
    ),
}


def test_every_integration_that_sends_is_in_the_unreachable_table() -> None:
    """Only the console writes locally; every other integration is checked below."""
    assert sorted(UNREACHABLE) == sorted(set(INTEGRATIONS) - {"console"})


@pytest.mark.parametrize("tag", sorted(UNREACHABLE))
async def test_a_refused_connection_is_retryable_and_keeps_the_url_out(tag: str) -> None:
    """Each notifier classifies a refused connection as retryable, never echoing the URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening
        extra, message = UNREACHABLE[tag]
        fields = {k: v.replace("{down}", down) for k, v in extra.items()}
        settings = INTEGRATIONS[tag].settings(name="mine", type=tag, **fields)
        notifier = INTEGRATIONS[tag].build(settings, NotifierContext(MemoryConversations()))
        payload = WebhookPayload.model_validate(load_payload("firing.json"))
        enrichment = await FixedEnricher().enrich(payload)
        try:
            with pytest.raises(NotifyError) as caught:
                await notifier.notify(Notification(1, "default", payload, enrichment))
        finally:
            await notifier.aclose()
    assert (str(caught.value), caught.value.retryable) == (message, True)
    assert down not in str(caught.value)
