"""The three buttons of a Slack alert message, clicked in a fake Slack, signed as Slack signs:
a silence in a real Alertmanager, a fresh analysis, and verdict feedback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from receiver.notifiers.slack_actions import FEEDBACK, RERUN, SILENCE
from receiver.notifiers.slack_blocks import render_slack
from tests.cli.conftest import flamebot
from tests.fakes.slack import permalink
from tests.fakes.slack_interactions import click_payload
from tests.interactions.conftest import World, fresh_enrichment
from tests.notifiers.slack_checks import check_slack_message
from tests.support.harness import PAYMENT_LABELS
from tests.support.metrics import parse_metrics
from tests.support.process import free_port
from tests.support.waiting import wait_until_async


async def test_silence_click_creates_the_silence_and_says_so_in_the_thread(world: World) -> None:
    """A signed Silence 1h click makes a 1 h silence of the common labels; the thread links it."""
    message = await world.alert_message()
    check_slack_message({"text": message.text, "blocks": message.blocks})  # within the limits
    assert world.payload.common_labels == PAYMENT_LABELS
    before = world.silences()
    response = await world.send(click_payload(message, SILENCE))
    assert (response.status, await response.text()) == (200, "")
    await world.service.interactions.idle()

    [silence] = [s for s in world.silences() if s not in before]
    assert silence["matchers"] == [
        {"name": name, "value": value, "isRegex": False, "isEqual": True}
        for name, value in sorted(PAYMENT_LABELS.items())
    ]
    assert silence["createdBy"] == "alice"
    assert silence["comment"] == (
        f"Silenced from Slack by alice: {permalink(message.channel, message.ts)}"
    )
    assert silence["status"] == {"state": "active"}
    # Alertmanager moves a start in the past to its own now; the end is as asked.
    until = datetime.fromtimestamp(int(world.time.now), UTC) + timedelta(hours=1)
    assert datetime.fromisoformat(silence["endsAt"]) == until

    [reply] = world.slack.replies(message.ts)
    link = f"{world.alertmanager.url}/#/silences/{silence['id']}"
    assert reply.text == (
        f":no_bell: <@U0ALICE> silenced this group for 1h (until {until:%H:%M} UTC):"
        f" <{link}|silence {silence['id']}>\n"
        'Matchers: `{alertname="HighCpuUsage", group="vertx", instance="payment-service:9404",'
        ' job="jvm", severity="warning", verticle="payment"}`'
    )


@pytest.mark.parametrize(
    ("reachable", "said"),
    [
        ("closed port", "alertmanager: connection failed: ConnectError"),
        ("no alertmanager block", "silencing needs the `alertmanager` block in flamebot's config"),
    ],
)
async def test_silence_that_cannot_be_made_is_explained_in_the_thread(
    make_world: Callable[..., Awaitable[World]], reachable: str, said: str
) -> None:
    """Without a reachable Alertmanager no silence exists, and the thread says why."""
    am_url = f"http://127.0.0.1:{free_port()}" if reachable == "closed port" else None
    world = await make_world(am_url)
    message = await world.alert_message()
    before = world.silences()
    response = await world.send(click_payload(message, SILENCE))
    assert response.status == 200
    await world.service.interactions.idle()
    [reply] = world.slack.replies(message.ts)
    assert reply.text == f":warning: Could not silence: {said}"
    assert world.silences() == before


async def test_rerun_posts_a_fresh_analysis_in_the_thread_after_the_answer(world: World) -> None:
    """Slack gets its 200 while the analysis still runs; then the fresh one lands in the thread."""
    message = await world.alert_message()
    world.enricher.gate = asyncio.Event()
    response = await world.send(click_payload(message, RERUN))
    assert (response.status, await response.text()) == (200, "")
    assert world.slack.replies(message.ts) == []  # the analysis is held: not done yet
    world.enricher.gate.set()
    await world.service.interactions.idle()

    assert world.enricher.calls == [world.payload, world.payload]
    [reply] = world.slack.replies(message.ts)
    expected = render_slack(
        world.payload, fresh_enrichment(world.payload), change="fresh analysis for alice"
    )
    assert reply.text == f"Fresh analysis for alice: {expected['text']}"
    assert reply.blocks == expected["blocks"]
    assert "(41.0% CPU)" in reply.text


async def test_shutdown_waits_for_a_click_in_progress(world: World) -> None:
    """A click acknowledged before shutdown still gets its answer in the thread."""
    message = await world.alert_message()
    world.enricher.gate = asyncio.Event()
    assert (await world.send(click_payload(message, RERUN))).status == 200
    stopping = asyncio.create_task(world.service.stop())
    # Shutdown under way: the workers are gone, and the notifiers would close next.
    await wait_until_async(lambda: not world.service.dispatcher.running, what="workers stopped")
    assert not stopping.done()  # it waits for the click
    world.enricher.gate.set()
    await stopping
    [reply] = world.slack.replies(message.ts)
    assert reply.text.startswith("Fresh analysis for alice: ")


async def test_feedback_is_counted_stored_and_listed(world: World, tmp_path: Path) -> None:
    """A Wrong verdict? answer is counted, thanked in the thread and listed by the CLI."""
    world.time.now = 1_764_770_400.0  # 2025-12-03T14:00:00Z
    message = await world.alert_message()
    response = await world.send(click_payload(message, FEEDBACK, option="LOCK-BOUND"))
    assert (response.status, await response.text()) == (200, "")
    await world.service.interactions.idle()

    samples = parse_metrics(world.service.metrics.render().decode())
    counted = {k: v for k, v in samples.items() if k.startswith("flamebot_verdict_feedback_total")}
    assert counted == {
        'flamebot_verdict_feedback_total{actual="LOCK-BOUND",verdict="CPU-BOUND"}': 1.0
    }
    [reply] = world.slack.replies(message.ts)
    assert reply.text == (
        ":memo: Thanks <@U0ALICE>, noted: payment-service: CPU-BOUND should have been LOCK-BOUND."
    )
    await world.service.stop()

    config = tmp_path / "flamebot.yaml"
    config.write_text(yaml.safe_dump({"store": {"path": str(tmp_path / "flamebot.db")}}))
    result = await flamebot("feedback", "--json", "--config", config, cwd=tmp_path)
    assert (result.code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == [
        {
            "id": 1,
            "notification_id": 1,
            "group_key": world.payload.group_key,
            "service": "payment-service",
            "verdict": "CPU-BOUND",
            "actual": "LOCK-BOUND",
            "user": "alice",
            "created_at": "2025-12-03T14:00:00+00:00",
        }
    ]
