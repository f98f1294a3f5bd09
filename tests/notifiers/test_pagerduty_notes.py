"""PagerDuty's analysis note as durable follow-up work: `notify()` sends the event and
leaves the note to the service's note queue, whose runner retries it; time is a
`SteppedTime` only the test moves, so a sleep inside `notify()` would never return."""

from __future__ import annotations

import json
from typing import Any

from structlog.testing import capture_logs

from receiver.models import WebhookPayload
from receiver.notes import note_key
from receiver.notifiers.pagerduty import PagerDutyNotifier, PagerDutyNotifierSettings
from receiver.notifiers.pagerduty_event import render_note
from receiver.seams import Note, Notification
from receiver.service import Service
from tests.conftest import load_payload
from tests.fakes.clock import SteppedTime
from tests.fakes.notifiers import FixedEnricher, MemoryConversations
from tests.fakes.pagerduty import FakePagerDuty
from tests.notifiers.conftest import Far
from tests.notifiers.test_pagerduty_notifier import GROUP_KEY, lookups, with_notes
from tests.support.waiting import SETTLE_SECONDS, wait_until_async

KEY = note_key("pd", GROUP_KEY)


class RecordingQueue:
    """A note queue that keeps what it is given."""

    def __init__(self) -> None:
        self.added: list[Note] = []

    async def add(self, note: Note) -> bool:
        self.added.append(note)
        return True

    async def cancel(self, notifier: str, group_key: str) -> bool:
        return False


def payload(name: str = "reference-highcpuusage.json") -> WebhookPayload:
    return WebhookPayload.model_validate(load_payload(name))


async def expected_note() -> str:
    """The note the analysis of the reference alert renders to."""
    return render_note(payload(), await FixedEnricher().enrich(payload()))


async def test_notify_sends_the_event_only_and_queues_the_note(
    pagerduty: Far[FakePagerDuty],
) -> None:
    """`notify()` posts the event and hands the note to the queue: no incident lookup."""
    pagerduty.fake.lookups_before_visible = 100  # the incident is not visible yet
    entry: dict[str, Any] = {**pagerduty.entry, "api_token": "pd-api-token"}
    settings = PagerDutyNotifierSettings.model_validate(
        {**entry, "api_url": pagerduty.url, "from_email": "bot@example.com"}
    )
    queue = RecordingQueue()
    notifier = PagerDutyNotifier(settings, MemoryConversations(), notes=queue)
    enrichment = await FixedEnricher().enrich(payload())
    try:
        await notifier.notify(Notification(7, "default", payload(), enrichment))
    finally:
        await notifier.aclose()
    assert [(m, p) for m, p, _ in pagerduty.fake.requests] == [("POST", "/v2/enqueue")]
    assert queue.added == [Note("pd", GROUP_KEY, await expected_note(), 7)]


async def started(pagerduty: Far[FakePagerDuty], time: SteppedTime) -> Service:
    service = Service(
        with_notes(pagerduty), enricher=FixedEnricher(), clock=time.clock, sleep=time.sleep
    )
    await service.start()
    return service


async def accepted(service: Service, name: str) -> None:
    await service.accept("default", payload(name))
    assert await service.dispatcher.wait_idle(SETTLE_SECONDS)


async def waiting_note(service: Service, time: SteppedTime, fake: FakePagerDuty, n: int) -> None:
    """Until the runner made its `n`-th lookup and waits out the backoff."""
    await wait_until_async(lambda: lookups(fake) == n and time.sleeping > 0, what="a retry wait")


async def test_a_restart_between_event_and_note_adds_the_note_once(
    pagerduty: Far[FakePagerDuty],
) -> None:
    """Done while the incident is unseen, the note survives a restart and is added once."""
    fake = pagerduty.fake
    fake.lookups_before_visible = 1
    time = SteppedTime()
    first = await started(pagerduty, time)
    try:
        await accepted(first, "reference-highcpuusage.json")  # time has not moved
        await waiting_note(first, time, fake, 1)
        job = await first.store.schedules.get(KEY)
        assert job is not None
        assert job.attempts == 1
        assert json.loads(job.payload)["content"] == await expected_note()
        text = first.metrics.render().decode()
        assert 'flamebot_notifications_total{notifier="pd",outcome="ok"} 1.0' in text
    finally:
        await first.stop()
    assert fake.incidents[0].notes == []
    time.advance(1.0)  # the retry is due
    second = await started(pagerduty, time)
    try:
        await wait_until_async(lambda: fake.incidents[0].notes, what="the note")
        await wait_until_async(lambda: _gone(second), what="the job done")
    finally:
        await second.stop()
    assert [n["content"] for n in fake.incidents[0].notes] == [await expected_note()]
    assert [e["event_action"] for e in fake.events] == ["trigger"]
    assert lookups(fake) == 2


async def _gone(service: Service) -> bool:
    return await service.store.schedules.get(KEY) is None


async def test_a_resolve_drops_a_note_still_waiting(pagerduty: Far[FakePagerDuty]) -> None:
    """The group resolves before its incident became visible: the note is dropped, said once."""
    fake = pagerduty.fake
    fake.lookups_before_visible = 100
    time = SteppedTime()
    service = await started(pagerduty, time)
    try:
        await accepted(service, "reference-highcpuusage.json")
        await waiting_note(service, time, fake, 1)
        with capture_logs() as logs:
            await accepted(service, "reference-highcpuusage-resolved.json")
        assert await service.store.schedules.get(KEY) is None
    finally:
        await service.stop()
    assert [e for e in logs if e["event"].startswith("pagerduty_note")] == [
        {
            "event": "pagerduty_note_skipped",
            "reason": "resolved first",
            "group_key": GROUP_KEY,
            "log_level": "warning",
        }
    ]
    assert [e["event_action"] for e in fake.events] == ["trigger", "resolve"]
    assert [(i.status, i.notes) for i in fake.incidents] == [("resolved", [])]
    assert lookups(fake) == 1
