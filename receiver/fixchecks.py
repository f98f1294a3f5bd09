"""Fix checks on resolve, scheduled in the store (PRODUCT.md §7.2).

When a resolved notification of a group is accepted, a fix check is scheduled for
`enrichment.verify_after` after the group resolved (the latest `endsAt` of its alerts),
keyed by (route, groupKey), in the store's `ScheduleStore`: it survives restarts. A firing
notification of the group cancels it; and a check whose group has had a later notification
delivered since is dropped when due. The runner of follow-up jobs
(`receiver.followups`) hands a due check here (claimed: a process that dies holding it has
it taken over), which measures (`receiver.fixcheck_measure`), and adds the lines to the group's
conversation through every notifier of the route that takes follow-ups
(`receiver.seams.FollowUpNotifier`: Slack thread, PagerDuty note, console).

A Pyroscope failure or a retryable notifier failure is tried again with the delivery
backoff until `delivery.max_seconds` after the check was due; the lines, once measured,
are kept in the job, so a retry posts the same numbers, and only to the notifiers that
did not have them yet. Time is the service's injectable clock and sleep.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import structlog

from enrichers.errors import BackendError
from enrichers.result import EnrichmentResult
from receiver.errors import NotifyError
from receiver.fixcheck_measure import FixCheckSource, measure_fix
from receiver.followups import SEPARATOR, FollowUps
from receiver.models import WebhookPayload
from receiver.seams import Enricher, FollowUp, FollowUpNotifier, Notifier
from receiver.store import DeliveryStore, ScheduledJob

__all__ = ["FixChecks", "fix_check_key", "resolved_at"]

log = structlog.get_logger("flamebot.fixcheck")

FIX_CHECK = "fix-check"  # the kind of job (`receiver.followups`)


def fix_check_key(route: str, group_key: str) -> str:
    return f"{FIX_CHECK}{SEPARATOR}{route}{SEPARATOR}{group_key}"


def resolved_at(payload: WebhookPayload, received_at: float) -> float:
    """When the group resolved: its alerts' latest `endsAt` (else when it was received)."""
    ends = [a.ends_at.timestamp() for a in payload.alerts if a.ends_at and a.ends_at.year > 1]
    return max(ends) if ends else received_at


class FixChecks:
    def __init__(
        self,
        runner: FollowUps,
        deliveries: DeliveryStore,
        enricher: Enricher,
        source: FixCheckSource,
        notifiers: Mapping[str, Notifier],
        routes: Mapping[str, Sequence[str]],
        *,
        verify_after_seconds: float,
    ) -> None:
        self._runner = runner
        self._schedules = runner.schedules
        self._deliveries = deliveries
        self._enricher = enricher
        self._source = source
        self._notifiers = notifiers
        self._routes = routes
        self._after = verify_after_seconds
        self._calls_off: dict[str, tuple[str, str]] = {}  # key -> (route, groupKey)
        self._caller_off: asyncio.Task[None] | None = None
        runner.handle(FIX_CHECK, self)

    @property
    def rounds(self) -> int:
        """Passes of the runner over the due jobs so far (a test waits for one more)."""
        return self._runner.rounds

    async def stop(self) -> None:
        """Let the cancellations in flight finish."""
        if self._caller_off is not None:
            await asyncio.gather(self._caller_off, return_exceptions=True)

    async def accepted(self, nid: int, route: str, payload: WebhookPayload, at: float) -> None:
        """A new notification of a group: a resolve schedules its check (in the store before
        the webhook is answered), a firing calls it off in the background: the firings of a
        burst are looked up together, in one read (the intake does not wait on the
        pipeline's store lane for every firing; the check itself also looks for a newer
        notification of the group before it posts)."""
        key = fix_check_key(route, payload.group_key)
        if payload.status == "firing":
            self._calls_off[key] = (route, payload.group_key)
            if self._caller_off is None or self._caller_off.done():
                self._caller_off = asyncio.create_task(
                    self._call_off(), name="flamebot-fix-check-call-off"
                )
            return
        self._calls_off.pop(key, None)  # the check this resolve schedules is the newer one
        resolved = resolved_at(payload, at)
        due = resolved + self._after
        job = {"notification_id": nid, "route": route, "resolved_at": resolved, "due": due}
        await self._schedules.schedule(key, due, json.dumps(job))
        log.info("fix_check_scheduled", group_key=payload.group_key, route=route, due_at=due)
        self._runner.wake()

    async def _call_off(self) -> None:
        """Remove the checks of the groups that fired again, by job id: a check that a
        resolve scheduled meanwhile has a new id and stays."""
        while self._calls_off:
            groups, self._calls_off = self._calls_off, {}
            try:
                for key, job_id in (await self._schedules.scheduled(groups)).items():
                    if await self._schedules.done(job_id):
                        route, group_key = groups[key]
                        log.info("fix_check_cancelled", group_key=group_key, route=route)
            except Exception:
                log.exception("fix_check_cancel_failed", groups=len(groups))

    async def _fired_again(self, nid: int, route: str) -> bool:
        """Has a later notification of the group reached any notifier of the route?"""
        for name in self._routes.get(route, ()):
            if await self._deliveries.newer_delivered(nid, name) is not None:
                return True
        return False

    async def run(self, job: ScheduledJob) -> None:
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

    async def _measure_failed(
        self,
        job: ScheduledJob,
        state: Mapping[str, Any],
        reason: str,
        bound: structlog.typing.FilteringBoundLogger,
    ) -> list[str] | None:
        """Try again later (None), or past the budget the line that says it was not made."""
        again = self._runner.retry_at(job, float(state["due"]))
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
        again = self._runner.retry_at(job, float(state["due"])) if waiting else None
        if again is None:
            await self._schedules.done(job.id)
            return
        state["posted"] = posted
        await self._schedules.schedule(job.key, again, json.dumps(state))  # keeps the lines
