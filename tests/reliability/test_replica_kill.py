"""Two flamebot replicas on one real PostgreSQL behind two real Alertmanagers (an HA pair
that does not gossip: both send every group), a burst of 50 groups, one replica killed -9
in the middle: every group delivered, no Slack message twice, each group's firing before
its resolve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from tests.support.alertmanager import (
    firing_alert,
    resolved_alert,
    running_alertmanager,
    webhook_config,
)
from tests.support.harness import PAYMENT_LABELS, TOKEN, Backends, flamebot_config, started
from tests.support.process import FlamebotProcess
from tests.support.waiting import wait_until

GROUPS = 50
WORKERS = 4
WITHIN = 180.0  # generous: two Alertmanagers, two replicas and a take-over on a busy machine


def labels(i: int) -> dict[str, str]:
    return {**PAYMENT_LABELS, "alertname": "BurstAlert", "instance": f"svc-{i:02d}:9404"}


def in_flight(pg_url: str, replica: FlamebotProcess) -> list[int]:
    """The notifications whose Slack send `replica` has started and not recorded."""
    assert replica.proc is not None
    with psycopg.connect(pg_url) as pg:
        rows = pg.execute(
            "SELECT notification_id FROM deliveries WHERE state = 'sending'"
            " AND split_part(lease_owner, ':', 2) = %s ORDER BY 1",
            (str(replica.proc.pid),),
        ).fetchall()
    return [row[0] for row in rows]


def host_of(text: str) -> str:
    return text.split(" on ", 1)[1].split(":", 1)[0]


def test_two_replicas_survive_a_kill_9_mid_burst_without_repeats(
    backends: Backends, flamebot_factory: Any, tmp_path: Path, pg_url: str
) -> None:
    """kill -9 one of two replicas mid-burst: 50 groups delivered, 0 duplicates, in order."""
    slack = backends.slack
    config = flamebot_config(
        backends,
        tmp_path,
        store={"url": pg_url, "lease_seconds": 2},
        queue={"workers": WORKERS},
        routes={"default": ["slack"]},
    )
    replicas = [started(flamebot_factory, config), started(flamebot_factory, config)]
    starts = datetime.now(UTC) - timedelta(minutes=3)
    with (
        running_alertmanager(
            tmp_path, webhook_config(f"{replicas[0].url}/webhook", token=TOKEN), "am-one"
        ) as am_one,
        running_alertmanager(
            tmp_path, webhook_config(f"{replicas[1].url}/webhook", token=TOKEN), "am-two"
        ) as am_two,
    ):
        alerts = [firing_alert(labels(i), starts) for i in range(GROUPS)]
        # Slack carries the posts out, but holds its answers: sends are in flight.
        slack.holding = True
        am_one.post_alerts(alerts)
        am_two.post_alerts(alerts)
        wait_until(lambda: slack.held >= WORKERS, within=WITHIN)
        victim = max(replicas, key=lambda r: len(in_flight(pg_url, r)))
        victim.kill()
        cut_off = in_flight(pg_url, victim)  # its sends the kill cut: frozen now
        assert cut_off
        survivor = replicas[1] if victim is replicas[0] else replicas[0]
        slack.holding = False
        wait_until(lambda: len(slack.top_level()) >= GROUPS, within=WITHIN)
        ended = datetime.now(UTC)
        resolves = [resolved_alert(labels(i), starts, ended) for i in range(GROUPS)]
        am_one.post_alerts(resolves)
        am_two.post_alerts(resolves)
        wait_until(
            lambda: sum("RESOLVED" in m.text for m in slack.top_level()) >= GROUPS,
            within=WITHIN,
        )
        wait_until(lambda: survivor.metrics()["flamebot_queue_depth"] == 0, within=WITHIN)
    messages = slack.top_level()
    per_group: dict[str, int] = {}
    for message in messages:
        per_group[host_of(message.text)] = per_group.get(host_of(message.text), 0) + 1
    assert per_group == {f"svc-{i:02d}": 1 for i in range(GROUPS)}  # 0 duplicate messages
    for message in messages:
        # Order kept: the message was posted firing, then updated to resolved, once each,
        # with one thread reply saying so.
        assert "FIRING" in message.edits[0]["text"], message.text
        assert "RESOLVED" in message.text
        replies = slack.replies(message.ts)
        assert [r.text.split(":", 1)[0] for r in replies] == [
            "\N{WHITE HEAVY CHECK MARK} group resolved"
        ]
    # Replica two took over what replica one held, looked each cut-off send up, found it.
    # The survivor took over the victim's work after its lease, looked each cut-off send
    # up in the channel's history (finding it there), and counted each as resumed.
    lookups = [body for method, body in slack.calls if method == "conversations.history"]
    assert len(lookups) == len(cut_off)
    resumed = survivor.metrics()['flamebot_resent_after_crash_total{notifier="slack"}']
    assert resumed == len(cut_off)
