"""Overload and shutdown: a bounded queue that refuses with 503, and a SIGTERM that is bounded
by `server.shutdown_grace_seconds` and loses nothing."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.harness import (
    AUTH,
    Backends,
    alert_group,
    flamebot_config,
    reconfigure,
    started,
)
from tests.support.metrics import moved
from tests.support.misbehaving import hanging_app
from tests.support.process import FlamebotProcess
from tests.support.serving import LoopThread
from tests.support.waiting import wait_until

ACCEPTED = 'flamebot_webhooks_total{code="200",route="default"}'
REFUSED = 'flamebot_webhooks_total{code="503",route="default"}'
SLACK_OK = 'flamebot_notifications_total{notifier="slack",outcome="ok"}'
RESENT = 'flamebot_resent_after_crash_total{notifier="slack"}'
PYROSCOPE_OK = 'flamebot_backend_requests_total{backend="pyroscope",outcome="ok"}'
DELIVERY = ("flamebot_webhooks", "flamebot_notifications", "flamebot_resent", "flamebot_dead")
EXIT_MARGIN = 2.0  # seconds past the grace period the process may take to exit


def hosts(count: int) -> list[str]:
    return [f"svc-{i:02d}" for i in range(count)]


def messages_per_host(backends: Backends) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in backends.slack.top_level():
        name = message.text.split(" on ", 1)[1].split(":", 1)[0]
        counts[name] = counts.get(name, 0) + 1
    return counts


def test_full_queue_answers_503_and_drops_nothing(
    backends: Backends, flamebot_factory: Any, tmp_path: Path
) -> None:
    """Past queue.max_pending new webhooks get 503; the queued ones are all delivered later."""
    backends.slack.holding = True
    config = flamebot_config(backends, tmp_path, queue={"max_pending": 5})
    flamebot = started(flamebot_factory, config)
    answers = [flamebot.post(alert_group(name), headers=AUTH) for name in hosts(8)]
    assert [(a.status_code, a.json()) for a in answers] == [
        *[(200, {"status": "accepted", "id": i}) for i in range(1, 6)],
        *[(503, {"error": "unavailable", "detail": "queue full"})] * 3,
    ]
    again = flamebot.post(alert_group("svc-00"), headers=AUTH)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate", "id": 1})
    full = flamebot.metrics()
    assert full["flamebot_queue_depth"] == 5.0
    assert moved({}, full, only=(*DELIVERY, "flamebot_duplicates")) == {
        ACCEPTED: 6.0,
        REFUSED: 3.0,
        "flamebot_duplicates_total": 1.0,
    }

    backends.slack.holding = False
    wait_until(lambda: flamebot.metrics()["flamebot_queue_depth"] == 0)
    late = flamebot.post(alert_group("svc-05"), headers=AUTH)
    assert (late.status_code, late.json()) == (200, {"status": "accepted", "id": 6})
    wait_until(lambda: flamebot.metrics()["flamebot_queue_depth"] == 0)
    assert moved(full, flamebot.metrics(), only=DELIVERY) == {ACCEPTED: 1.0, SLACK_OK: 6.0}
    assert messages_per_host(backends) == dict.fromkeys(hosts(6), 1)


def test_sigterm_finishes_in_flight_work_within_the_grace_period(
    backends: Backends, flamebot_factory: Any, tmp_path: Path
) -> None:
    """SIGTERM with sends in flight: all delivered, exit 0 within the grace period."""
    backends.slack.delay_seconds = 0.5
    grace = 5.0
    config = flamebot_config(backends, tmp_path, server={"shutdown_grace_seconds": grace})
    flamebot = started(flamebot_factory, config)
    for i, name in enumerate(hosts(3), start=1):
        answer = flamebot.post(alert_group(name), headers=AUTH)
        assert answer.json() == {"status": "accepted", "id": i}
    signalled = time.monotonic()
    assert flamebot.terminate(timeout=grace + EXIT_MARGIN) == 0
    assert time.monotonic() - signalled < grace + EXIT_MARGIN
    assert messages_per_host(backends) == dict.fromkeys(hosts(3), 1)
    assert [e["drained"] for e in flamebot.events("service_stopped")] == [True]

    flamebot.start()
    assert flamebot.metrics()["flamebot_queue_depth"] == 0.0
    assert moved({}, flamebot.metrics(), only=DELIVERY) == {}


def refused(flamebot: FlamebotProcess) -> bool:
    """A new webhook finds no listener (True); a connection reset without any answer, as
    the listener closes under it, is no refusal yet (False); an HTTP answer fails."""
    try:
        answer = flamebot.post(alert_group("svc-09"), headers=AUTH)
    except httpx.ConnectError:
        return True
    except httpx.TransportError:
        return False
    raise AssertionError(f"a stopping flamebot answered {answer.status_code}: {answer.text}")


def test_sigterm_stops_accepting_and_persists_what_it_cannot_finish(
    backends: Backends, flamebot_factory: Any, tmp_path: Path
) -> None:
    """SIGTERM with stuck sends: refuses work, exits in time, delivers them after restart."""
    slack = backends.slack
    slack.holding = True
    grace = 1.0
    config = flamebot_config(backends, tmp_path, server={"shutdown_grace_seconds": grace})
    flamebot = started(flamebot_factory, config)
    with httpx.Client(base_url=flamebot.url, headers=AUTH, timeout=10) as keep_alive:
        for i, name in enumerate(hosts(3), start=1):
            answer = keep_alive.post("/webhook", json=alert_group(name))
            assert answer.json() == {"status": "accepted", "id": i}
        wait_until(lambda: slack.held == 3)
        assert flamebot.proc is not None
        signalled = time.monotonic()
        flamebot.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: flamebot.events("service_stopping"))
        wait_until(lambda: refused(flamebot))  # while the stuck sends are still draining
        assert flamebot.proc.poll() is None
        assert flamebot.proc.wait(timeout=grace + EXIT_MARGIN) == 0
        assert time.monotonic() - signalled < grace + EXIT_MARGIN
    assert [e["drained"] for e in flamebot.events("service_stopped")] == [False]

    slack.holding = False
    flamebot.start()
    wait_until(lambda: flamebot.metrics()["flamebot_queue_depth"] == 0)
    assert moved({}, flamebot.metrics(), only=DELIVERY) == {RESENT: 3.0, SLACK_OK: 3.0}
    # The cut-off sends had reached Slack: each was found there by its metadata, not repeated.
    assert messages_per_host(backends) == dict.fromkeys(hosts(3), 1)


def test_sigterm_during_a_hanging_enrichment_is_bounded_and_clean(
    backends: Backends, flamebot_factory: Any, tmp_path: Path, serve: LoopThread
) -> None:
    """SIGTERM during a hanging enrichment exits in time, without a traceback, and loses nothing."""
    grace = 1.0
    config = flamebot_config(
        backends,
        tmp_path,
        server={"shutdown_grace_seconds": grace},
        enrichment={"deadline_seconds": 8},
        prometheus={"url": serve.serve(hanging_app()), "timeout_seconds": 30},
    )
    flamebot = started(flamebot_factory, config)
    for i, name in enumerate(hosts(2), start=1):
        answer = flamebot.post(alert_group(name), headers=AUTH)
        assert answer.json() == {"status": "accepted", "id": i}
    # Enrichment under way: the start-up listing, then each unlisted service's own Series.
    wait_until(lambda: flamebot.metrics().get(PYROSCOPE_OK) == 3.0)
    signalled = time.monotonic()
    assert flamebot.terminate(timeout=grace + EXIT_MARGIN) == 0
    assert time.monotonic() - signalled < grace + EXIT_MARGIN
    assert "Traceback" not in flamebot.stderr()
    assert backends.slack.calls == []

    reconfigure(flamebot, {**config, "prometheus": {"url": backends.prometheus_url}})
    flamebot.start()
    wait_until(lambda: flamebot.metrics()["flamebot_queue_depth"] == 0)
    assert moved({}, flamebot.metrics(), only=DELIVERY) == {SLACK_OK: 2.0}
    assert messages_per_host(backends) == dict.fromkeys(hosts(2), 1)
