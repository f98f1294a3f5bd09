"""The fix check after a resolve, through the real service: the real enricher against the
strict fake Pyroscope and a real Prometheus, the Slack and PagerDuty notifiers against
their fakes, the console on stdout, the SQLite store; time is a `SteppedTime` the test
moves, so nothing waits for `verify_after` to pass for real.

bank-payment-service's CPU profile: sha256 at 5.1 % in the baseline window, 34.2 % up to
the resolve, and after it what the test serves (`AFTER`): the fixed profile (3.1 %), the
same hot profile, or nothing. Values are nanoseconds, 10 ms a sample, 1,000 samples a window.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from receiver import payloads
from receiver.config import Config
from receiver.fixchecks import fix_check_key
from receiver.models import WebhookPayload
from receiver.notifiers.pagerduty_event import dedup_key
from receiver.service import Service
from tests.fakes.clock import SteppedTime
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.pyroscope import FakePyroscope
from tests.fakes.slack import FakeSlack
from tests.support.harness import BASELINE_CPU, HANDLER, INCIDENT_CPU, PAYMENT_LABELS, RUN
from tests.support.prometheus import RealPrometheus
from tests.support.waiting import SETTLE_SECONDS, wait_until_async

SAMPLE_NS = 10_000_000
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[")
SHA = (*HANDLER, "com/example/PaymentVerticle.sha256")
HEX = (*HANDLER, "com/example/PaymentVerticle.formatHex")
DECIMAL = (*HANDLER, "java/math/BigDecimal.<init>")
SELECT = (*RUN, "io/netty/channel/nio/NioEventLoop.select")


def stacks(counts: Mapping[tuple[str, ...], int]) -> dict[tuple[str, ...], int]:
    return {stack: n * SAMPLE_NS for stack, n in counts.items()}


BASELINE = stacks(BASELINE_CPU)
INCIDENT = stacks(INCIDENT_CPU)
FIXED = stacks({SHA: 31, HEX: 200, DECIMAL: 300, SELECT: 469})
FUNCTION = "com.example.PaymentVerticle.sha256"
STARTS = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
RESOLVED = datetime.now(UTC).replace(microsecond=0)
RESOLVED_MS = int(RESOLVED.timestamp() * 1000)
VERIFY_AFTER_S = 120


@dataclass
class Profiles:
    """The CPU source: what Pyroscope has after the resolve is the test's to choose."""

    after: Mapping[tuple[str, ...], int] = field(default_factory=lambda: FIXED)
    asked: list[tuple[int, int]] = field(default_factory=list)

    def __call__(self, service: str, ptype: str, start_ms: int, end_ms: int) -> Mapping[Any, Any]:
        self.asked.append((start_ms, end_ms))
        if end_ms <= RESOLVED_MS - 30 * 60 * 1000:
            return BASELINE
        return INCIDENT if end_ms <= RESOLVED_MS else self.after


@dataclass
class Far:
    slack: FakeSlack
    pagerduty: FakePagerDuty
    profiles: Profiles
    config: Config
    time: SteppedTime


async def _url(aiohttp_server: Any, app: Any) -> str:
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def far(tmp_path: Path, aiohttp_server: Any, real_prometheus: RealPrometheus) -> Far:
    """Fakes on loopback and a config routing `default` to Slack, PagerDuty and the console."""
    slack, pagerduty, profiles = FakeSlack(), FakePagerDuty(), Profiles()
    pyroscope = FakePyroscope.of_agents({"bank-payment-service": ("jvm", {"cpu": profiles})})
    slack_url = await _url(aiohttp_server, slack.app())
    pd_url = await _url(aiohttp_server, pagerduty.app())
    pyroscope_url = await _url(aiohttp_server, pyroscope.app())
    config = Config.model_validate(
        {
            "store": {"path": str(tmp_path / "flamebot.db")},
            "delivery": {"initial_backoff_seconds": 0.05, "max_backoff_seconds": 0.5},
            "prometheus": {"url": real_prometheus.url, "timeout_seconds": 2},
            "pyroscope": {"url": pyroscope_url, "timeout_seconds": 2},
            "enrichment": {
                "deadline_seconds": 5,
                "service_map": {"payment-service": "bank-payment-service"},
                "app_prefixes": ["com.example."],
                "verify_after": f"{VERIFY_AFTER_S}s",
            },
            "notifiers": [
                {"name": "slack", "type": "slack", "token": slack.token, "channel": "#payments",
                 "api_url": f"{slack_url}/api/", "flamegraph": False},
                {"name": "pd", "type": "pagerduty", "routing_key": pagerduty.routing_key,
                 "events_url": f"{pd_url}/v2/enqueue", "api_token": pagerduty.api_token,
                 "api_url": pd_url, "from_email": "flamebot@example.com"},
                {"name": "console", "type": "console"},
            ],
            "routes": {"default": ["slack", "pd", "console"]},
        }
    )  # fmt: skip
    # The clock starts at the resolve, whenever the module was imported: the check is due
    # VERIFY_AFTER_S later on it, and only the test moves it there.
    return Far(slack, pagerduty, profiles, config, SteppedTime(RESOLVED.timestamp()))


def firing() -> WebhookPayload:
    alert = payloads.alert(PAYMENT_LABELS, STARTS, annotations={"summary": "High CPU"})
    return WebhookPayload.model_validate(payloads.group([alert], ("alertname", "instance")))


def resolved() -> WebhookPayload:
    alert = payloads.alert(
        PAYMENT_LABELS, STARTS, ends_at=RESOLVED, annotations={"summary": "High CPU"}
    )
    return WebhookPayload.model_validate(payloads.group([alert], ("alertname", "instance")))


def refired() -> WebhookPayload:
    """The group firing again 30 s after it was resolved."""
    alert = payloads.alert(PAYMENT_LABELS, RESOLVED + timedelta(seconds=30))
    return WebhookPayload.model_validate(payloads.group([alert], ("alertname", "instance")))


def resolved_again() -> WebhookPayload:
    """The refired group resolved 60 s later."""
    again = RESOLVED + timedelta(seconds=30)
    alert = payloads.alert(PAYMENT_LABELS, again, ends_at=again + timedelta(seconds=60))
    return WebhookPayload.model_validate(payloads.group([alert], ("alertname", "instance")))


@pytest.fixture
async def services() -> AsyncIterator[list[Service]]:
    """Services a test started, stopped at the end whatever happened (stop is idempotent)."""
    running: list[Service] = []
    yield running
    for service in running:
        await service.stop()


async def started(far: Far, services: list[Service]) -> Service:
    service = Service(far.config, clock=far.time.clock, sleep=far.time.sleep)
    await service.start()
    services.append(service)
    return service


async def accept(service: Service, *bodies: WebhookPayload) -> None:
    for body in bodies:
        await service.accept("default", body)
        assert await service.dispatcher.wait_idle(SETTLE_SECONDS)


async def fired_and_resolved(far: Far, services: list[Service]) -> tuple[Service, str]:
    """A started service that took the firing and the resolved group; the fix check's key."""
    service = await started(far, services)
    await accept(service, firing(), resolved())
    return service, fix_check_key("default", resolved().group_key)


def shown(mrkdwn: str) -> str:
    """Slack's text as people read it (the three entities it escapes, decoded)."""
    return mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def fix_replies(far: Far) -> list[str]:
    """The fix-check replies in the thread of the group's one message, as shown."""
    [message] = far.slack.top_level()
    replies = [shown(m.text) for m in far.slack.replies(message.ts)]
    return [text for text in replies if text.startswith("fix check")]


def fix_notes(far: Far) -> list[str]:
    [incident] = far.pagerduty.incidents
    return [n["content"] for n in incident.notes if n["content"].startswith("fix check")]


async def pass_due(far: Far, service: Service) -> int:
    """Once the checker waits for the check's time, move the clock past it; the checker's
    count of rounds before the move (`another_round` waits for one more)."""
    await wait_until_async(lambda: far.time.sleeping > 0, what="the checker waits")
    assert service.fix_checks is not None
    rounds = service.fix_checks.rounds
    far.time.advance(VERIFY_AFTER_S + 1)
    return rounds


async def another_round(service: Service, before: int) -> None:
    """Until the checker has made a round since `pass_due` moved the clock."""
    checks = service.fix_checks
    assert checks is not None
    await wait_until_async(lambda: checks.rounds > before, what="a round of the checker")


def console(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What the console notifier wrote since the last read (log lines left out)."""
    out = capsys.readouterr().out.splitlines()
    return [line for line in out if not LOG_LINE.match(line)]


async def checked(service: Service, key: str) -> None:
    """Until the check is done: posted everywhere, then removed from the store."""

    async def gone() -> bool:
        return await service.store.schedules.get(key) is None

    await wait_until_async(gone, what="the fix check done")


LINE_FIXED = (
    f"fix check: {FUNCTION} 34.2% -> 3.1% of CPU (-31.1 pp) in the 2 min after resolve: fixed"
)


async def test_resolve_then_fixed_profile_posts_fixed_everywhere_after_verify_after(
    far: Far, services: list[Service], capsys: pytest.CaptureFixture[str]
) -> None:
    """Fire, resolve, fixed profile after: thread reply, PD note and console say fixed."""
    service, key = await fired_and_resolved(far, services)
    job = await service.store.schedules.get(key)
    assert job is not None
    assert job.due_at == RESOLVED.timestamp() + VERIFY_AFTER_S
    assert fix_replies(far) == []
    capsys.readouterr()
    await pass_due(far, service)
    await checked(service, key)
    nid = (await service.accept("default", resolved())).id  # a duplicate: the original id
    assert console(capsys) == [f"[FIX CHECK] HighCpuUsage  (#{nid})", f"  {LINE_FIXED}"]
    assert fix_replies(far) == [LINE_FIXED]
    assert fix_notes(far) == [LINE_FIXED]
    [incident] = far.pagerduty.incidents
    assert (incident.status, incident.incident_key) == ("resolved", dedup_key(firing().group_key))
    assert (RESOLVED_MS, RESOLVED_MS + VERIFY_AFTER_S * 1000) in far.profiles.asked  # after


async def test_a_new_firing_of_the_group_cancels_the_check(
    far: Far, services: list[Service]
) -> None:
    """Resolve, then the group fires again before verify_after: no check is ever made."""
    service, key = await fired_and_resolved(far, services)
    assert await service.store.schedules.get(key) is not None
    await accept(service, refired())
    await checked(service, key)  # cancelled
    asked = len(far.profiles.asked)
    new_note = lambda: len(far.pagerduty.incidents) == 2 and far.pagerduty.incidents[1].notes  # noqa: E731
    await wait_until_async(new_note, what="the analysis note on the new incident")
    assert await service.store.schedules.next_due() is None  # nothing left to run
    assert service.fix_checks is not None
    rounds = service.fix_checks.rounds
    far.time.advance(VERIFY_AFTER_S + 1)
    service.follow_ups.wake()  # the runner waits for new work only: look again, past the due
    await another_round(service, rounds)
    assert await service.store.schedules.next_due() is None
    assert [m.text for m in far.slack.messages.values() if m.text.startswith("fix check")] == []
    notes = [n["content"] for i in far.pagerduty.incidents for n in i.notes]
    assert [n for n in notes if n.startswith("fix check")] == []
    assert len(far.profiles.asked) == asked


async def test_a_resolve_right_after_a_refiring_keeps_its_new_check(
    far: Far, services: list[Service]
) -> None:
    """Refired and resolved again at once: the refiring calls off only the older check."""
    service, key = await fired_and_resolved(far, services)
    first = await service.store.schedules.get(key)
    checks = service.fix_checks
    assert first is not None
    assert checks is not None
    now = far.time.clock()
    await checks.accepted(3, "default", refired(), now)  # notification 3: a call-off queued
    await checks.accepted(4, "default", resolved_again(), now)
    await checks.stop()  # the call-offs under way are finished
    job = await service.store.schedules.get(key)
    assert job is not None
    assert job.id != first.id
    assert job.due_at == RESOLVED.timestamp() + 90 + VERIFY_AFTER_S


async def test_a_check_whose_group_was_notified_again_is_dropped_when_due(
    far: Far, services: list[Service]
) -> None:
    """A cancel lost (the check put back by hand): the later firing delivered drops it."""
    service, key = await fired_and_resolved(far, services)
    job = await service.store.schedules.get(key)
    assert job is not None
    await accept(service, refired())
    await checked(service, key)
    await service.store.schedules.schedule(key, job.due_at, job.payload)
    asked = len(far.profiles.asked)
    await pass_due(far, service)
    await checked(service, key)
    assert len(far.profiles.asked) == asked
    assert [m.text for m in far.slack.messages.values() if m.text.startswith("fix check")] == []


async def test_a_restart_between_resolve_and_check_still_posts_it_once(
    far: Far, services: list[Service]
) -> None:
    """Stopped after the resolve, started again: the stored check is posted once, then gone."""
    first = await started(far, services)
    await accept(first, firing(), resolved())
    await first.stop()
    services.remove(first)
    second = await started(far, services)
    key = fix_check_key("default", resolved().group_key)
    rounds = await pass_due(far, second)
    await checked(second, key)
    assert fix_replies(far) == [LINE_FIXED]
    assert fix_notes(far) == [LINE_FIXED]
    await another_round(second, rounds)
    assert fix_replies(far) == [LINE_FIXED]
    assert await second.store.schedules.next_due() is None


@pytest.mark.parametrize(
    ("after", "ending"),
    [
        (INCIDENT, "34.2% -> 34.2% of CPU (+0.0 pp) in the 2 min after resolve: still hot (34.2%):"
                   " the alert resolved but the hotspot did not go away"),
        (stacks({SHA: 3, SELECT: 40}), "34.2% -> 7.0% of CPU (-27.2 pp) in the 2 min after resolve:"
                                       " not enough samples (43 after the resolve, at least 100"
                                       " needed to tell)"),
        ({}, "34.2% -> 0.0% of CPU (-34.2 pp) in the 2 min after resolve: not enough samples"
             " (0 after the resolve, at least 100 needed to tell)"),
    ],
    ids=["still-hot", "few-samples", "no-samples"],
)  # fmt: skip
async def test_still_hot_and_not_enough_samples_are_said_with_both_shares(
    far: Far, services: list[Service], after: Mapping[tuple[str, ...], int], ending: str
) -> None:
    """The same hot profile after the resolve, 43 samples, none: both shares and the outcome."""
    far.profiles.after = after
    service, key = await fired_and_resolved(far, services)
    await pass_due(far, service)
    await checked(service, key)
    line = f"fix check: {FUNCTION} {ending}"
    assert fix_replies(far) == [line]
    assert fix_notes(far) == [line]


async def test_verify_after_zero_turns_the_check_off(far: Far, services: list[Service]) -> None:
    """`verify_after: 0`: no checker, and a resolve schedules nothing."""
    off = far.config.enrichment.model_copy(update={"verify_after": timedelta(0)})
    far.config = far.config.model_copy(update={"enrichment": off})
    service = await started(far, services)
    assert service.fix_checks is None
    await accept(service, firing(), resolved())
    assert await service.store.schedules.next_due() is None
