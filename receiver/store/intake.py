"""The intake log: webhooks recorded durably before the 200, duplicates found, work counted.

A notification is committed (on the intake lane: `synchronous=FULL` on SQLite, a durable
commit on PostgreSQL) before the webhook is answered 200, with one delivery row per
notifier of its route. Webhooks arriving together share one commit (group commit): while
one commit is on its way to the disk, the next webhooks queue, and go in the next commit
together, in a few statements whatever their number (a thread switch per statement is
what a busy event loop makes slow); if the database fails the group, each webhook is tried
again alone, so one failure fails only its webhook. A 200 is given only once the commit
that holds the webhook returned. Identities
(`receiver.models.notification_identity`) find redeliveries with `INSERT ... ON CONFLICT`
(also across replicas); they are kept 7 days after the notification finished.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from receiver.errors import StoreFullError, StoreUnavailableError
from receiver.store.db import DB_ERRORS, Db, SqliteDb
from receiver.store.records import AcceptResult, Incoming
from receiver.store.sqlite import Lane

__all__ = ["IDENTITY_TTL_SECONDS", "IntakeLog", "PendingCount"]

IDENTITY_TTL_SECONDS = 7 * 24 * 3600  # PRODUCT.md §4: identities are kept 7 days
WORK_CHANNEL = "flamebot_work"  # PostgreSQL NOTIFY channel: new work for the replicas

Outcome = AcceptResult | Exception
T = TypeVar("T")


class PendingCount:
    """Notifications accepted and not yet finished: raised by intake, lowered by delivery."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0  # read from the event loop

    def change(self, by: int) -> None:
        with self._lock:
            self.value += by

    def set(self, value: int) -> None:
        with self._lock:
            self.value = value


@dataclass
class _Waiting:
    incoming: Incoming
    notifiers: list[str]
    max_pending: int
    future: asyncio.Future[AcceptResult] = field(repr=False)


ROWS_PER_STATEMENT = 100  # values per row x 100: far below SQLite's 32,766 variables


def _chunks(rows: list[T]) -> list[list[T]]:
    return [rows[at : at + ROWS_PER_STATEMENT] for at in range(0, len(rows), ROWS_PER_STATEMENT)]


def _stored(db: Db, identities: list[str]) -> dict[str, Outcome]:
    """The notifications already stored under `identities`, as duplicates."""
    found: dict[str, Outcome] = {}
    for chunk in _chunks(identities):
        marks = ", ".join("?" * len(chunk))
        for identity, nid, received_at in db.execute(
            f"SELECT identity, id, received_at FROM notifications WHERE identity IN ({marks})",  # noqa: S608
            chunk,
        ).fetchall():
            found[identity] = AcceptResult(int(nid), True, float(received_at))
    return found


def _insert(db: Db, fresh: list[_Waiting], now: float) -> dict[str, int]:
    """Insert the new notifications; identity -> id of those this transaction inserted."""
    ids: dict[str, int] = {}
    for chunk in _chunks(fresh):
        values: list[object] = []
        for new in chunk:
            incoming = new.incoming
            done_at = None if new.notifiers else now  # nothing to deliver: finished on arrival
            values += (incoming.identity, incoming.route, incoming.group_key)
            values += (incoming.payload, now, done_at)
        sql = (
            "INSERT INTO notifications (identity, route, group_key, payload, received_at,"  # noqa: S608
            " done_at) VALUES "
            + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk))
            + " ON CONFLICT (identity) DO NOTHING"
        )
        identities = [new.incoming.identity for new in chunk]
        if isinstance(db, SqliteDb):
            ids.update(_insert_sqlite(db, sql, values, identities))
        else:
            rows = db.execute(sql + " RETURNING id, identity", values).fetchall()
            ids.update((identity, int(nid)) for nid, identity in rows)
    return ids


def _insert_sqlite(
    db: SqliteDb, sql: str, values: list[object], identities: list[str]
) -> dict[str, int]:
    """The insert without RETURNING: each row SQLite returns is one more step of the
    statement, and each step gives the interpreter's lock up and waits to take it back
    from the busy event loop (at 10 senders, a group commit took 2 ms of which 0.25 ms
    was SQLite's). The ids are read off instead. An AUTOINCREMENT key gives each new row
    an id above every id the table ever held, so the rows this statement inserted are
    those of its identities with the highest ids; when it inserted every row, they are
    consecutive, in the order of VALUES, and no statement is needed."""
    before = db.total_changes
    last = db.execute(sql, values).lastrowid
    inserted = db.total_changes - before
    if inserted == 0 or last is None:
        return {}
    if inserted == len(identities):  # no identity was stored before: the common case
        return dict(zip(identities, range(last - inserted + 1, last + 1), strict=True))
    marks = ", ".join("?" * len(identities))
    return {
        identity: int(nid)
        for nid, identity in db.execute(
            f"SELECT id, identity FROM notifications WHERE identity IN ({marks})"  # noqa: S608
            " ORDER BY id DESC LIMIT ?",
            [*identities, inserted],
        ).fetchall()
    }


class IntakeLog:
    """Accepts on the intake lane in group commits; counting and pruning on the work lane."""

    def __init__(
        self,
        intake: Lane,
        work: Lane,
        pending: PendingCount,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lane = intake
        self._work = work
        self._pending = pending
        self._clock = clock
        self._queue: list[_Waiting] = []
        self._flusher: asyncio.Task[None] | None = None
        self.commits = 0  # durable commits made (each may hold several webhooks)

    @property
    def pending(self) -> int:
        """Notifications accepted and not yet finished (read from the event loop)."""
        return self._pending.value

    def _commit(self, db: Db, group: list[_Waiting]) -> list[Outcome]:
        """All of `group` in one transaction and one durable commit. If the database fails
        it, each webhook is tried again in a commit of its own: one bad webhook fails alone."""
        now = self._clock()
        try:
            with db.pipeline():  # PostgreSQL: the statements go out together
                db.begin()
                outcomes, added = self._batch(db, group, now)
                if added and db.dialect == "postgresql":
                    db.execute(f"NOTIFY {WORK_CHANNEL}")
                db.commit()
        except DB_ERRORS as exc:
            db.rollback()  # also what SQLite rolled back itself (SQLITE_FULL)
            if len(group) == 1:
                return [StoreUnavailableError(str(exc))]
            return [outcome for new in group for outcome in self._commit(db, [new])]
        self.commits += 1
        self._pending.change(added)  # only once committed: a failed COMMIT counts nothing
        return outcomes

    def _batch(self, db: Db, group: list[_Waiting], now: float) -> tuple[list[Outcome], int]:
        """The group's rows in a few statements, whatever its size: the identities already
        stored, the new notifications, their deliveries. (outcomes, work added)."""
        # Far from max_pending, no webhook can be refused: insert first, and look up only
        # those the insert found stored (one statement less for a group of new webhooks).
        roomy = self._pending.value + len(group) < min(new.max_pending for new in group)
        identities = list(dict.fromkeys(new.incoming.identity for new in group))
        known = {} if roomy else _stored(db, identities)
        first: dict[str, _Waiting] = {}  # identity -> the webhook that brings it
        refused: dict[int, Outcome] = {}  # place in the group -> why it was refused
        added = 0
        for place, new in enumerate(group):
            identity = new.incoming.identity
            if identity in known or identity in first:
                continue
            if self._pending.value + added >= new.max_pending:
                waiting = self._pending.value + added
                refused[place] = StoreFullError(f"{waiting} notifications are waiting")
                continue
            first[identity] = new
            added += bool(new.notifiers)
        ids = _insert(db, list(first.values()), now)
        found = [identity for identity in first if identity not in ids]
        if found:  # stored before (roomy), or by another replica meanwhile
            known.update(_stored(db, found))
            added -= sum(bool(first[identity].notifiers) for identity in found)
        rows = [
            (ids[identity], name, now)
            for identity, new in first.items()
            if identity in ids
            for name in new.notifiers
        ]
        for chunk in _chunks(rows):
            db.execute(
                "INSERT INTO deliveries (notification_id, notifier, state, updated_at) VALUES "  # noqa: S608
                + ", ".join(["(?, ?, 'pending', ?)"] * len(chunk)),
                [value for row in chunk for value in row],
            )
        outcomes: list[Outcome] = []
        for place, new in enumerate(group):
            identity = new.incoming.identity
            if place in refused:
                outcomes.append(refused[place])
            elif identity in ids:
                outcomes.append(AcceptResult(ids[identity], first[identity] is not new, now))
            else:
                outcomes.append(known[identity])
        return outcomes, added

    def _safe_commit(self, db: Db, group: list[_Waiting]) -> list[Outcome]:
        try:
            return self._commit(db, group)
        except DB_ERRORS as exc:  # the ROLLBACK itself failed (e.g. a lost server)
            failed: Outcome = StoreUnavailableError(str(exc))
            return [failed] * len(group)

    async def _flush(self) -> None:
        """Commit what queued, again and again, until nothing waits."""
        while self._queue:
            group, self._queue = self._queue, []
            try:
                outcomes = await self._lane.run(partial(self._safe_commit, group=group))
            except Exception as exc:  # the store is closed, or a bug: fail the group
                outcomes = [exc] * len(group)
            for new, outcome in zip(group, outcomes, strict=True):
                if new.future.done():
                    continue  # its caller is gone (the client hung up)
                if isinstance(outcome, Exception):
                    new.future.set_exception(outcome)
                else:
                    new.future.set_result(outcome)

    async def accept(
        self, incoming: Incoming, notifiers: list[str], max_pending: int
    ) -> AcceptResult:
        """Record a notification durably (in the next group commit), or find its original."""
        waiting = _Waiting(
            incoming, notifiers, max_pending, asyncio.get_running_loop().create_future()
        )
        self._queue.append(waiting)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="flamebot-intake-commit")
        return await waiting.future

    async def count_pending(self) -> int:
        """Set the count from the store (at start, and for replicas that share the store)."""

        def count(db: Db) -> int:
            sql = "SELECT COUNT(*) FROM notifications WHERE done_at IS NULL"
            return int(db.execute(sql).fetchone()[0])

        found = await self._work.run(count)
        self._pending.set(found)
        return found

    async def prune(self, now: float | None = None) -> int:
        """Forget finished notifications older than the identity TTL (7 days), and the
        conversations of groups quiet for as long."""
        cutoff = (self._clock() if now is None else now) - IDENTITY_TTL_SECONDS

        def prune(db: Db) -> int:
            old = "SELECT id FROM notifications WHERE done_at IS NOT NULL AND received_at < ?"
            keep = "SELECT notification_id FROM dead_letters WHERE replayed_at IS NULL"
            db.execute(
                f"DELETE FROM deliveries WHERE notification_id IN ({old})"  # noqa: S608
                f" AND notification_id NOT IN ({keep})",
                (cutoff,),
            )
            db.execute(
                f"DELETE FROM dead_letters WHERE notification_id IN ({old})"  # noqa: S608
                " AND replayed_at IS NOT NULL",
                (cutoff,),
            )
            cur = db.execute(
                f"DELETE FROM notifications WHERE id IN ({old})"  # noqa: S608
                f" AND id NOT IN ({keep})",
                (cutoff,),
            )
            db.execute(
                "DELETE FROM conversations WHERE updated_at < ? AND NOT EXISTS (SELECT 1 FROM"
                " notifications n WHERE n.group_key = conversations.group_key"
                " AND (n.done_at IS NULL OR n.received_at >= ?))",
                (cutoff, cutoff),
            )
            return cur.rowcount

        return await self._work.write(prune)
