"""Fix checks on resolve, scheduled in the store (PRODUCT.md §7.2).

When a resolved notification of a group is accepted, a fix check is scheduled for
`enrichment.verify_after` after the group resolved (the latest `endsAt` of its alerts),
keyed by (route, groupKey), in the store's `ScheduleStore`: it survives restarts. A firing
notification of the group cancels it; and a check whose group has had a later notification
delivered since is dropped when due. A background task wakes when the soonest check is
due (or when one is scheduled), claims it (a lease: a process that dies holding it has it
taken over), measures (`receiver.fixcheck_measure`), and adds the lines to the group's
conversation through every notifier of the route that takes follow-ups
(`receiver.seams.FollowUpNotifier`: Slack thread, PagerDuty note, console).

A Pyroscope failure or a retryable notifier failure is tried again with the delivery
backoff until `delivery.max_seconds` after the check was due; the lines, once measured,
are kept in the job, so a retry posts the same numbers, and only to the notifiers that
did not have them yet. Time is the service's injectable clock and sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import structlog

from enrichers.errors import BackendError
from enrichers.result import EnrichmentResult
from receiver.config import DeliverySettings
from receiver.errors import NotifyError
from receiver.fixcheck_measure import FixCheckSource, measure_fix
from receiver.models import WebhookPayload
from receiver.seams import Enricher, FollowUp, FollowUpNotifier, Notifier
from receiver.store import DeliveryStore, ScheduledJob, ScheduleStore

__all__ = ["FixChecks", "fix_check_key", "resolved_at"]

log = structlog.get_logger("flamebot.fixcheck")

IDLE_POLL_SECONDS = 5.0  # only when every due job is claimed by another process


def fix_check_key(route: str, group_key: str) -> str:
    return f"fix-check\x1f{route}\x1f{group_key}"


def resolved_at(payload: WebhookPayload, received_at: float) -> float:
    """When the group resolved: its alerts' latest `endsAt` (else when it was received)."""
    ends = [a.ends_at.timestamp() for a in payload.alerts if a.ends_at and a.ends_at.year > 1]
    return max(ends) if ends else received_at


class FixChecks:
    def __init__(
        self,
        schedules: ScheduleStore,
        deliveries: DeliveryStore,
        enricher: Enricher,
        source: FixCheckSource,
        notifiers: Mapping[str, Notifier],
        routes: Mapping[str, Sequence[str]],
        *,
        verify_after_seconds: float,
        delivery: DeliverySettings,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._schedules = schedules
        self._deliveries = deliveries
        self._enricher = enricher
        self._source = source
        self._notifiers = notifiers
        self._routes = routes
        self._after = verify_after_seconds
        self._delivery = delivery
        self._clock = clock
        self._sleep = sleep
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._cancels: set[asyncio.Task[None]] = set()
        self.rounds = 0  # passes over the due checks so far (a test waits for one more)

    async def accepted(self, nid: int, route: str, payload: WebhookPayload, at: float) -> None:
        """A new notification of a group: a resolve schedules its check (in the store before
        the webhook is answered), a firing cancels it, in the background (the intake does
        not wait on the pipeline's store lane for every firing; the check itself also
        looks for a newer notification of the group before it posts)."""
        key = fix_check_key(route, payload.group_key)
        if payload.status == "firing":
            task = asyncio.create_task(self._cancel(key, route, payload.group_key))
            self._cancels.add(task)
            task.add_done_callback(self._cancels.discard)
            return
        resolved = resolved_at(payload, at)
        due = resolved + self._after
        job = {"notification_id": nid, "route": route, "resolved_at": resolved, "due": due}
        await self._schedules.schedule(key, due, json.dumps(job))
        log.info("fix_check_scheduled", group_key=payload.group_key, route=route, due_at=due)
        self._wake.set()

    async def _cancel(self, key: str, route: str, group_key: str) -> None:
        try:
            if await self._schedules.get(key) is not None and await self._schedules.cancel(key):
                log.info("fix_check_cancelled", group_key=group_key, route=route)
        except Exception:
            log.exception("fix_check_cancel_failed", group_key=group_key, route=route)

    async def _fired_again(self, nid: int, route: str) -> bool:
        """Has a later notification of the group reached any notifier of the route?"""
        for name in self._routes.get(route, ()):
            if await self._deliveries.newer_delivered(nid, name) is not None:
                return True
        return False

    def start(self) -> None:
        self._task = asyncio.create_task(self._forever(), name="fix-checks")

    async def stop(self) -> None:
        await asyncio.gather(*self._cancels, return_exceptions=True)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                for job in await self._schedules.due(self._clock()):
                    await self._run(job)
                soonest = await self._schedules.next_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fix_check_crashed")
                soonest = self._clock() + IDLE_POLL_SECONDS
            self.rounds += 1
            await self._wait(soonest)

    async def _wait(self, soonest: float | None) -> None:
        """Until `soonest` (on the injected clock) or a new schedule, whichever is first."""
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wake.wait())]
        if soonest is not None:
            now = self._clock()
            delay = soonest - now if soonest > now else IDLE_POLL_SECONDS
            waits.append(asyncio.ensure_future(self._sleep(delay)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _run(self, job: ScheduledJob) -> None:
        state: dict[str, Any] = json.loads(job.payload)
        bound = log.bind(notification_id=state["notification_id"], route=state["route"])
        stored = await self._deliveries.notification(int(state["notification_id"]))
        if stored is None:
            bound.warning("fix_check_skipped", reason="notification no longer in the store")
            await self._schedules.done(job.id)
            return
        payload = WebhookPayload.model_validate_json(stored.payload)
        bound = bound.bind(group_key=payload.group_key)
        if await self._fired_again(stored.id, state["route"]):
            bound.info("fix_check_cancelled", reason="the group was notified again since")
            await self._schedules.done(job.id)
            return
        if state.get("lines") is None:
            try:
                state["lines"] = await self._lines(stored.enrichment, payload, state)
            except BackendError as exc:
                state["lines"] = await self._measure_failed(job, state, exc.reason, bound)
                if state["lines"] is None:
                    return
        if not state["lines"]:
            bound.info("fix_check_skipped", reason="no hotspot to check")
            await self._schedules.done(job.id)
            return
        current = await self._schedules.get(job.key)
        if current is None or current.id != job.id:  # cancelled by a new firing meanwhile
            return
        await self._post(job, state, payload, bound)

    async def _lines(
        self, saved: str | None, payload: WebhookPayload, state: Mapping[str, Any]
    ) -> list[str]:
        if saved is not None:
            enrichment = EnrichmentResult.model_validate_json(saved)
        else:  # not saved (a store that was full): a resolved group analyses the same again
            enrichment = await self._enricher.enrich(payload)
        after = timedelta(seconds=self._after)
        checks = await measure_fix(self._source, enrichment, float(state["resolved_at"]), after)
        several = len(checks) > 1
        for check in checks:
            log.info(
                "fix_check_made",
                service=check.service,
                function=check.function,
                outcome=check.outcome,
                during_pct=round(check.during_pct, 2),
                after_pct=round(check.after_pct, 2),
            )
        return [check.line(with_service=several) for check in checks]

    def _retry_at(self, job: ScheduledJob, state: Mapping[str, Any]) -> float | None:
        """When to try again (the delivery backoff), None past the retry budget."""
        now = self._clock()
        if now > float(state["due"]) + self._delivery.max_seconds:
            return None
        first, longest = self._delivery.initial_backoff_seconds, self._delivery.max_backoff_seconds
        return now + min(longest, first * 2.0 ** max(0, job.attempts - 1))

    async def _measure_failed(
        self,
        job: ScheduledJob,
        state: Mapping[str, Any],
        reason: str,
        bound: structlog.typing.FilteringBoundLogger,
    ) -> list[str] | None:
        """Try again later (None), or past the budget the line that says it was not made."""
        again = self._retry_at(job, state)
        if again is not None:
            bound.warning("fix_check_retrying", reason=f"pyroscope: {reason}")
            await self._schedules.postpone(job.id, again)
            return None
        return [f"fix check: not made: pyroscope failed: {reason}"]

    async def _post(
        self,
        job: ScheduledJob,
        state: dict[str, Any],
        payload: WebhookPayload,
        bound: structlog.typing.FilteringBoundLogger,
    ) -> None:
        posted: list[str] = list(state.get("posted", []))
        follow_up = FollowUp(int(state["notification_id"]), state["route"], payload, state["lines"])
        waiting: list[str] = []
        for name in self._routes.get(state["route"], ()):
            notifier = self._notifiers.get(name)
            if name in posted or not isinstance(notifier, FollowUpNotifier):
                continue
            try:
                await notifier.follow_up(follow_up)
            except NotifyError as exc:
                if exc.retryable:
                    waiting.append(name)
                bound.warning("fix_check_not_posted", notifier=name, error=str(exc))
                continue
            posted.append(name)
            bound.info("fix_check_posted", notifier=name)
        again = self._retry_at(job, state) if waiting else None
        if again is None:
            await self._schedules.done(job.id)
            return
        state["posted"] = posted
        await self._schedules.schedule(job.key, again, json.dumps(state))  # keeps the lines
