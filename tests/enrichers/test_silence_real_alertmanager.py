"""The silence link's filter, made into a silence through a real Alertmanager's API v2,
silences exactly the group it came from (PRODUCT.md §7.6): every common label is kept.

Alertmanager 0.25 (the Debian build the tests run) refuses label names outside
`[A-Za-z_][A-Za-z0-9_]*` in alerts and silences alike, so a `service.name` group cannot
reach it; the quoting of such names is tested in test_links.py. Here the values carry what
breaks a filter: quotes, backslashes, spaces, commas, braces and UTF-8.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from enrichers.linkset import group_links
from receiver.models import WebhookPayload
from tests.support.alertmanager import firing_alert, running_alertmanager, webhook_config
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
        wait_until(
            lambda: any(len(b["alerts"]) == 2 and b["commonLabels"] == COMMON for b in bodies),
            what="the two-alert group's webhook",
        )
        payload = WebhookPayload.model_validate(
            next(b for b in bodies if b["commonLabels"] == COMMON)
        )
        links = group_links(
            payload.alerts, payload.common_annotations, payload.common_labels, payload.external_url
        )
        assert links.silence is not None
        assert links.silence.startswith(am.url + "/#/silences/new")
        matchers = filter_matchers(links.silence)
        assert {m["name"]: m["value"] for m in matchers} == COMMON
        silence = {
            "matchers": matchers,
            "startsAt": datetime.now(UTC).isoformat(),
            "endsAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "createdBy": "flamebot tests",
            "comment": "from the silence link",
        }
        created = httpx.post(f"{am.url}/api/v2/silences", json=silence, timeout=5)
        assert created.status_code == 200, created.text
        silence_id = created.json()["silenceID"]

        def silenced_instances() -> list[str]:
            return sorted(
                a["labels"]["instance"]
                for a in am.alerts()
                if a["status"]["silencedBy"] == [silence_id]
            )

        wait_until(lambda: silenced_instances() == ["pay-1:9404", "pay-2:9404"])
        states = {a["labels"]["instance"]: a["status"]["state"] for a in am.alerts()}
    assert states == {
        "pay-1:9404": "suppressed",
        "pay-2:9404": "suppressed",
        "pay-3:9404": "active",
    }
