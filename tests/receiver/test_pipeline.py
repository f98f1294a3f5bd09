"""The pipeline: retries with backoff and Retry-After, dead letters, lanes, enrichment once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from receiver.errors import NotifyError, ReplayRefusedError
from receiver.models import WebhookPayload
from receiver.service import Service
from tests.conftest import load_payload, make_config
from tests.fakes.clock import FakeTime
from tests.fakes.notifiers import FixedEnricher, RecordingNotifier
from tests.support.waiting import SETTLE_SECONDS, wait_until_async


def retryable(message: str = "HTTP 503", after: float | None = None) -> NotifyError:
    return NotifyError("fake", message, retryable=True, retry_after=after)


def permanent(message: str = "HTTP 400") -> NotifyError:
    return NotifyError("fake", message, retryable=False)


async def started(
    tmp_path: Path, **kwargs: Any
) -> tuple[Service, dict[str, RecordingNotifier], FakeTime]:
    config = kwargs.pop("config", None) or make_config(tmp_path)
    notifiers = {n.name: RecordingNotifier(n.name) for n in config.notifiers}
    notifiers.update(kwargs.pop("notifiers", {}))
    fake = FakeTime()
    service = Service(
        config,
        enricher=kwargs.pop("enricher", FixedEnricher()),
        notifiers=notifiers,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    await service.start()
    return service, notifiers, fake


def payload(name: str = "firing.json") -> WebhookPayload:
    return WebhookPayload.model_validate(load_payload(name))


async def settle(service: Service, *payloads: WebhookPayload, route: str = "default") -> None:
    """Accept each payload on `route`, then wait until every delivery is finished."""
    for body in payloads:
        await service.accept(route, body)
    assert await service.dispatcher.wait_idle(SETTLE_SECONDS)


def metric(service: Service, line_start: str) -> str:
    lines = service.metrics.render().decode().splitlines()
    return "\n".join(sorted(x for x in lines if x.startswith(line_start)))


async def test_retryable_failures_back_off_then_deliver(tmp_path: Path) -> None:
    """Two 503s then success: backoff 1 s then 2 s (±20 % jitter), delivered once."""
    service, notifiers, fake = await started(tmp_path)
    notifiers["a"].failures = [retryable(), retryable()]
    await settle(service, payload())
    assert len(notifiers["a"].delivered) == 1
    assert len(notifiers["a"].attempts) == 3
    assert 0.8 <= fake.sleeps[0] <= 1.2
    assert 1.6 <= fake.sleeps[1] <= 2.4
    assert metric(service, "flamebot_notifications_total") == (
        'flamebot_notifications_total{notifier="a",outcome="ok"} 1.0\n'
        'flamebot_notifications_total{notifier="a",outcome="retry"} 2.0'
    )
    assert await service.store.deliveries.open_deliveries() == []
    await service.stop()


async def test_retry_after_is_honoured(tmp_path: Path) -> None:
    """A 429 asking for 7 s makes the pipeline wait exactly 7 s before the next attempt."""
    service, notifiers, fake = await started(tmp_path)
    notifiers["a"].failures = [retryable("HTTP 429", after=7.0)]
    await settle(service, payload())
    assert fake.sleeps == [7.0]
    assert len(notifiers["a"].delivered) == 1
    await service.stop()


async def test_permanent_failure_goes_to_dead_letters_at_once(tmp_path: Path) -> None:
    """A 400 is not retried: one attempt, a dead letter with the reason, counted."""
    service, notifiers, fake = await started(tmp_path)
    notifiers["a"].failures = [permanent("HTTP 400: invalid_blocks")]
    await settle(service, payload())
    assert (len(notifiers["a"].attempts), fake.sleeps) == (1, [])
    letters = await service.store.deliveries.dead_letters()
    assert [(x.notifier, x.reason, x.attempts) for x in letters] == [
        ("a", "permanent failure: fake: HTTP 400: invalid_blocks", 1)
    ]
    assert metric(service, "flamebot_dead_letters_total") == "flamebot_dead_letters_total 1.0"
    assert metric(service, "flamebot_notifications_total") == (
        'flamebot_notifications_total{notifier="a",outcome="failed"} 1.0'
    )
    await service.stop()


async def test_retry_budget_is_bounded(tmp_path: Path) -> None:
    """A notifier failing forever is retried until delivery.max_seconds, then dead-lettered."""
    config = make_config(tmp_path, delivery={"max_seconds": 30, "max_backoff_seconds": 8})
    service, notifiers, fake = await started(tmp_path, config=config)
    notifiers["a"].failures = [retryable() for _ in range(100)]
    await settle(service, payload())
    assert sum(fake.sleeps) <= 30
    assert len(notifiers["a"].attempts) == len(fake.sleeps) + 1
    assert 4 <= len(notifiers["a"].attempts) <= 8
    letters = await service.store.deliveries.dead_letters()
    assert [x.reason for x in letters] == ["retry budget exhausted: fake: HTTP 503"]
    assert letters[0].attempts == len(notifiers["a"].attempts)
    await service.stop()


async def test_one_failing_notifier_never_blocks_the_other(tmp_path: Path) -> None:
    """On a route with two notifiers, a permanently failing one does not stop the other."""
    service, notifiers, _ = await started(tmp_path)
    notifiers["b"].failures = [permanent()]
    await settle(service, payload(), route="both")
    assert [n.id for n in notifiers["a"].delivered] == [1]
    assert [x.notifier for x in await service.store.deliveries.dead_letters()] == ["b"]
    await service.stop()


async def test_jobs_of_one_group_run_in_arrival_order(tmp_path: Path) -> None:
    """The resolve of a group waits for its firing, even while the firing is retried."""
    service, notifiers, _ = await started(tmp_path)
    notifiers["a"].failures = [retryable(), retryable()]
    await settle(
        service,
        payload("reference-highcpuusage.json"),
        payload("reference-highcpuusage-resolved.json"),
    )
    assert [n.payload.status for n in notifiers["a"].delivered] == ["firing", "resolved"]
    assert [n.payload.status for n in notifiers["a"].attempts] == [
        "firing",
        "firing",
        "firing",
        "resolved",
    ]
    await service.stop()


async def test_one_group_by_two_routes_is_one_lane_per_notifier(tmp_path: Path) -> None:
    """A group's update by another route waits for its firing at that notifier (review bug)."""
    service, notifiers, _ = await started(tmp_path)
    notifiers["a"].gate = asyncio.Event()
    await service.accept("default", payload("reference-highcpuusage.json"))
    await wait_until_async(lambda: len(notifiers["a"].attempts) == 1)
    await service.accept("both", payload("reference-highcpuusage-resolved.json"))
    await wait_until_async(lambda: len(notifiers["b"].delivered) == 1)  # another notifier
    assert [n.payload.status for n in notifiers["a"].attempts] == ["firing"]  # still waits
    notifiers["a"].gate.set()
    assert await service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert [(n.route, n.payload.status) for n in notifiers["a"].delivered] == [
        ("default", "firing"),
        ("both", "resolved"),
    ]
    await service.stop()


async def test_groups_run_in_parallel(tmp_path: Path) -> None:
    """A group whose delivery hangs does not hold back another group."""
    hold = asyncio.Event()

    class Holding(RecordingNotifier):
        async def notify(self, notification: Any) -> None:
            if "payment" in notification.payload.group_key:
                await hold.wait()
            await super().notify(notification)

    holding = Holding("a")
    service, _, _ = await started(tmp_path, notifiers={"a": holding})
    await service.accept("default", payload("firing-payment-service.json"))
    await service.accept("default", payload("firing-checkout-service.json"))
    await wait_until_async(lambda: holding.delivered)
    assert ["checkout" in n.payload.group_key for n in holding.delivered] == [True]
    hold.set()
    assert await service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert len(holding.delivered) == 2
    await service.stop()


async def test_enrichment_runs_once_per_notification(tmp_path: Path) -> None:
    """Two notifiers of one route share one enrichment, which is stored with the job."""
    enricher = FixedEnricher()
    service, notifiers, _ = await started(tmp_path, enricher=enricher)
    result = await service.accept("both", payload())
    assert await service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert len(enricher.calls) == 1
    assert notifiers["a"].delivered[0].enrichment == notifiers["b"].delivered[0].enrichment
    stored = await service.store.deliveries.notification(result.id)
    assert stored is not None
    assert stored.enrichment is not None
    await service.stop()


async def test_crashing_enricher_still_delivers(tmp_path: Path) -> None:
    """An enricher bug costs the analysis, not the alert: delivered with the error named."""

    class Broken:
        def start(self) -> None:
            return None

        async def enrich(self, payload: WebhookPayload) -> Any:
            raise RuntimeError("boom")

        async def aclose(self) -> None:
            return None

    service, notifiers, _ = await started(tmp_path, enricher=Broken())
    await settle(service, payload())
    [delivered] = notifiers["a"].delivered
    assert [e.model_dump() for e in delivered.enrichment.errors] == [
        {"source": "enrichment", "reason": "enrichment failed: RuntimeError"}
    ]
    await service.stop()


async def test_replay_delivers_a_dead_letter(tmp_path: Path) -> None:
    """A dead letter sent again with `replay` reaches the notifier and is marked delivered."""
    service, notifiers, _ = await started(tmp_path)
    notifiers["a"].failures = [permanent()]
    await settle(service, payload())
    [letter] = await service.store.deliveries.dead_letters()
    await service.pipeline.replay(letter.notification_id, "a")
    assert [n.id for n in notifiers["a"].delivered] == [letter.notification_id]
    notifiers["a"].failures = [permanent("HTTP 404")]
    with pytest.raises(NotifyError, match="HTTP 404"):
        await service.pipeline.replay(letter.notification_id, "a")
    await service.stop()


async def test_restart_resumes_owed_deliveries(tmp_path: Path) -> None:
    """Work accepted before a stop is delivered by the next start on the same store."""
    config = make_config(tmp_path)
    service, notifiers, _ = await started(tmp_path, config=config)
    notifiers["a"].gate = asyncio.Event()  # never opened: the delivery is still owed
    await service.accept("default", payload())
    await wait_until_async(lambda: notifiers["a"].attempts)  # sent, its outcome not recorded
    assert await service.stop(grace_seconds=0) is False
    again, notifiers2, _ = await started(tmp_path, config=config)
    assert await again.dispatcher.wait_idle(SETTLE_SECONDS)
    assert [n.id for n in notifiers2["a"].delivered] == [1]
    assert metric(again, "flamebot_resent_after_crash_total") == (
        'flamebot_resent_after_crash_total{notifier="a"} 1.0'
    )
    await again.stop()


async def test_a_hanging_notifier_or_slow_enrichment_delays_no_one_else(tmp_path: Path) -> None:
    """With 2 slots per notifier, 12 slow enrichments run at once and all reach a, b hanging."""
    release = asyncio.Event()
    entered: list[str] = []

    class Slow(FixedEnricher):
        async def enrich(self, payload: WebhookPayload) -> Any:
            entered.append(payload.group_key)
            await release.wait()
            return await super().enrich(payload)

    config = make_config(tmp_path, queue={"workers": 2})
    hanging = RecordingNotifier("b")
    hanging.gate = asyncio.Event()  # never opened
    service, notifiers, _ = await started(
        tmp_path, config=config, enricher=Slow(), notifiers={"b": hanging}
    )
    for n in range(12):
        body = load_payload("firing.json")
        body["groupKey"] = f"{{}}:{{n={n}}}"
        await service.accept("both", WebhookPayload.model_validate(body))
    await wait_until_async(lambda: len(entered) == 12)  # all at once: no slot is taken
    assert (notifiers["a"].attempts, hanging.attempts) == ([], [])
    release.set()
    await wait_until_async(lambda: len(notifiers["a"].delivered) == 12)
    assert len(hanging.attempts) == 2  # its two slots, held
    await service.stop()


async def test_replay_refuses_a_state_the_group_has_moved_past(tmp_path: Path) -> None:
    """A dead-lettered firing is not replayed once the group's resolve was delivered."""
    service, notifiers, _ = await started(tmp_path)
    notifiers["a"].failures = [permanent()]
    await settle(
        service,
        payload("reference-highcpuusage.json"),
        payload("reference-highcpuusage-resolved.json"),
    )
    [letter] = await service.store.deliveries.dead_letters()
    with pytest.raises(ReplayRefusedError) as caught:
        await service.pipeline.replay(letter.notification_id, "a")
    assert str(caught.value) == (
        "notification 2 of the same group was delivered to a since;"
        " replaying 1 would bring back an older state"
    )
    assert [n.id for n in notifiers["a"].delivered] == [2]
    await service.stop()


async def test_the_service_starts_its_enricher(tmp_path: Path) -> None:
    """Starting the service starts the enricher's background work (profile-type listing)."""
    enricher = FixedEnricher()
    assert not enricher.started
    service, _, _ = await started(tmp_path, enricher=enricher)
    assert enricher.started
    await service.stop()


async def test_at_most_enrichment_concurrency_groups_are_analysed_at_once(tmp_path: Path) -> None:
    """With `enrichment.concurrency: 2`, 6 groups are analysed two at a time, all delivered."""
    release = asyncio.Event()
    running: list[int] = []
    entered: list[str] = []
    most = 0

    class Gated(FixedEnricher):
        async def enrich(self, payload: WebhookPayload) -> Any:
            nonlocal most
            entered.append(payload.group_key)
            running.append(1)
            most = max(most, len(running))
            await release.wait()
            running.pop()
            return await super().enrich(payload)

    config = make_config(tmp_path, enrichment={"concurrency": 2})
    enricher = Gated()
    service, notifiers, _ = await started(tmp_path, config=config, enricher=enricher)
    for n in range(6):
        body = load_payload("firing.json")
        body["groupKey"] = f"{{}}:{{n={n}}}"
        await service.accept("default", WebhookPayload.model_validate(body))
    await wait_until_async(lambda: len(entered) == 2)
    # The other four wait their turn: by the time a read queued behind theirs on the store's
    # thread is answered, and the loop has gone round, they would have entered too.
    await service.store.deliveries.open_deliveries()
    for _ in range(10):
        await asyncio.sleep(0)
    assert (len(entered), len(running)) == (2, 2)
    release.set()
    assert await service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert (most, len(entered), len(notifiers["a"].delivered)) == (2, 6, 6)
    await service.stop()
