"""Notes on the far end's incident, added after the event went out (PagerDuty's analysis
note, reference/protocols.md §3.3): durable follow-up work, not part of the delivery.

A notifier whose event was accepted hands its note here (`receiver.seams.NoteQueue`): it
is a job of kind `note` in the store's `ScheduleStore`, keyed by (notifier, groupKey) and
due at once, written before the delivery is recorded as done; so a restart still adds it,
once (a crash between the note's post and its record may repeat that one note, as a
delivery may). The runner (`receiver.followups`) hands a due note to its notifier for one
attempt (`receiver.seams.NoteNotifier.add_note`): added, done; the incident not visible yet
(the Events API is asynchronous) or a 429/5xx, due again after the delivery backoff
(at least the far end's `Retry-After`); a permanent refusal, or still not added
`delivery.max_seconds` after it was first due, dropped and said by the notifier. Nothing
sleeps in a delivery's worker meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import structlog

from receiver.errors import NotifyError
from receiver.followups import SEPARATOR, FollowUps
from receiver.seams import Note, NoteNotifier
from receiver.store import ScheduledJob

__all__ = ["NOTE", "Notes", "note_key"]

log = structlog.get_logger("flamebot.notes")

NOTE = "note"  # the kind of job (`receiver.followups`)


def note_key(notifier: str, group_key: str) -> str:
    return f"{NOTE}{SEPARATOR}{notifier}{SEPARATOR}{group_key}"


class Notes:
    """`receiver.seams.NoteQueue` on the store, and the handler of its due jobs."""

    def __init__(self, runner: FollowUps, notifiers: Callable[[str], object | None]) -> None:
        self._runner = runner
        self._schedules = runner.schedules
        self._notifiers = notifiers
        runner.handle(NOTE, self)

    async def add(self, note: Note) -> bool:
        key = note_key(note.notifier, note.group_key)
        if await self._schedules.get(key) is not None:
            return False
        now = self._runner.clock()
        job = {
            "notifier": note.notifier,
            "group_key": note.group_key,
            "content": note.content,
            "notification_id": note.notification_id,
            "since": now,
        }
        await self._schedules.schedule(key, now, json.dumps(job))
        self._runner.wake()
        return True

    async def cancel(self, notifier: str, group_key: str) -> bool:
        key = note_key(notifier, group_key)
        return await self._schedules.get(key) is not None and await self._schedules.cancel(key)

    async def run(self, job: ScheduledJob) -> None:
        state = json.loads(job.payload)
        note = Note(
            state["notifier"], state["group_key"], state["content"], int(state["notification_id"])
        )
        notifier = self._notifiers(note.notifier)
        if not isinstance(notifier, NoteNotifier):
            log.warning("note_dropped", notifier=note.notifier, reason="no such notifier now")
            await self._schedules.done(job.id)
            return
        current = await self._schedules.get(job.key)
        if current is None or current.id != job.id:  # cancelled by a resolve meanwhile
            return
        error: NotifyError | None = None
        try:
            if await notifier.add_note(note):
                await self._schedules.done(job.id)
                return
        except NotifyError as exc:
            if not exc.retryable:
                notifier.note_dropped(note, exc)
                await self._schedules.done(job.id)
                return
            error = exc
        again = self._runner.retry_at(job, float(state["since"]))
        if again is None:
            notifier.note_dropped(note, error)
            await self._schedules.done(job.id)
            return
        if error is not None and error.retry_after is not None:
            again = max(again, self._runner.clock() + error.retry_after)
        log.info(
            "note_retrying",
            notifier=note.notifier,
            group_key=note.group_key,
            attempt=job.attempts,
            reason=str(error) if error is not None else "incident not visible yet",
        )
        await self._schedules.postpone(job.id, again)
