"""The runner of durable follow-up work: jobs in the store's `ScheduleStore`, done later
than the delivery that left them, and retried with the delivery backoff.

Two kinds of job share it, told apart by the first field of their key: the fix check after
a resolve (`fix-check`, `receiver.fixchecks`) and a notifier's note on the incident its
event opened (`note`, `receiver.notes`: PagerDuty's analysis note). A background task
wakes when the soonest job is due (or when one is scheduled), claims the due jobs (a
lease: a process that dies holding one has it taken over) and hands each to its kind's
handler, which says itself whether the job is done or due again later. Jobs are in the
store, so a restart picks up what was left. Time is the service's injectable clock and sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

from receiver.background import Background
from receiver.config import DeliverySettings
from receiver.store import ScheduledJob, ScheduleStore

__all__ = ["FollowUps", "JobHandler", "job_kind"]

log = structlog.get_logger("flamebot.followups")

IDLE_POLL_SECONDS = 5.0  # only when every due job is claimed by another process
SEPARATOR = "\x1f"


def job_kind(key: str) -> str:
    """A job's kind: the first field of its key (`fix-check`, `note`)."""
    return key.split(SEPARATOR, 1)[0]


class JobHandler(Protocol):
    async def run(self, job: ScheduledJob) -> None:
        """One try at a due job: end with `done`, `postpone` or a new `schedule` of it."""


class FollowUps:
    def __init__(
        self,
        schedules: ScheduleStore,
        *,
        delivery: DeliverySettings,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.schedules = schedules
        self.clock = clock
        self._delivery = delivery
        self._sleep = sleep
        self._handlers: dict[str, JobHandler] = {}
        self._wake = asyncio.Event()
        self._running = Background()
        self.rounds = 0  # passes over the due jobs so far (a test waits for one more)

    def handle(self, kind: str, handler: JobHandler) -> None:
        self._handlers[kind] = handler

    def wake(self) -> None:
        """A job was scheduled: look at the soonest one again."""
        self._wake.set()

    def retry_at(self, job: ScheduledJob, since: float) -> float | None:
        """When to try again (the delivery backoff), None once `delivery.max_seconds` have
        passed since the job was first due."""
        now = self.clock()
        if now > since + self._delivery.max_seconds:
            return None
        first, longest = self._delivery.initial_backoff_seconds, self._delivery.max_backoff_seconds
        return now + min(longest, first * 2.0 ** max(0, job.attempts - 1))

    def start(self) -> None:
        self._running.start(self._forever(), name="follow-ups")

    async def stop(self) -> None:
        await self._running.cancel()

    async def _forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                for job in await self.schedules.due(self.clock()):
                    await self._run(job)
                soonest = await self.schedules.next_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("follow_up_crashed")
                soonest = self.clock() + IDLE_POLL_SECONDS
            self.rounds += 1
            await self._wait(soonest)

    async def _run(self, job: ScheduledJob) -> None:
        handler = self._handlers.get(job_kind(job.key))
        if handler is None:  # e.g. fix checks switched off since the job was scheduled
            log.warning("follow_up_dropped", kind=job_kind(job.key), reason="not enabled")
            await self.schedules.done(job.id)
            return
        await handler.run(job)

    async def _wait(self, soonest: float | None) -> None:
        """Until `soonest` (on the injected clock) or a new schedule, whichever is first."""
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wake.wait())]
        if soonest is not None:
            now = self.clock()
            delay = soonest - now if soonest > now else IDLE_POLL_SECONDS
            waits.append(asyncio.ensure_future(self._sleep(delay)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
