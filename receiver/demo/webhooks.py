"""Alertmanager webhook bodies (v4) for the demo's alerts, shaped like a real delivery.

Each alert is its own group, grouped by `alertname` and `instance` as the reference
deployment's route does; times come from the scenario's clock, so the bodies (and the
notification identities) are the same on every run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from receiver.demo.scenario import DemoAlert

__all__ = ["ALERTMANAGER_URL", "PROMETHEUS_URL", "webhook"]

ALERTMANAGER_URL = "http://localhost:9093"
PROMETHEUS_URL = "http://localhost:9090"
UNSET = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of a firing alert


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    group = {"alertname": alert.alertname, "instance": alert.instance}
    group_key = "{}:{" + ", ".join(f'{k}="{v}"' for k, v in group.items()) + "}"
    source = f"{PROMETHEUS_URL}/graph?g0.expr={quote_plus(alert.expr)}&g0.tab=1"
    starts = now - timedelta(seconds=alert.seconds_firing)
    return {
        "receiver": "flamebot",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": annotations,
                "startsAt": _rfc3339(starts),
                "endsAt": UNSET,
                "generatorURL": source,
                "fingerprint": alert.fingerprint,
            }
        ],
        "groupLabels": group,
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": ALERTMANAGER_URL,
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
    }
