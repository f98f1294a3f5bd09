"""A 5,000-alert group through a real Alertmanager fits flamebot's default body limit
(PRODUCT.md §7.6): accepted once and delivered once. Alertmanager never retries a 413."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.alertmanager import firing_alert, running_alertmanager, webhook_config
from tests.support.harness import PAYMENT_LABELS, TOKEN, Backends, flamebot_config, started
from tests.support.metrics import moved
from tests.support.waiting import wait_until

ALERTS = 5000
FIRING_TEXT = (
    "\N{FIRE} [FIRING:5000] HighCpuUsage on payment-service: CPU-BOUND,"
    " hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)"
)


def pod_alerts(starts: datetime) -> list[dict[str, Any]]:
    """The reference alert once per pod: one service, 5,000 alerts, one group by alertname."""
    return [
        firing_alert(
            {**PAYMENT_LABELS, "pod": f"payment-service-{n:04d}"},
            starts,
            {
                "summary": f"High CPU on payment-service-{n:04d}",
                "description": "Process CPU usage is 82% for payment-service:9404",
                "runbook": "Check Pyroscope CPU flame graph for hot methods.",
            },
        )
        for n in range(ALERTS)
    ]


def test_a_5000_alert_group_is_accepted_and_delivered_once(
    backends: Backends, flamebot_factory: Any, tmp_path: Path
) -> None:
    """Alertmanager's one 5,000-alert webhook (3 MB) is answered 200 and posted to Slack once."""
    flamebot = started(flamebot_factory, flamebot_config(backends, tmp_path))
    before = flamebot.metrics()
    # Alerts that start now wait group_wait, so all 5,000 leave in one webhook.
    config = webhook_config(
        f"{flamebot.url}/webhook/payments", token=TOKEN, group_by=["alertname"], group_wait="3s"
    )
    with running_alertmanager(tmp_path, config) as alertmanager:
        alerts = pod_alerts(datetime.now(UTC))
        for first in range(0, ALERTS, 1000):
            alertmanager.post_alerts(alerts[first : first + 1000])
        wait_until(lambda: len(backends.pagerduty.events) == 1, 60, what="the PagerDuty event")
        wait_until(lambda: flamebot.metrics()["flamebot_queue_depth"] == 0, 60)
    after = flamebot.metrics()
    changed = {k: v for k, v in moved(before, after).items() if "backend" not in k}
    # The severity follows the real Prometheus' CPU rate at that moment: not this test's point.
    analyses = {k: v for k, v in changed.items() if k.startswith("flamebot_analyses_total")}
    assert list(analyses.values()) == [1.0]
    assert 'verdict="CPU-BOUND"' in next(iter(analyses))
    assert {k: v for k, v in changed.items() if k not in analyses} == {
        'flamebot_webhooks_total{code="200",route="payments"}': 1.0,
        "flamebot_enrichment_seconds_count": 1.0,
        'flamebot_notifications_total{notifier="slack",outcome="ok"}': 1.0,
        'flamebot_notifications_total{notifier="pagerduty",outcome="ok"}': 1.0,
    }
    assert [m.text for m in backends.slack.top_level()] == [FIRING_TEXT]
    assert [e["event_action"] for e in backends.pagerduty.events] == ["trigger"]
