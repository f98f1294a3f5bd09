"""Wiring for process-level tests: a flamebot config pointing at fake Slack, PagerDuty and
Pyroscope (served from a `LoopThread`) and a real Prometheus, plus Alertmanager-shaped
webhooks. The fixtures that build these live in `tests/reliability/conftest.py`."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from receiver import payloads
from tests.fakes.pyroscope import FakePyroscope, by_window
from tests.support.pagerduty import ControlledPagerDuty
from tests.support.process import FlamebotProcess
from tests.support.slack import ControlledSlack

__all__ = [
    "AUTH",
    "BASELINE_CPU",
    "HANDLER",
    "INCIDENT_CPU",
    "PAYMENT_HOTSPOT",
    "PAYMENT_LABELS",
    "RUN",
    "TOKEN",
    "Backends",
    "alert_group",
    "flamebot_config",
    "payment_pyroscope",
    "reconfigure",
    "started",
]

TOKEN = "am-webhook-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
RUN = ("java/lang/Thread.run", "io/vertx/core/impl/ContextImpl.run")
HANDLER = (*RUN, "com/example/PaymentVerticle.handleTransfer")
INCIDENT_CPU = {
    (*HANDLER, "com/example/PaymentVerticle.sha256"): 342,
    (*HANDLER, "com/example/PaymentVerticle.formatHex"): 200,
    (*HANDLER, "java/math/BigDecimal.<init>"): 300,
    (*RUN, "io/netty/channel/nio/NioEventLoop.select"): 158,
}
BASELINE_CPU = {
    (*HANDLER, "com/example/PaymentVerticle.sha256"): 51,
    (*HANDLER, "java/math/BigDecimal.<init>"): 149,
    (*RUN, "io/netty/channel/nio/NioEventLoop.select"): 800,
}
# The reference hotspot: sha256 is application code, so it is its own culprit.
PAYMENT_HOTSPOT = {
    "function": "com.example.PaymentVerticle.sha256",
    "profile": "cpu",
    "self_pct": 34.2,
    "baseline_pct": 5.1,
    "culprit": "com.example.PaymentVerticle.sha256",
}
# The reference HighCpuUsage alert's labels (no `service` label: the host of `instance` is).
PAYMENT_LABELS = {
    "alertname": "HighCpuUsage",
    "instance": "payment-service:9404",
    "job": "jvm",
    "group": "vertx",
    "verticle": "payment",
    "severity": "warning",
}


# Alerts started shortly before the session: one host's group is one identity all along.
SESSION_STARTS = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)


def alert_group(
    host: str, *, alertname: str = "HighCpuUsage", starts_at: datetime | None = None
) -> dict[str, Any]:
    """A firing webhook as Alertmanager sends it: one alert of `host`, grouped by instance."""
    labels = {**PAYMENT_LABELS, "alertname": alertname, "instance": f"{host}:9404"}
    firing = payloads.alert(
        labels,
        starts_at or SESSION_STARTS,
        annotations={"summary": f"High CPU on {host}"},
        generator_url="http://prometheus.example:9090/graph?g0.expr=up&g0.tab=1",
    )
    return payloads.group(
        [firing], ("alertname", "instance"), external_url="http://alertmanager.example:9093"
    )


def payment_pyroscope(**knobs: Any) -> FakePyroscope:
    """bank-payment-service's CPU profile, as the Java agent writes it: sha256 at 5.1% in the
    baseline, 34.2% now."""
    baseline_before = int(time.time() * 1000) - 30 * 60 * 1000
    cpu = by_window([(baseline_before, BASELINE_CPU), (10**14, INCIDENT_CPU)])
    return FakePyroscope.of_agents({"bank-payment-service": ("jvm", {"cpu": cpu})}, **knobs)


@dataclass
class Backends:
    """The far ends of one flamebot process, and where they listen."""

    slack: ControlledSlack
    slack_url: str
    pagerduty: ControlledPagerDuty
    pagerduty_url: str
    pyroscope_url: str
    prometheus_url: str


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def flamebot_config(backends: Backends, workdir: Path, **sections: Any) -> dict[str, Any]:
    """Route `payments` -> Slack + PagerDuty, `default` -> Slack; short backoffs; auth on."""
    base: dict[str, Any] = {
        "server": {"auth": {"bearer_token": TOKEN}},
        "store": {"path": str(workdir / "flamebot.db")},
        "delivery": {"initial_backoff_seconds": 0.05, "max_backoff_seconds": 0.5},
        "prometheus": {"url": backends.prometheus_url, "timeout_seconds": 2},
        "pyroscope": {"url": backends.pyroscope_url, "timeout_seconds": 2},
        "enrichment": {
            "deadline_seconds": 2,
            "service_map": {"payment-service": "bank-payment-service"},
            "app_prefixes": ["com.example."],
        },
        "notifiers": [
            {
                "name": "slack",
                "type": "slack",
                "token": backends.slack.token,
                "channel": "#payments",
                "api_url": f"{backends.slack_url}/api/",
                # These tests count every Slack call and metric of a delivery; the picture
                # upload beside it is tested in tests/notifiers/test_slack_upload.py.
                "flamegraph": False,
            },
            {
                "name": "pagerduty",
                "type": "pagerduty",
                "routing_key": backends.pagerduty.routing_key,
                "events_url": f"{backends.pagerduty_url}/v2/enqueue",
            },
        ],
        "routes": {"payments": ["slack", "pagerduty"], "default": ["slack"]},
    }
    return _merge(base, sections)


def started(
    factory: Callable[[dict[str, Any]], FlamebotProcess], config: dict[str, Any]
) -> FlamebotProcess:
    """A flamebot process from the `flamebot_factory` fixture, started and healthy."""
    flamebot = factory(config)
    flamebot.start()
    return flamebot


def reconfigure(flamebot: FlamebotProcess, config: dict[str, Any]) -> None:
    """Give a stopped flamebot another config for its next start, on the same port."""
    server = {**config.get("server", {}), "host": "127.0.0.1", "port": flamebot.port}
    flamebot.config_path.write_text(yaml.safe_dump({**config, "server": server}))
