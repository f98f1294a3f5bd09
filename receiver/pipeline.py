"""The pipeline: enrich once per notification, then deliver to each notifier with retries.

The retry policy (`receiver.retry`) is applied here and only here: exponential backoff
(with jitter, at least the far end's `Retry-After`) until `delivery.max_seconds` after the
webhook was received; then, or at once for a permanent failure, the delivery goes to the
dead-letter table.

flamebot's own store being locked or full is never the alert's fault: the pipeline's
records (sending, retry, done, dead) wait for the store to take them, and the saved
enrichment is only a cache, so failing to save it costs a re-enrichment after a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from enrichers.result import EnrichmentResult, SourceError
from receiver.config import DeliverySettings
from receiver.errors import NotifyError, ReplayRefusedError, StoreUnavailableError
from receiver.metrics import Metrics
from receiver.models import WebhookPayload
from receiver.retry import RetryPolicy
from receiver.seams import Enricher, Notification, Notifier
from receiver.store import Delivery, DeliveryStore, StoredNotification

__all__ = ["Pipeline"]

log = structlog.get_logger("flamebot.pipeline")

T = TypeVar("T")


def _bound(delivery: Delivery) -> structlog.typing.FilteringBoundLogger:
    bound: structlog.typing.FilteringBoundLogger = log.bind(
        notification_id=delivery.notification_id,
        notifier=delivery.notifier,
        route=delivery.route,
        group_key=delivery.group_key,
    )
    return bound


def _empty_enrichment(reason: str) -> EnrichmentResult:
    return EnrichmentResult(
        enriched_at=datetime.now(UTC), errors=[SourceError(source="enrichment", reason=reason)]
    )


class Pipeline:
    def __init__(
        self,
        store: DeliveryStore,
        enricher: Enricher,
        notifiers: dict[str, Notifier],
        metrics: Metrics,
        settings: DeliverySettings,
        *,
        workers: int,
        analyses: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._enricher = enricher
        self._notifiers = notifiers
        self._metrics = metrics
        self._policy = RetryPolicy(settings, clock)
        self._settings = settings
        self._sleep = sleep
        # Each notifier has `workers` slots of its own: a hanging integration fills only its
        # own, so it never delays the others. Enrichment takes none of these slots.
        self._slots = {name: asyncio.Semaphore(workers) for name in notifiers}
        # At most `analyses` notifications are read and analysed at once (each within its
        # deadline). Unbounded, a backlog of thousands of groups fills the event loop and
        # the heap, and every webhook answer waits behind their steps and the full garbage
        # collections they cause; bounded, the backlog waits its turn, holding little.
        self._analysing = asyncio.Semaphore(analyses)
        self._enrichments: dict[int, asyncio.Task[EnrichmentResult]] = {}

    async def deliver(self, delivery: Delivery) -> None:
        """Deliver one notification to one notifier; records every outcome in the store."""
        bound: structlog.typing.FilteringBoundLogger | None = None
        try:
            async with self._analysing:
                notification = await self._notification(delivery.notification_id)
            # Bound only now: a delivery waiting its turn holds as little as possible.
            bound = _bound(delivery).bind(receiver=notification.payload.receiver)
            if delivery.interrupted:
                self._metrics.resent.labels(notifier=delivery.notifier).inc()
                bound.warning("delivery_resumed", reason="interrupted between send and record")
            notifier = self._notifiers.get(delivery.notifier)
            if notifier is None:
                reason = f"no notifier named {delivery.notifier!r} is configured"
                await self._bury(delivery, reason, bound)
                return
            await self._send(delivery, notifier, notification, bound)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            bound = bound or _bound(delivery)
            bound.exception("delivery_crashed")
            await self._bury(delivery, f"internal error: {type(exc).__name__}", bound)

    async def _notification(self, nid: int) -> Notification:
        stored = await self._store.notification(nid)
        if stored is None:
            raise LookupError(f"notification {nid} is not in the store")
        payload = WebhookPayload.model_validate_json(stored.payload)
        enrichment = await self._enrichment(stored, payload)
        return Notification(stored.id, stored.route, payload, enrichment)

    async def _enrichment(
        self, stored: StoredNotification, payload: WebhookPayload
    ) -> EnrichmentResult:
        """Enrich once per notification, shared by all its notifiers, kept across restarts."""
        if stored.enrichment is not None:
            return EnrichmentResult.model_validate_json(stored.enrichment)
        task = self._enrichments.get(stored.id)
        if task is None:
            task = asyncio.create_task(self._enrich(stored, payload))
            self._enrichments[stored.id] = task
            task.add_done_callback(lambda _: self._enrichments.pop(stored.id, None))
        return await asyncio.shield(task)

    async def _enrich(
        self, stored: StoredNotification, payload: WebhookPayload
    ) -> EnrichmentResult:
        started = time.monotonic()
        try:
            result = await self._enricher.enrich(payload)
        except Exception as exc:
            log.exception("enrichment_failed", notification_id=stored.id)
            result = _empty_enrichment(f"enrichment failed: {type(exc).__name__}")
        self._metrics.enrichment_seconds.observe(time.monotonic() - started)
        for analysis in result.services:
            self._metrics.analyses.labels(
                verdict=analysis.verdict, severity=analysis.severity
            ).inc()
        try:
            await self._store.save_enrichment(stored.id, result.model_dump_json())
        except StoreUnavailableError as exc:
            log.warning("enrichment_not_saved", notification_id=stored.id, reason=str(exc))
        return result

    async def _record(self, write: Callable[[], Awaitable[T]]) -> T:
        """A store write the delivery cannot go on without: a locked or full store is
        waited out (backoff up to `max_backoff_seconds`), never a reason to drop the alert."""
        return await self._store.persist(
            write,
            first_wait=self._settings.initial_backoff_seconds,
            longest_wait=self._settings.max_backoff_seconds,
            sleep=self._sleep,
        )

    async def _send(
        self,
        delivery: Delivery,
        notifier: Notifier,
        notification: Notification,
        bound: structlog.typing.FilteringBoundLogger,
    ) -> None:
        deadline = delivery.received_at + self._settings.max_seconds
        nid, name = delivery.notification_id, delivery.notifier

        async def attempt() -> None:
            # `sending` only once a slot is ours: a delivery queued behind the slots has not
            # been sent, and a crash must not count it as resent after restart.
            async with self._slots[name]:
                since = await self._record(lambda: self._store.mark_sending(nid, name))
                # Cut off by a crash (or a lost replica): the notifier looks for that send.
                resumed = since if delivery.interrupted else None
                await notifier.notify(
                    replace(notification, delivery_id=f"{nid}:{name}", resumed_since=resumed)
                )

        async def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            self._metrics.notifications.labels(notifier=name, outcome="retry").inc()
            bound.warning(
                "notify_retrying", error=str(exc), wait_seconds=round(state.upcoming_sleep, 3)
            )
            await self._record(lambda: self._store.mark_retry(nid, name, str(exc)))

        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda e: isinstance(e, NotifyError) and e.retryable),
            wait=self._policy.wait,
            stop=lambda state: self._policy.out_of_time(deadline, state),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            await retrying(attempt)
        except NotifyError as exc:
            why = "permanent failure" if not exc.retryable else "retry budget exhausted"
            await self._bury(delivery, f"{why}: {exc}", bound)
            return
        await self._record(lambda: self._store.mark_done(nid, name))
        self._metrics.notifications.labels(notifier=name, outcome="ok").inc()
        bound.info("notify_succeeded")

    async def stop(self) -> None:
        """Abandon the enrichments still running (their deliveries stay owed in the store),
        then close the notifiers' and the enricher's connections."""
        tasks = list(self._enrichments.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for notifier in self._notifiers.values():
            await notifier.aclose()
        await self._enricher.aclose()

    async def replay(self, nid: int, name: str) -> None:
        """Send a dead letter once more (`flamebot replay`); raises NotifyError on failure.

        Refused (ReplayRefusedError) when the group has since delivered a newer notification
        to that notifier: replaying a firing after its resolve would reopen the incident.
        """
        notifier = self._notifiers.get(name)
        if notifier is None:
            raise NotifyError(name, "no notifier of that name is configured", retryable=False)
        newer = await self._store.newer_delivered(nid, name)
        if newer is not None:
            raise ReplayRefusedError(
                f"notification {newer} of the same group was delivered to {name} since;"
                f" replaying {nid} would bring back an older state"
            )
        notification = await self._notification(nid)
        await self._store.mark_sending(nid, name)
        try:
            await notifier.notify(replace(notification, delivery_id=f"{nid}:{name}"))
        except NotifyError as exc:
            await self._store.mark_dead_again(nid, name, str(exc))
            self._metrics.notifications.labels(notifier=name, outcome="failed").inc()
            raise
        await self._store.mark_done(nid, name)
        self._metrics.notifications.labels(notifier=name, outcome="ok").inc()

    async def _bury(
        self, delivery: Delivery, reason: str, bound: structlog.typing.FilteringBoundLogger
    ) -> None:
        nid, name = delivery.notification_id, delivery.notifier
        dead_id = await self._record(lambda: self._store.mark_dead(nid, name, reason))
        self._metrics.notifications.labels(notifier=delivery.notifier, outcome="failed").inc()
        self._metrics.dead_letters.inc()
        bound.error("notify_failed", reason=reason, dead_letter_id=dead_id)
