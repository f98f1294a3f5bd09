"""Fault injection against the flamebot process: far ends failing, backends broken, store locked.

Each fault comes with its exact outcome: what reached Slack or PagerDuty, and by how much
every counter of /metrics moved (the process is fresh, so it counts from zero).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.harness import (
    AUTH,
    Backends,
    alert_group,
    flamebot_config,
    payment_pyroscope,
    reconfigure,
    started,
)
from tests.support.locks import write_lock
from tests.support.metrics import moved
from tests.support.misbehaving import garbage_app, hanging_app
from tests.support.process import REPO, FlamebotProcess, free_port
from tests.support.serving import LoopThread
from tests.support.waiting import wait_until

FIRING_TEXT = (
    "\N{FIRE} [FIRING:1] HighCpuUsage on payment-service: CPU-BOUND,"
    " hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)"
)
ACCEPTED = 'flamebot_webhooks_total{code="200",route="default"}'
REFUSED = 'flamebot_webhooks_total{code="503",route="default"}'
ENRICHED = "flamebot_enrichment_seconds_count"
SLACK_OK = 'flamebot_notifications_total{notifier="slack",outcome="ok"}'
PROMETHEUS_OK = 'flamebot_backend_requests_total{backend="prometheus",outcome="ok"}'
PYROSCOPE_OK = 'flamebot_backend_requests_total{backend="pyroscope",outcome="ok"}'
CPU_BOUND = 'flamebot_analyses_total{severity="critical",verdict="CPU-BOUND"}'
# From start-up: 7 queries; Pyroscope's start-up listing of profile types and 2 flame graphs.
HEALTHY_ANALYSIS = {PROMETHEUS_OK: 7.0, PYROSCOPE_OK: 3.0, CPU_BOUND: 1.0}


def backend(name: str, outcome: str) -> str:
    return f'flamebot_backend_requests_total{{backend="{name}",outcome="{outcome}"}}'


def cli(flamebot: FlamebotProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m receiver <args>` on the process's config, as an operator would run it."""
    command = [sys.executable, "-m", "receiver", *args, "--config", str(flamebot.config_path)]
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )


def settled(flamebot: FlamebotProcess) -> dict[str, float]:
    """/metrics once every accepted notification is fully delivered (or dead)."""
    wait_until(lambda: flamebot.metrics()["flamebot_queue_depth"] == 0)
    return flamebot.metrics()


def post_the_alert(flamebot: FlamebotProcess) -> None:
    """The reference alert's webhook, accepted as the process's first notification."""
    answer = flamebot.post(alert_group("payment-service"), headers=AUTH)
    assert (answer.status_code, answer.json()) == (200, {"status": "accepted", "id": 1})


def delivered_after(notifier: str, retries: int) -> dict[str, float]:
    """What moves when the alert is analysed and reaches `notifier` after `retries` retries."""
    counted = f'flamebot_notifications_total{{notifier="{notifier}",outcome='
    return {
        ACCEPTED: 1.0,
        ENRICHED: 1.0,
        **HEALTHY_ANALYSIS,
        counted + '"retry"}': float(retries),
        counted + '"ok"}': 1.0,
    }


def test_slack_429_then_500s_is_delivered_once(
    backends: Backends, flamebot_factory: Any, tmp_path: Path
) -> None:
    """Slack 429 (Retry-After 1 s), 500, 500, then 200: delivered once, three retries counted."""
    slack = backends.slack
    slack.fail_next(429, "ratelimited", retry_after=1)
    slack.fail_next(500, "internal_error")
    slack.fail_next(500, "internal_error")
    flamebot = started(flamebot_factory, flamebot_config(backends, tmp_path))
    post_the_alert(flamebot)
    assert moved({}, settled(flamebot)) == delivered_after("slack", retries=3)
    assert [m.text for m in slack.top_level()] == [FIRING_TEXT]
    assert [method for method, _ in slack.calls] == ["chat.postMessage"] * 4
    # The waits flamebot chose: Retry-After's 1 s, then backoffs of 0.1 s and 0.2 s (±20 %).
    waits = [event["wait_seconds"] for event in flamebot.events("notify_retrying")]
    assert (len(waits), waits[0]) == (3, 1.0)
    assert 0.08 <= waits[1] <= 0.12
    assert 0.16 <= waits[2] <= 0.24
    times = [at for at, _ in slack.arrivals]
    assert times[1] - times[0] >= 1.0  # and waited: a busy machine only makes this longer


def test_slack_down_past_the_retry_budget_is_a_dead_letter_until_replayed(
    backends: Backends, flamebot_factory: Any, tmp_path: Path
) -> None:
    """Slack 500s past `delivery.max_seconds`: one dead letter, listed; a replay posts it once."""
    slack = backends.slack
    for _ in range(500):
        slack.fail_next(500, "internal_error")
    config = flamebot_config(backends, tmp_path, delivery={"max_seconds": 1.0})
    flamebot = started(flamebot_factory, config)
    post_the_alert(flamebot)
    metrics = settled(flamebot)  # a dead letter is finished work
    attempts = len(slack.calls)
    assert moved({}, metrics) == {
        ACCEPTED: 1.0,
        ENRICHED: 1.0,
        **HEALTHY_ANALYSIS,
        'flamebot_notifications_total{notifier="slack",outcome="retry"}': attempts - 1.0,
        'flamebot_notifications_total{notifier="slack",outcome="failed"}': 1.0,
        "flamebot_dead_letters_total": 1.0,
    }
    assert slack.messages == {}
    listed = json.loads(cli(flamebot, "dead-letters", "--json").stdout)
    assert [{k: v for k, v in letter.items() if k != "created_at"} for letter in listed] == [
        {
            "id": 1,
            "notification_id": 1,
            "notifier": "slack",
            "route": "default",
            "group_key": alert_group("payment-service")["groupKey"],
            "reason": "retry budget exhausted: slack chat.postMessage: HTTP 500: internal_error",
            "attempts": attempts,
            "replayed_at": None,
        }
    ]

    slack.script.clear()  # Slack is back
    replayed = cli(flamebot, "replay", "1")
    assert (replayed.returncode, replayed.stdout) == (
        0,
        "replay: dead letter 1 delivered to slack\n",
    )
    assert [m.text for m in slack.top_level()] == [FIRING_TEXT]
    assert cli(flamebot, "replay", "1").stdout.startswith("replay: dead letter 1 was already")
    assert len(slack.messages) == 1


def test_pagerduty_5xx_for_a_while_then_one_trigger(
    backends: Backends, flamebot_factory: Any, tmp_path: Path
) -> None:
    """PagerDuty 500, 502, 503, 500, then 202: one trigger, four retries counted."""
    pagerduty = backends.pagerduty
    pagerduty.script = [500, 502, 503, 500]
    config = flamebot_config(backends, tmp_path, routes={"default": ["pagerduty"]})
    flamebot = started(flamebot_factory, config)
    post_the_alert(flamebot)
    assert moved({}, settled(flamebot)) == delivered_after("pagerduty", retries=4)
    assert [path for _, path, _ in pagerduty.requests] == ["/v2/enqueue"] * 5
    assert [(e["event_action"], e["payload"]["class"]) for e in pagerduty.events] == [
        ("trigger", "CPU-BOUND")
    ]
    assert [i.status for i in pagerduty.incidents] == ["triggered"]


# The service section says what could not be seen first and ends with the action (blind:
# UNKNOWN) or the notes (partial); the numbers of the healthy backend are checked elsewhere.
UNKNOWN_END = (
    "*Action:* no verdict without data: fix what could not be seen, then run"
    " flamebot triage --service payment-service",
)
PARTIAL_END = (
    "*Note:* hotspot unknown: no profile data",
    "*Note:* partial: pyroscope failed; verdict from the data that arrived",
)
UNKNOWN = 'flamebot_analyses_total{severity="unknown",verdict="UNKNOWN"}'
DEADLINE = 1.0  # enrichment.deadline_seconds in these tests
MARGIN = 2.0  # process, Slack call and scheduling on a busy machine (the guide's deadline + 2 s)


def not_seen(reason: str, partial: bool = False) -> str:
    return ":warning: *Not seen:* " + reason + (" \N{EM DASH} verdict from partial data" * partial)


def broken(serve: LoopThread, what: str) -> dict[str, Any]:
    """The config section pointing one backend at a broken stand-in."""
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    return {
        "prometheus down": {"prometheus": {"url": down}},
        "prometheus hangs": {"prometheus": {"url": serve.serve(hanging_app())}},
        "prometheus garbage": {"prometheus": {"url": serve.serve(garbage_app(b"<html>"))}},
        "pyroscope down": {"pyroscope": {"url": down}},
        "pyroscope hangs": {
            "pyroscope": {"url": serve.serve(payment_pyroscope(delay_seconds=60).app())}
        },
        "pyroscope garbage": {
            "pyroscope": {"url": serve.serve(payment_pyroscope(garbage=b"<html>").app())}
        },
    }[what]


def blind(what: str, reason: str, outcome: str, slow: bool) -> Any:
    """A broken Prometheus: UNKNOWN, said first; its 7 requests end with `outcome`."""
    seen = f"prometheus {reason}"
    requests = {backend("prometheus", outcome): 7.0, PYROSCOPE_OK: 3.0, UNKNOWN: 1.0}
    section = (not_seen(seen), *UNKNOWN_END)
    return pytest.param(what, f"UNKNOWN ({seen})", section, requests, slow, id=what)


# A broken Pyroscope fails twice: the start-up listing of profile types, then the alert's
# own `Series` (a listing that failed names no service); the runtime then comes from the
# metric names Prometheus has for the service (one request more).
def partial(what: str, reason: str, outcome: str, slow: bool) -> Any:
    """A broken Pyroscope: the CPU verdict from partial data; its 2 requests end with `outcome`."""
    requests = {PROMETHEUS_OK: 8.0, backend("pyroscope", outcome): 2.0, CPU_BOUND: 1.0}
    section = (not_seen(f"pyroscope {reason}", partial=True), *PARTIAL_END)
    summary = "CPU-BOUND (verdict from partial data: pyroscope failed)"
    return pytest.param(what, summary, section, requests, slow, id=what)


NO_ANSWER = "unreachable (no answer within the 1 s deadline)"
NOT_JSON = "failed (invalid response: Series: Expecting value: line 1 column 1 (char 0))"
BROKEN_BACKENDS = [
    blind("prometheus down", "unreachable (connection refused)", "error", slow=False),
    blind("prometheus hangs", NO_ANSWER, "timeout", slow=True),
    blind("prometheus garbage", "failed (invalid response: JSONDecodeError)", "error", slow=False),
    partial("pyroscope down", "unreachable (connection refused)", "error", slow=False),
    partial("pyroscope hangs", NO_ANSWER, "timeout", slow=True),
    partial("pyroscope garbage", NOT_JSON, "error", slow=False),
]


@pytest.mark.parametrize(
    ("what", "summary", "section", "requests", "slow"),
    BROKEN_BACKENDS,
)
def test_broken_backend_still_delivers_in_time_and_names_itself(
    backends: Backends,
    flamebot_factory: Any,
    tmp_path: Path,
    serve: LoopThread,
    what: str,
    summary: str,
    section: tuple[str, ...],
    requests: dict[str, float],
    slow: bool,
) -> None:
    """A broken backend costs at most the deadline and is named; blind is UNKNOWN, not HEALTHY."""
    config = flamebot_config(
        backends, tmp_path, enrichment={"deadline_seconds": DEADLINE}, **broken(serve, what)
    )
    flamebot = started(flamebot_factory, config)
    posted = time.monotonic()
    post_the_alert(flamebot)
    wait_until(lambda: backends.slack.messages)
    arrived = backends.slack.arrivals[0][0]
    assert arrived - posted < DEADLINE + MARGIN
    assert arrived - posted >= (DEADLINE if slow else 0.0)
    (message,) = backends.slack.top_level()
    assert message.text == f"\N{FIRE} [FIRING:1] HighCpuUsage on payment-service: {summary}"
    sections = {block["block_id"]: block for block in message.blocks}
    lines = sections["service-0"]["text"]["text"].split("\n")
    assert (lines[1], *lines[1 - len(section) :]) == (section[0], *section[1:])
    # The abandoned requests of a hanging backend end at its client timeout (2 s).
    backend_requests = {k: v for k, v in requests.items() if k.startswith("flamebot_backend")}
    wait_until(
        lambda: moved({}, flamebot.metrics(), only=("flamebot_backend",)) == backend_requests
    )
    metrics = settled(flamebot)
    assert moved({}, metrics) == {ACCEPTED: 1.0, ENRICHED: 1.0, **requests, SLACK_OK: 1.0}
    enrichment_seconds = metrics["flamebot_enrichment_seconds_sum"]
    assert DEADLINE <= enrichment_seconds < DEADLINE + MARGIN if slow else enrichment_seconds < 1


def test_locked_store_answers_503_then_accepts_the_same_webhook(
    backends: Backends, flamebot_factory: Any, tmp_path: Path
) -> None:
    """A locked store answers 503 unavailable; once released the same webhook is accepted."""
    flamebot = started(flamebot_factory, flamebot_config(backends, tmp_path))
    body = alert_group("payment-service")
    with write_lock(tmp_path / "flamebot.db"):
        refused = flamebot.post(body, headers=AUTH)
        assert (refused.status_code, refused.json()) == (
            503,
            {"error": "unavailable", "detail": "store unavailable"},
        )
        ready = httpx.get(f"{flamebot.url}/readyz", timeout=10)
        assert (ready.status_code, ready.json()) == (
            503,
            {"error": "unavailable", "detail": {"store": False, "workers": True}},
        )
    accepted = flamebot.post(body, headers=AUTH)
    assert (accepted.status_code, accepted.json()) == (200, {"status": "accepted", "id": 1})
    ready = httpx.get(f"{flamebot.url}/readyz", timeout=10)
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "checks": {"store": True, "workers": True}},
    )
    assert moved({}, settled(flamebot)) == {
        REFUSED: 1.0,
        ACCEPTED: 1.0,
        ENRICHED: 1.0,
        **HEALTHY_ANALYSIS,
        SLACK_OK: 1.0,
    }
    assert [m.text for m in backends.slack.top_level()] == [FIRING_TEXT]


@pytest.mark.parametrize("notifier", ["slack", "pagerduty"])
def test_store_locked_while_a_send_is_in_flight_delays_only_its_record(
    backends: Backends, flamebot_factory: Any, tmp_path: Path, notifier: str
) -> None:
    """A store locked as the far end answers delays the record, never drops or repeats the send."""
    far_end = backends.slack if notifier == "slack" else backends.pagerduty
    far_end.holding = True
    config = flamebot_config(backends, tmp_path, routes={"default": [notifier]})
    flamebot = started(flamebot_factory, config)
    post_the_alert(flamebot)
    wait_until(lambda: far_end.held == 1)
    with write_lock(tmp_path / "flamebot.db"):
        far_end.holding = False
        wait_until(lambda: flamebot.events("store_write_postponed"))
        assert flamebot.metrics()["flamebot_queue_depth"] == 1.0
    assert moved({}, settled(flamebot)) == {
        ACCEPTED: 1.0,
        ENRICHED: 1.0,
        **HEALTHY_ANALYSIS,
        f'flamebot_notifications_total{{notifier="{notifier}",outcome="ok"}}': 1.0,
    }
    if notifier == "slack":
        assert [m.text for m in backends.slack.top_level()] == [FIRING_TEXT]
        assert [method for method, _ in backends.slack.calls] == ["chat.postMessage"]
    else:
        assert [e["event_action"] for e in backends.pagerduty.events] == ["trigger"]
        assert [path for _, path, _ in backends.pagerduty.requests] == ["/v2/enqueue"]


def test_store_locked_while_enriching_still_delivers(
    backends: Backends, flamebot_factory: Any, tmp_path: Path, serve: LoopThread
) -> None:
    """A store locked during enrichment loses the cached analysis, never the delivery."""
    slow_pyroscope = serve.serve(payment_pyroscope(delay_seconds=0.5).app())
    config = flamebot_config(backends, tmp_path, pyroscope={"url": slow_pyroscope})
    flamebot = started(flamebot_factory, config)
    answer = flamebot.post(alert_group("payment-service"), headers=AUTH)
    with write_lock(tmp_path / "flamebot.db"):  # enrichment takes 1.5 s: Series, two graphs
        assert (answer.status_code, answer.json()) == (200, {"status": "accepted", "id": 1})
        wait_until(lambda: flamebot.events("enrichment_not_saved"))
        wait_until(lambda: flamebot.events("store_write_postponed"))
        assert backends.slack.calls == []
    assert moved({}, settled(flamebot)) == {
        ACCEPTED: 1.0,
        ENRICHED: 1.0,
        **HEALTHY_ANALYSIS,
        SLACK_OK: 1.0,
    }
    assert [m.text for m in backends.slack.top_level()] == [FIRING_TEXT]
    with sqlite3.connect(f"file:{tmp_path / 'flamebot.db'}?mode=ro", uri=True) as db:
        assert db.execute("SELECT id, enrichment FROM notifications").fetchall() == [(1, None)]


def test_full_store_answers_503_until_it_can_grow(
    backends: Backends, flamebot_factory: Any, tmp_path: Path
) -> None:
    """A full store answers 503 and keeps no record; given room, the same webhook is accepted."""
    small = alert_group("payment-service")
    big = alert_group("order-service")
    big["alerts"][0]["annotations"]["description"] = "x" * 200_000  # 50 pages of 4 KiB
    config = flamebot_config(backends, tmp_path, store={"max_page_count": 24})
    flamebot = started(flamebot_factory, config)
    assert flamebot.post(small, headers=AUTH).json() == {"status": "accepted", "id": 1}
    settled(flamebot)
    for _ in range(2):
        refused = flamebot.post(big, headers=AUTH)
        assert (refused.status_code, refused.json()) == (
            503,
            {"error": "unavailable", "detail": "store unavailable"},
        )
    assert moved({}, flamebot.metrics()) == {
        ACCEPTED: 1.0,
        REFUSED: 2.0,
        ENRICHED: 1.0,
        **HEALTHY_ANALYSIS,
        SLACK_OK: 1.0,
    }
    with sqlite3.connect(f"file:{tmp_path / 'flamebot.db'}?mode=ro", uri=True) as db:
        assert db.execute("SELECT id FROM notifications").fetchall() == [(1,)]

    assert flamebot.terminate() == 0
    reconfigure(flamebot, {**config, "store": {**config["store"], "max_page_count": 1000}})
    flamebot.start()
    answer = flamebot.post(big, headers=AUTH)
    assert (answer.status_code, answer.json()) == (200, {"status": "accepted", "id": 2})
    assert moved({}, settled(flamebot), only=("flamebot_webhooks", "flamebot_notif")) == {
        ACCEPTED: 1.0,
        SLACK_OK: 1.0,
    }
    assert [m.text.split(": ", 1)[0] for m in backends.slack.top_level()] == [
        "\N{FIRE} [FIRING:1] HighCpuUsage on payment-service",
        "\N{FIRE} [FIRING:1] HighCpuUsage on order-service",
    ]
