"""PagerDutyNotifier against a fake PagerDuty: trigger, resolve, one note per incident."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from receiver.config import Config
from receiver.service import Service
from tests.conftest import load_payload
from tests.fakes.clock import FakeTime
from tests.fakes.pagerduty import FakePagerDuty
from tests.notifiers.conftest import Far, deliver

GROUP_KEY = '{}:{alertname="HighCpuUsage", instance="payment-service:9404"}'
DEDUP = hashlib.sha256(GROUP_KEY.encode()).hexdigest()


NOTES = {"api_token": "pd-api-token", "from_email": "bot@example.com"}  # + api_url


def with_notes(pagerduty: Far[FakePagerDuty], **changes: Any) -> Config:
    """The PagerDuty notifier with an API token: it adds the analysis as a note."""
    return pagerduty.config(**{**NOTES, "api_url": pagerduty.url, **changes})


async def deliver_pd(
    config: Config, *bodies: str | dict[str, Any], fake_time: FakeTime | None = None
) -> Service:
    """`deliver`: the note queue's waits between attempts take the service's sleep, so
    they run on the fake time too."""
    return await deliver(config, *bodies, fake_time=fake_time)


def lookups(fake: FakePagerDuty) -> int:
    """How many times the incident was looked up."""
    return sum(1 for method, path, _ in fake.requests if (method, path) == ("GET", "/incidents"))


async def test_trigger_then_resolve_share_the_dedup_key(pagerduty: Far[FakePagerDuty]) -> None:
    """Firing triggers and resolved resolves, both with dedup_key = sha256(groupKey)."""
    fake = pagerduty.fake
    await deliver_pd(
        pagerduty.config(),
        load_payload("reference-highcpuusage.json"),
        load_payload("reference-highcpuusage-resolved.json"),
    )
    assert [(e["event_action"], e["dedup_key"]) for e in fake.events] == [
        ("trigger", DEDUP),
        ("resolve", DEDUP),
    ]
    assert fake.events[1] == {
        "routing_key": "R" * 32,
        "dedup_key": DEDUP,
        "event_action": "resolve",
    }
    trigger = fake.events[0]["payload"]
    assert (trigger["source"], trigger["severity"], trigger["group"]) == (
        "payment-service:9404",
        "warning",
        "jvm",
    )
    assert [(i.status, i.notes) for i in fake.incidents] == [("resolved", [])]
    assert not any(path.startswith("/incidents") for _, path, _ in fake.requests)


async def test_note_is_added_once_per_incident(pagerduty: Far[FakePagerDuty]) -> None:
    """With an API token the analysis becomes one note; an update of the group adds none."""
    fake = pagerduty.fake
    fake.lookups_before_visible = 2  # the REST API lags the Events API
    fake_time = FakeTime()
    await deliver_pd(
        with_notes(pagerduty),
        load_payload("grouped-firing.json"),
        load_payload("grouped-partially-resolved.json"),
        fake_time=fake_time,
    )
    assert [e["event_action"] for e in fake.events] == ["trigger", "trigger"]
    [incident] = fake.incidents
    assert incident.status == "triggered"
    assert len(incident.notes) == 1
    assert incident.notes[0]["from"] == "bot@example.com"
    assert "HighCPUUsage" in incident.notes[0]["content"]
    assert lookups(fake) == 3  # not visible, not visible, found
    assert fake_time.sleeps == [1.0, 2.0]  # the note queue's backoff, between attempts
    rest = [(m, p, h) for m, p, h in fake.requests if p.startswith("/incidents")]
    assert all(h["Authorization"] == "Token token=pd-api-token" for _, _, h in rest)
    assert all(h["Accept"] == "application/vnd.pagerduty+json;version=2" for _, _, h in rest)


async def test_new_incident_after_resolve_gets_its_own_note(pagerduty: Far[FakePagerDuty]) -> None:
    """Resolve, then fire again: PagerDuty opens a new incident, which gets a note too."""
    fake = pagerduty.fake
    again = load_payload("reference-highcpuusage.json")
    again["alerts"][0]["startsAt"] = "2026-11-25T18:00:00Z"
    await deliver_pd(
        with_notes(pagerduty),
        load_payload("reference-highcpuusage.json"),
        load_payload("reference-highcpuusage-resolved.json"),
        again,
    )
    assert [(i.status, len(i.notes)) for i in fake.incidents] == [("resolved", 1), ("triggered", 1)]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(400, "failed"), (429, "retry"), (500, "retry"), (503, "retry")],
)
async def test_event_failures_are_classified(
    pagerduty: Far[FakePagerDuty], status: int, outcome: str
) -> None:
    """400 is permanent (dead letter); 429 and 5xx are retried and then delivered."""
    fake = pagerduty.fake
    fake.script = [status]
    service = await deliver_pd(pagerduty.config(), "firing.json")
    text = service.metrics.render().decode()
    assert f'flamebot_notifications_total{{notifier="pd",outcome="{outcome}"}} 1.0' in text
    letters = await _dead_letters(pagerduty.store)
    if outcome == "failed":
        assert [x.reason for x in letters] == [
            "permanent failure: pagerduty events: HTTP 400: scripted"
        ]
        assert fake.events == []
    else:
        assert letters == []
        assert [e["event_action"] for e in fake.events] == ["trigger"]


async def _dead_letters(path: Path) -> list[Any]:
    from receiver.store import Store

    store = Store(path)
    await store.open()
    letters = await store.deliveries.dead_letters()
    await store.close()
    return letters


async def test_a_failing_note_never_fails_the_page(pagerduty: Far[FakePagerDuty]) -> None:
    """A note refused for good (unknown From user) leaves the page delivered, not dead."""
    fake = pagerduty.fake
    config = with_notes(pagerduty, from_email="nobody")
    with capture_logs() as logs:
        service = await deliver_pd(config, "reference-highcpuusage.json")
    assert [entry for entry in logs if entry["event"] == "pagerduty_note_failed"] == [
        {
            "event": "pagerduty_note_failed",
            "notifier": "pd",
            "group_key": GROUP_KEY,
            "reason": "pagerduty notes: HTTP 400: Invalid Input Provided: Requester User Not Found",
            "log_level": "warning",
        }
    ]
    assert [e["event_action"] for e in fake.events] == ["trigger"]
    assert [(i.status, i.notes) for i in fake.incidents] == [("triggered", [])]
    posts = [(m, p) for m, p, _ in fake.requests if p.endswith("/notes")]
    assert posts == [("POST", "/incidents/P000001/notes")]  # a permanent refusal: not again
    assert await _dead_letters(pagerduty.store) == []
    text = service.metrics.render().decode()
    assert 'flamebot_notifications_total{notifier="pd",outcome="ok"} 1.0' in text


async def test_a_note_refused_for_a_while_is_tried_again(pagerduty: Far[FakePagerDuty]) -> None:
    """Notes answered 429 then 500 are retried (1 s, 2 s) without re-sending the event."""
    fake = pagerduty.fake
    fake.notes_script = [429, 500]
    fake_time = FakeTime()
    await deliver_pd(
        with_notes(pagerduty), load_payload("reference-highcpuusage.json"), fake_time=fake_time
    )
    assert [e["event_action"] for e in fake.events] == ["trigger"]
    assert len(fake.incidents[0].notes) == 1
    assert fake_time.sleeps == [1.0, 2.0]


async def test_an_incident_that_never_appears_gets_no_note(pagerduty: Far[FakePagerDuty]) -> None:
    """Looked up with the delivery backoff for `delivery.max_seconds`: skipped, logged once."""
    pagerduty.fake.lookups_before_visible = 100  # the incident never shows in time
    fake_time = FakeTime()
    with capture_logs() as logs:
        await deliver_pd(with_notes(pagerduty), "reference-highcpuusage.json", fake_time=fake_time)
    assert [entry for entry in logs if entry["event"].startswith("pagerduty_note")] == [
        {
            "event": "pagerduty_note_skipped",
            "reason": "incident not found",
            "group_key": GROUP_KEY,
            "log_level": "warning",
        }
    ]
    backoff = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0] + [60.0] * 59  # the last attempt at 3603 s
    assert fake_time.sleeps == backoff
    assert lookups(pagerduty.fake) == len(backoff) + 1
    assert [e["event_action"] for e in pagerduty.fake.events] == ["trigger"]
    assert [i.notes for i in pagerduty.fake.incidents] == [[]]
