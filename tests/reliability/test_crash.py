"""kill -9 in the middle of a burst: nothing answered 200 is lost, no Slack message twice
(the sends cut off by the kill are found in Slack's history, by their metadata), every
resumed delivery counted; on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import json
import socket
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.harness import AUTH, Backends, alert_group, flamebot_config
from tests.support.metrics import moved
from tests.support.process import FlamebotProcess
from tests.support.waiting import wait_until

WORKERS = 4
BURST = 50
FIRST_WAVE = 25
DELIVERY = ("flamebot_notifications", "flamebot_resent", "flamebot_dead", "flamebot_webhooks")


def host(i: int) -> str:
    return f"svc-{i:02d}"


def post(flamebot: FlamebotProcess, i: int) -> tuple[int, dict[str, Any]] | str:
    """The answer to webhook `i`, or the name of the transport error (the process died)."""
    try:
        response = flamebot.post(alert_group(host(i)), headers=AUTH)
    except httpx.TransportError as exc:
        return type(exc).__name__
    return response.status_code, response.json()


def half_sent(flamebot: FlamebotProcess, i: int) -> socket.socket:
    """Webhook `i` with only half its body sent: in flight at the kill, whatever the load."""
    body = json.dumps(alert_group(host(i))).encode()
    head = (
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: {AUTH['Authorization']}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", flamebot.port), timeout=10)
    sock.sendall(head.encode() + body[: len(body) // 2])
    return sock


def unanswered(sock: socket.socket) -> str:
    """What the client of a half-sent webhook got once the process died: no answer."""
    with sock:
        try:
            answer = sock.recv(1024)
        except ConnectionError as exc:
            return type(exc).__name__
    assert answer == b""
    return "closed without an answer"


def stored_hosts(store: dict[str, Any]) -> dict[int, str]:
    """Notification id -> host, read from the store the killed process left behind."""
    sql = "SELECT id, group_key FROM notifications"
    if "url" in store:
        with psycopg.connect(store["url"]) as pg:
            rows = pg.execute(sql).fetchall()
    else:
        with sqlite3.connect(f"file:{store['path']}?mode=ro", uri=True) as db:
            rows = db.execute(sql).fetchall()
    return {nid: key.split('instance="', 1)[1].split(":", 1)[0] for nid, key in rows}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_section(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """`store:` of the test's backend."""
    if request.param == "sqlite":
        return {"path": str(tmp_path / "flamebot.db")}
    # The killed process's leases hold its work until they run out: short ones here.
    return {"url": request.getfixturevalue("pg_url"), "lease_seconds": 2}


def test_kill_9_during_a_burst_loses_nothing_and_posts_nothing_twice(
    backends: Backends, flamebot_factory: Any, tmp_path: Path, store_section: dict[str, Any]
) -> None:
    """kill -9 mid-burst with Slack posts in flight: nothing lost, 0 duplicate messages."""
    slack = backends.slack
    slack.holding = True  # Slack posts, but the answer never reaches flamebot
    config = flamebot_config(
        backends,
        tmp_path,
        store=store_section,
        queue={"workers": WORKERS},
        routes={"default": ["slack"]},
    )
    flamebot: FlamebotProcess = flamebot_factory(config)
    flamebot.start()
    with ThreadPoolExecutor(max_workers=10) as client:
        first = [client.submit(post, flamebot, i) for i in range(FIRST_WAVE)]
        # Every slot is now held by a send Slack has carried out: no delivery is between
        # its `sending` record and Slack, so each resend after the kill is a real repeat.
        wait_until(lambda: slack.held == WORKERS and all(f.done() for f in first))
        cut_off = half_sent(flamebot, BURST - 1)
        second: list[Future[tuple[int, dict[str, Any]] | str]] = [
            client.submit(post, flamebot, i) for i in range(FIRST_WAVE, BURST - 1)
        ]
        wait_until(lambda: sum(f.done() for f in second) >= 5, interval=0.001)
        flamebot.kill()
        answers = {i: f.result() for i, f in enumerate([*first, *second])}
        answers[BURST - 1] = unanswered(cut_off)
    in_flight_at_kill = {m.text.split(" on ", 1)[1].split(":", 1)[0] for m in slack.top_level()}
    assert len(in_flight_at_kill) == WORKERS
    accepted = {
        i: answer[1]["id"]
        for i, answer in answers.items()
        if isinstance(answer, tuple) and answer[0] == 200
    }
    refused = {i: answer for i, answer in answers.items() if not isinstance(answer, tuple)}
    assert set(accepted) | set(refused) == set(range(BURST))  # 200 or no answer at all
    assert FIRST_WAVE + 5 <= len(accepted) < BURST  # the kill cut the second wave (half-sent)
    stored = stored_hosts(store_section)
    assert {nid: host(i) for i, nid in accepted.items()}.items() <= stored.items()

    slack.holding = False
    flamebot.start()
    wait_until(lambda: flamebot.metrics()["flamebot_queue_depth"] == 0)
    delivered: dict[str, int] = {}
    for message in slack.top_level():
        name = message.text.split(" on ", 1)[1].split(":", 1)[0]
        delivered[name] = delivered.get(name, 0) + 1
    assert delivered == dict.fromkeys(stored.values(), 1)  # the cut-off sends were found
    looked_up = [body for method, body in slack.calls if method == "conversations.history"]
    assert len(looked_up) == WORKERS
    assert all(body["include_all_metadata"] in ("1", "true", True) for body in looked_up)
    # A new process counts from zero. Enrichments saved before the kill are reused, so only
    # the delivery counters are exact: each cut-off delivery was resumed, and counted.
    assert moved({}, flamebot.metrics(), only=DELIVERY) == {
        'flamebot_resent_after_crash_total{notifier="slack"}': float(WORKERS),
        'flamebot_notifications_total{notifier="slack",outcome="ok"}': float(len(stored)),
    }
