"""A real Alertmanager 0.28 in front of the flamebot process: fire, repeat, resolve, HA, retry.

Alertmanager runs with group_wait and group_interval of 1 s, so a group's first webhook
comes about a second after the alert is posted; waits poll for the outcome, never sleep.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.alertmanager import (
    firing_alert,
    resolved_alert,
    running_alertmanager,
    webhook_config,
)
from tests.support.harness import PAYMENT_LABELS, TOKEN, Backends, flamebot_config, started
from tests.support.locks import write_lock
from tests.support.metrics import moved
from tests.support.process import FlamebotProcess
from tests.support.waiting import wait_until

GROUP_KEY = '{}:{alertname="HighCpuUsage", instance="payment-service:9404"}'
FIRING_TEXT = (
    "\N{FIRE} [FIRING:1] HighCpuUsage on payment-service: CPU-BOUND,"
    " hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)"
)
RESOLVED_TEXT = (
    "\N{WHITE HEAVY CHECK MARK} [RESOLVED] HighCpuUsage on payment-service: CPU-BOUND,"
    " hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)"
)
WEBHOOK_OK = 'flamebot_webhooks_total{code="200",route="payments"}'
WEBHOOK_503 = 'flamebot_webhooks_total{code="503",route="payments"}'
DUPLICATES = "flamebot_duplicates_total"
ENRICHED = "flamebot_enrichment_seconds_count"
ANALYSIS_REQUESTS = {
    'flamebot_backend_requests_total{backend="prometheus",outcome="ok"}': 7.0,
    'flamebot_backend_requests_total{backend="pyroscope",outcome="ok"}': 2.0,  # 2 graphs
    'flamebot_analyses_total{severity="critical",verdict="CPU-BOUND"}': 1.0,
}
DELIVERED_ONCE = {
    'flamebot_notifications_total{notifier="slack",outcome="ok"}': 1.0,
    'flamebot_notifications_total{notifier="pagerduty",outcome="ok"}': 1.0,
}


@pytest.fixture
def flamebot(backends: Backends, flamebot_factory: Any, tmp_path: Path) -> FlamebotProcess:
    """flamebot on the process tests' config (Slack and PagerDuty on the `payments` route)."""
    return started(flamebot_factory, flamebot_config(backends, tmp_path))


def payments_route(flamebot: FlamebotProcess, **timings: str) -> dict[str, Any]:
    """An Alertmanager config sending every alert to flamebot's `payments` route."""
    return webhook_config(f"{flamebot.url}/webhook/payments", token=TOKEN, **timings)


def payment_alert(starts: datetime | None = None) -> dict[str, Any]:
    """The reference HighCpuUsage alert (by default firing for three minutes), as posted."""
    starts = starts or datetime.now(UTC) - timedelta(minutes=3)
    return firing_alert(PAYMENT_LABELS, starts, {"summary": "CPU"})


def requests_per_backend(metrics: dict[str, float], backend: str) -> float:
    """Backend answers of any outcome (a resolve may fall into a fresh 30 s cache bucket)."""
    prefix = f'flamebot_backend_requests_total{{backend="{backend}",'
    return sum(value for name, value in metrics.items() if name.startswith(prefix))


def test_fire_repeat_resolve_is_one_conversation(
    backends: Backends, flamebot: FlamebotProcess, tmp_path: Path
) -> None:
    """Fire, repeats, resolve: one Slack message updated and threaded, PD trigger then resolve."""
    before = flamebot.metrics()
    config = payments_route(flamebot, repeat_interval="1s")
    slack, pagerduty = backends.slack, backends.pagerduty
    with running_alertmanager(tmp_path, config) as alertmanager:
        starts = datetime.now(UTC) - timedelta(minutes=3)
        alertmanager.post_alerts([payment_alert(starts)])
        wait_until(lambda: flamebot.metrics().get(DUPLICATES, 0) >= 2)
        firing = flamebot.metrics()
        repeats = firing[DUPLICATES]
        assert moved(before, firing) == {
            WEBHOOK_OK: 1 + repeats,
            DUPLICATES: repeats,
            ENRICHED: 1.0,
            **ANALYSIS_REQUESTS,
            **DELIVERED_ONCE,
        }
        assert [m.text for m in slack.top_level()] == [FIRING_TEXT]
        assert [e["event_action"] for e in pagerduty.events] == ["trigger"]

        alertmanager.post_alerts([resolved_alert(PAYMENT_LABELS, starts, datetime.now(UTC))])
        wait_until(lambda: len(pagerduty.events) == 2 and len(slack.messages) == 2)
        wait_until(lambda: flamebot.metrics()["flamebot_queue_depth"] == 0)
    resolved = flamebot.metrics()
    late_repeats = resolved[DUPLICATES] - repeats
    assert {k: v for k, v in moved(firing, resolved).items() if "backend" not in k} == {
        WEBHOOK_OK: 1 + late_repeats,
        **({DUPLICATES: late_repeats} if late_repeats else {}),
        ENRICHED: 1.0,
        'flamebot_analyses_total{severity="critical",verdict="CPU-BOUND"}': 1.0,
        **DELIVERED_ONCE,
    }
    assert requests_per_backend(resolved, "prometheus") == 14.0
    # Since start-up: the listing of profile types, then 2 flame graphs per analysis.
    assert requests_per_backend(resolved, "pyroscope") == 5.0
    (message,) = slack.top_level()
    assert (message.channel, message.text) == ("C0PAYMENTS", RESOLVED_TEXT)
    assert [edit["text"] for edit in message.edits] == [FIRING_TEXT]
    assert [m.text for m in slack.replies(message.ts)] == [
        "\N{WHITE HEAVY CHECK MARK} group resolved: HighCpuUsage is now RESOLVED,"
        " all alerts resolved. payment-service: CPU-BOUND"
    ]
    assert [method for method, _ in slack.calls] == [
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
    ]
    dedup_key = hashlib.sha256(GROUP_KEY.encode()).hexdigest()
    assert [(e["event_action"], e["dedup_key"]) for e in pagerduty.events] == [
        ("trigger", dedup_key),
        ("resolve", dedup_key),
    ]
    assert [i.status for i in pagerduty.incidents] == ["resolved"]


def test_ha_pair_gives_one_message(
    backends: Backends, flamebot: FlamebotProcess, tmp_path: Path
) -> None:
    """Two Alertmanagers (other externalURLs) sending one group give one message and one trigger."""
    before = flamebot.metrics()
    config = payments_route(flamebot)
    alert = payment_alert()
    with (
        running_alertmanager(tmp_path, config, "am-a") as first,
        running_alertmanager(tmp_path, config, "am-b") as second,
    ):
        assert first.url != second.url  # each one's externalURL
        first.post_alerts([alert])
        second.post_alerts([alert])
        wait_until(lambda: flamebot.metrics().get(WEBHOOK_OK) == 2.0)
        wait_until(lambda: flamebot.metrics()["flamebot_queue_depth"] == 0)
    assert moved(before, flamebot.metrics()) == {
        WEBHOOK_OK: 2.0,
        DUPLICATES: 1.0,
        ENRICHED: 1.0,
        **ANALYSIS_REQUESTS,
        **DELIVERED_ONCE,
    }
    assert [m.text for m in backends.slack.top_level()] == [FIRING_TEXT]
    assert [e["event_action"] for e in backends.pagerduty.events] == ["trigger"]


def test_alertmanager_retries_a_locked_store_until_it_is_accepted(
    backends: Backends, flamebot: FlamebotProcess, tmp_path: Path
) -> None:
    """Alertmanager retries the 503s of a locked store and the alert is delivered once after."""
    before = flamebot.metrics()
    config = payments_route(flamebot)
    with (
        write_lock(tmp_path / "flamebot.db") as release,
        running_alertmanager(tmp_path, config) as alertmanager,
    ):
        alertmanager.post_alerts([payment_alert()])
        wait_until(lambda: flamebot.metrics().get(WEBHOOK_503, 0) >= 2)
        assert backends.slack.calls == []
        release()
        wait_until(lambda: len(backends.slack.messages) == 1)
        wait_until(lambda: flamebot.metrics()["flamebot_queue_depth"] == 0)
    after = flamebot.metrics()
    refused, accepted = after[WEBHOOK_503], after[WEBHOOK_OK]
    assert moved(before, after) == {
        WEBHOOK_503: refused,
        WEBHOOK_OK: accepted,
        **({DUPLICATES: accepted - 1} if accepted > 1 else {}),
        ENRICHED: 1.0,
        **ANALYSIS_REQUESTS,
        **DELIVERED_ONCE,
    }
    assert [m.text for m in backends.slack.top_level()] == [FIRING_TEXT]
    assert [e["event_action"] for e in backends.pagerduty.events] == ["trigger"]
