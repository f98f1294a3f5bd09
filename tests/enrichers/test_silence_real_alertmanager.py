"""The silence link's filter, made into a silence through a real Alertmanager's API v2,
silences exactly the group it came from (PRODUCT.md §7.6): every common label is kept.

One group's values carry what breaks a filter (quotes, backslashes, spaces, commas, braces,
UTF-8); another's label names are not classic Prometheus names (`service.name`, UTF-8),
which Alertmanager 0.28 (the build `install-tools.sh` installs) takes in alerts, routes
and silences. Each has siblings differing in one label only, which stay unsilenced.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import yaml

from enrichers.links import silence_url
from enrichers.linkset import group_links
from receiver.models import WebhookPayload
from tests.support.alertmanager import (
    Alertmanager,
    alertmanager_binary,
    firing_alert,
    running_alertmanager,
    webhook_config,
)
from tests.support.waiting import wait_until

MATCHER = re.compile(
    r'\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<name>[A-Za-z_][A-Za-z0-9_]*))'
    r'="(?P<value>(?:[^"\\]|\\.)*)"\s*(?:,|$)'
)
COMMON = {
    "alertname": "HighCpuUsage",
    "job": "jvm",
    "team": 'pay "core" \\ ops, {eu}',
    "owner": "équipe paiement ✓",
}
SIBLING = {**COMMON, "team": "pay"}  # one label differs: another group, not silenced
# OpenTelemetry's resource attributes as labels, and a UTF-8 name.
OTEL = {
    "alertname": "HighCpuUsage",
    "service.name": "checkout",
    "deployment.environment": "prod",
    "équipe": "paiements ✓",
}
OTEL_SIBLINGS = {
    "pay-3:9404": {**OTEL, "service.name": "checkout-eu"},
    "pay-4:9404": {**OTEL, "deployment.environment": "staging"},
}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def filter_matchers(url: str) -> list[dict[str, Any]]:
    """The silence link's `filter` as API v2 matchers (Alertmanager's own filter syntax)."""
    text = unquote(url.split("/#/silences/new?filter=", 1)[1])
    assert text.startswith("{")
    assert text.endswith("}")
    body, matchers, at = text[1:-1], [], 0
    while at < len(body):
        found = MATCHER.match(body, at)
        assert found is not None, f"unparsable filter at {body[at:]!r}"
        name = found["name"] or _unescape(found["quoted"])
        matchers.append(
            {"name": name, "value": _unescape(found["value"]), "isRegex": False, "isEqual": True}
        )
        at = found.end()
    return matchers


@pytest.fixture
def capture() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on loopback keeping each body Alertmanager posts."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/webhook", bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def silence_from_link(
    am: Alertmanager, bodies: list[dict[str, Any]], common: dict[str, str]
) -> tuple[str, list[dict[str, Any]]]:
    """Waits for the two-alert group of `common`, builds its silence link as flamebot does and
    creates a silence from the link's filter through the API: (its id, its matchers)."""
    wait_until(
        lambda: any(len(b["alerts"]) == 2 and b["commonLabels"] == common for b in bodies),
        what="the two-alert group's webhook",
    )
    payload = WebhookPayload.model_validate(next(b for b in bodies if b["commonLabels"] == common))
    links = group_links(
        payload.alerts, payload.common_annotations, payload.common_labels, payload.external_url
    )
    assert links.silence is not None
    assert links.silence.startswith(am.url + "/#/silences/new?filter=")
    matchers = filter_matchers(links.silence)
    assert {m["name"]: m["value"] for m in matchers} == common
    silence = {
        "matchers": matchers,
        "startsAt": datetime.now(UTC).isoformat(),
        "endsAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "createdBy": "flamebot tests",
        "comment": "from the silence link",
    }
    created = httpx.post(f"{am.url}/api/v2/silences", json=silence, timeout=5)
    assert created.status_code == 200, created.text
    silence_id: str = created.json()["silenceID"]
    return silence_id, matchers


def statuses(am: Alertmanager) -> dict[str, tuple[str, list[str]]]:
    """Each alert's (state, silencedBy) by instance, as the API lists them."""
    return {
        a["labels"]["instance"]: (a["status"]["state"], a["status"]["silencedBy"])
        for a in am.alerts()
    }


def suppressed(am: Alertmanager) -> set[str]:
    """The instances of the alerts Alertmanager lists as suppressed."""
    return {instance for instance, (state, _) in statuses(am).items() if state == "suppressed"}


def test_the_silence_link_silences_exactly_its_group(
    tmp_path: Path, capture: tuple[str, list[dict[str, Any]]]
) -> None:
    """Both alerts of the group are silenced by the link's matchers; the sibling is not."""
    url, bodies = capture
    config = webhook_config(url, token="t", group_by=["alertname", "team"])
    starts = datetime.now(UTC) - timedelta(minutes=3)
    group = [firing_alert({**COMMON, "instance": f"pay-{n}:9404"}, starts) for n in (1, 2)]
    sibling = firing_alert({**SIBLING, "instance": "pay-3:9404"}, starts)
    with running_alertmanager(tmp_path, config) as am:
        am.post_alerts([*group, sibling])
        silence_id, _ = silence_from_link(am, bodies, COMMON)
        wait_until(lambda: suppressed(am) >= {"pay-1:9404", "pay-2:9404"})
        assert statuses(am) == {
            "pay-1:9404": ("suppressed", [silence_id]),
            "pay-2:9404": ("suppressed", [silence_id]),
            "pay-3:9404": ("active", []),
        }


def test_the_silence_link_of_a_service_name_group_silences_exactly_it(
    tmp_path: Path, capture: tuple[str, list[dict[str, Any]]]
) -> None:
    """A `service.name` group's link silences its two alerts, not another service or env."""
    url, bodies = capture
    group_by = ["alertname", "service.name", "deployment.environment"]
    config = webhook_config(url, token="t", group_by=group_by)
    starts = datetime.now(UTC) - timedelta(minutes=3)
    group = [firing_alert({**OTEL, "instance": f"pay-{n}:9404"}, starts) for n in (1, 2)]
    siblings = [
        firing_alert({**labels, "instance": i}, starts) for i, labels in OTEL_SIBLINGS.items()
    ]
    with running_alertmanager(tmp_path, config) as am:
        am.post_alerts([*group, *siblings])
        silence_id, matchers = silence_from_link(am, bodies, OTEL)
        wait_until(lambda: suppressed(am) >= {"pay-1:9404", "pay-2:9404"})
        assert statuses(am) == {
            "pay-1:9404": ("suppressed", [silence_id]),
            "pay-2:9404": ("suppressed", [silence_id]),
            "pay-3:9404": ("active", []),
            "pay-4:9404": ("active", []),
        }
        stored = httpx.get(f"{am.url}/api/v2/silence/{silence_id}", timeout=5).json()
    expected = [
        {"name": "alertname", "value": "HighCpuUsage", "isRegex": False, "isEqual": True},
        {"name": "deployment.environment", "value": "prod", "isRegex": False, "isEqual": True},
        {"name": "service.name", "value": "checkout", "isRegex": False, "isEqual": True},
        {"name": "équipe", "value": "paiements ✓", "isRegex": False, "isEqual": True},
    ]
    assert matchers == expected
    assert stored["matchers"] == expected


def test_alertmanagers_own_parser_reads_the_service_name_filter_as_exactly_the_group(
    tmp_path: Path,
) -> None:
    """A route whose `matchers` is the link's filter text takes the group, not its siblings."""
    link = silence_url("http://127.0.0.1:9093", OTEL)
    assert link is not None
    text = unquote(link.split("/#/silences/new?filter=", 1)[1])
    assert text == (
        '{alertname="HighCpuUsage", "deployment.environment"="prod",'
        ' "service.name"="checkout", "équipe"="paiements ✓"}'
    )
    config = {
        "route": {"receiver": "other", "routes": [{"receiver": "group", "matchers": [text]}]},
        "receivers": [{"name": "other"}, {"name": "group"}],
    }
    (tmp_path / "alertmanager.yml").write_text(
        yaml.safe_dump(config, allow_unicode=True), encoding="utf-8"
    )
    amtool = alertmanager_binary().with_name("amtool")
    alerts = {"pay-1:9404": OTEL, "pay-2:9404": OTEL, **OTEL_SIBLINGS}

    def receiver(labels: dict[str, str]) -> str:
        pairs = [f'"{name}"="{value}"' for name, value in labels.items()]
        tested = subprocess.run(
            [amtool, "config", "routes", "test", "--config.file=alertmanager.yml", *pairs],
            cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert tested.returncode == 0, tested.stderr
        return tested.stdout.strip()

    assert {
        instance: receiver({**labels, "instance": instance}) for instance, labels in alerts.items()
    } == {
        "pay-1:9404": "group",
        "pay-2:9404": "group",
        "pay-3:9404": "other",
        "pay-4:9404": "other",
    }
