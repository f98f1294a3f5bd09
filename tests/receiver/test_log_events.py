"""The log events operators search for, asserted as structured events (structlog's capture_logs).

Each test names the events it is about and asserts every one of them whole: the event, its
level and its context (route, group_key, receiver, notification id, notifier).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from receiver.dispatch import Dispatcher
from receiver.errors import NotifyError
from receiver.models import WebhookPayload
from receiver.seams import Notification
from receiver.store import Delivery
from tests.conftest import load_payload, make_config
from tests.fakes.clock import FakeTime
from tests.fakes.notifiers import FixedEnricher, RecordingNotifier
from tests.support.locks import write_lock
from tests.support.waiting import SETTLE_SECONDS, wait_until_async

GROUP = '{}:{alertname="HighCPUUsage", service="payment-service"}'
DELIVERY = {"notification_id": 1, "route": "default", "group_key": GROUP, "receiver": "webhook"}


class Buggy(RecordingNotifier):
    """A notifier with a bug: it raises something that is not a NotifyError."""

    async def notify(self, notification: Notification) -> None:
        raise KeyError("channel")


def firing() -> WebhookPayload:
    return WebhookPayload.model_validate(load_payload("firing.json"))


def events(logs: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    """The captured events called one of `names`, in the order they were logged."""
    return [entry for entry in logs if entry["event"] in names]


async def test_intake_logs_accepted_duplicate_and_refused_webhooks(
    harness_factory: Any, tmp_path: Path
) -> None:
    """webhook_accepted, webhook_duplicate, webhook_refused (queue full) and _unauthorized."""
    config = make_config(
        tmp_path, queue={"max_pending": 1}, server={"auth": {"bearer_token": "t0ken"}}
    )
    h = await harness_factory(config)
    h.notifiers["a"].gate = asyncio.Event()  # the first stays pending: the queue is full
    auth = {"Authorization": "Bearer t0ken", "Content-Type": "application/json"}
    other = {**load_payload("firing.json"), "groupKey": "{}:{other}"}
    with capture_logs() as logs:
        assert (await h.post(load_payload("firing.json"), headers=auth))[0] == 200
        assert (await h.post(load_payload("firing.json"), headers=auth))[0] == 200
        assert (await h.post(other, headers=auth))[0] == 503
        assert (await h.post(other))[0] == 401
    context = {"route": "default", "group_key": GROUP, "receiver": "webhook"}
    assert events(logs, "webhook_accepted", "webhook_duplicate", "webhook_refused") == [
        {**context, "event": "webhook_accepted", "id": 1, "alerts": 1, "log_level": "info"},
        {**context, "event": "webhook_duplicate", "id": 1, "log_level": "info"},
        {
            **context,
            "group_key": "{}:{other}",
            "event": "webhook_refused",
            "reason": "1 notifications are waiting",
            "log_level": "warning",
        },
    ]
    [unauthorized] = events(logs, "webhook_unauthorized")
    assert unauthorized == {
        "event": "webhook_unauthorized",
        "route": "default",
        "remote": "127.0.0.1",
        "log_level": "warning",
    }
    h.notifiers["a"].gate.set()


async def test_intake_logs_an_unavailable_store_as_an_error(
    harness_factory: Any, tmp_path: Path
) -> None:
    """A store that cannot take the webhook: webhook_refused at error level, with SQLite's words."""
    h = await harness_factory()
    with write_lock(tmp_path / "flamebot.db"), capture_logs() as logs:
        status, answer = await h.post(load_payload("firing.json"))
    assert (status, answer) == (503, {"error": "unavailable", "detail": "store unavailable"})
    assert events(logs, "webhook_refused") == [
        {
            "event": "webhook_refused",
            "route": "default",
            "group_key": GROUP,
            "receiver": "webhook",
            "reason": "database is locked",
            "log_level": "error",
        }
    ]


async def test_pipeline_logs_each_retry_then_the_success(harness_factory: Any) -> None:
    """notify_retrying (with the wait chosen) for each failure, then notify_succeeded."""
    fake = FakeTime()
    h = await harness_factory(clock=fake.clock, sleep=fake.sleep)
    h.notifiers["a"].failures = [NotifyError("fake", "HTTP 429", retryable=True, retry_after=7.0)]
    with capture_logs() as logs:
        await h.service.accept(
            "default", WebhookPayload.model_validate(load_payload("firing.json"))
        )
        assert await h.service.dispatcher.wait_idle(SETTLE_SECONDS)
    bound = {**DELIVERY, "notifier": "a"}
    assert events(logs, "notify_retrying", "notify_succeeded") == [
        {
            **bound,
            "event": "notify_retrying",
            "error": "fake: HTTP 429",
            "wait_seconds": 7.0,
            "log_level": "warning",
        },
        {**bound, "event": "notify_succeeded", "log_level": "info"},
    ]


@pytest.mark.parametrize(
    ("notifier", "expected"),
    [
        (
            RecordingNotifier("a", [NotifyError("fake", "HTTP 400", retryable=False)]),
            [("notify_failed", "permanent failure: fake: HTTP 400")],
        ),
        (Buggy("a"), [("delivery_crashed", None), ("notify_failed", "internal error: KeyError")]),
    ],
    ids=["permanent-failure", "notifier-bug"],
)
async def test_pipeline_logs_a_dead_letter_with_its_reason(
    harness_factory: Any, notifier: RecordingNotifier, expected: list[tuple[str, str | None]]
) -> None:
    """notify_failed names the reason and the dead letter; a notifier bug is delivery_crashed."""
    h = await harness_factory(notifiers={"a": notifier})
    with capture_logs() as logs:
        await h.service.accept("default", firing())
        assert await h.service.dispatcher.wait_idle(SETTLE_SECONDS)
    bound = {**DELIVERY, "notifier": "a", "log_level": "error"}
    crashed = {**bound, "event": "delivery_crashed", "exc_info": True}
    assert events(logs, "notify_failed", "delivery_crashed") == [
        crashed
        if reason is None
        else {**bound, "event": event, "reason": reason, "dead_letter_id": 1}
        for event, reason in expected
    ]


async def test_a_restart_logs_the_resumed_and_the_interrupted_deliveries(
    harness_factory: Any, tmp_path: Path
) -> None:
    """deliveries_resumed counts what a start found owed; delivery_resumed flags a cut-off send."""
    config = make_config(tmp_path)
    first = await harness_factory(config)
    first.notifiers["a"].gate = asyncio.Event()  # sent, never answered: cut off by the stop
    await first.service.accept("default", firing())
    await wait_until_async(lambda: first.notifiers["a"].attempts)
    await first.service.stop(grace_seconds=0)
    with capture_logs() as logs:
        again = await harness_factory(config)
        assert await again.service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert events(logs, "deliveries_resumed", "delivery_resumed") == [
        {"event": "deliveries_resumed", "count": 1, "log_level": "info"},
        {
            **DELIVERY,
            "notifier": "a",
            "event": "delivery_resumed",
            "reason": "interrupted between send and record",
            "log_level": "warning",
        },
    ]


async def test_a_failing_lane_is_logged_and_the_next_delivery_runs() -> None:
    """A bug escaping the pipeline is lane_failed; the lane goes on with its next delivery."""
    done: list[int] = []

    async def deliver(delivery: Delivery) -> None:
        if delivery.notification_id == 1:
            raise RuntimeError("bug")
        done.append(delivery.notification_id)

    dispatcher = Dispatcher(deliver)
    dispatcher.start()
    with capture_logs() as logs:
        for nid in (1, 2):
            dispatcher.submit(Delivery(nid, "a", "default", GROUP, 0, False, 0.0))
        assert await dispatcher.wait_idle(SETTLE_SECONDS)
    assert done == [2]
    assert events(logs, "lane_failed") == [
        {
            "event": "lane_failed",
            "notifier": "a",
            "group_key": GROUP,
            "exc_info": True,
            "log_level": "error",
        }
    ]


async def test_a_crashing_enricher_is_logged_and_the_alert_still_goes_out(
    harness_factory: Any,
) -> None:
    """enrichment_failed carries the notification id and the traceback; delivery goes on."""

    class Broken(FixedEnricher):
        async def enrich(self, payload: WebhookPayload) -> Any:
            raise RuntimeError("boom")

    h = await harness_factory(enricher=Broken())
    with capture_logs() as logs:
        await h.service.accept("default", firing())
        assert await h.service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert events(logs, "enrichment_failed", "notify_succeeded") == [
        {
            "event": "enrichment_failed",
            "notification_id": 1,
            "exc_info": True,
            "log_level": "error",
        },
        {**DELIVERY, "notifier": "a", "event": "notify_succeeded", "log_level": "info"},
    ]
