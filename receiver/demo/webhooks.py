"""Alertmanager webhook bodies (v4) for the demo's alerts, shaped like a real delivery.

Each alert is its own group, grouped by `alertname` and `instance` as the reference
deployment's route does; times come from the scenario's clock, so the bodies (and the
notification identities) are the same on every run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from receiver import payloads
from receiver.demo.scenario import DemoAlert

__all__ = ["ALERTMANAGER_URL", "PROMETHEUS_URL", "webhook"]

ALERTMANAGER_URL = "http://localhost:9093"
PROMETHEUS_URL = "http://localhost:9090"


def webhook(alert: DemoAlert, now: datetime) -> dict[str, Any]:
    """The webhook Alertmanager posts when `alert` has fired for `alert.seconds_firing`."""
    labels = {
        "alertname": alert.alertname,
        "group": "vertx",
        "instance": alert.instance,
        "job": alert.job,
        "severity": alert.severity,
        "verticle": alert.verticle,
    }
    annotations = {"description": alert.description, "summary": alert.summary}
    if alert.runbook:
        annotations["runbook"] = alert.runbook
    firing = payloads.alert(
        labels,
        now - timedelta(seconds=alert.seconds_firing),
        annotations=annotations,
        generator_url=f"{PROMETHEUS_URL}/graph?g0.expr={quote_plus(alert.expr)}&g0.tab=1",
        fingerprint=alert.fingerprint,
    )
    return payloads.group([firing], ("alertname", "instance"), external_url=ALERTMANAGER_URL)
