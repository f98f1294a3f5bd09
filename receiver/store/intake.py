"""The intake log: webhooks recorded durably before the 200, duplicates found, work counted.

A notification is committed (on the intake lane: `synchronous=FULL` on SQLite, a durable
commit on PostgreSQL) before the webhook is answered 200, with one delivery row per
notifier of its route. Webhooks arriving together share one commit (group commit): while
one commit is on its way to the disk, the next webhooks queue, and go in the next commit
together, each in a savepoint of its own so one failure fails only its webhook. A 200 is
given only once the commit that holds the webhook returned. Identities
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

from receiver.errors import StoreFullError, StoreUnavailableError
from receiver.store.db import DB_ERRORS, Db
from receiver.store.records import AcceptResult, Incoming
from receiver.store.sqlite import Lane

__all__ = ["IDENTITY_TTL_SECONDS", "IntakeLog", "PendingCount"]

IDENTITY_TTL_SECONDS = 7 * 24 * 3600  # PRODUCT.md §4: identities are kept 7 days
WORK_CHANNEL = "flamebot_work"  # PostgreSQL NOTIFY channel: new work for the replicas

Outcome = AcceptResult | Exception


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

    def _one(self, db: Db, new: _Waiting, now: float, added: int) -> AcceptResult:
        """One webhook inside the group's transaction (in its own savepoint)."""
        incoming = new.incoming
        row = db.execute(
            "SELECT id, received_at FROM notifications WHERE identity = ?", (incoming.identity,)
        ).fetchone()
        if row is not None:
            return AcceptResult(id=int(row[0]), duplicate=True, received_at=float(row[1]))
        if self._pending.value + added >= new.max_pending:
            raise StoreFullError(f"{self._pending.value + added} notifications are waiting")
        done_at = None if new.notifiers else now  # nothing to deliver: finished on arrival
        row = db.execute(
            "INSERT INTO notifications (identity, route, group_key, payload, received_at,"
            " done_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (identity) DO NOTHING"
            " RETURNING id",
            (incoming.identity, incoming.route, incoming.group_key, incoming.payload, now, done_at),
        ).fetchone()
        if row is None:  # another replica committed the same identity meanwhile
            row = db.execute(
                "SELECT id, received_at FROM notifications WHERE identity = ?",
                (incoming.identity,),
            ).fetchone()
            return AcceptResult(id=int(row[0]), duplicate=True, received_at=float(row[1]))
        nid = int(row[0])
        db.executemany(
            "INSERT INTO deliveries (notification_id, notifier, state, updated_at)"
            " VALUES (?, ?, 'pending', ?)",
            [(nid, name, now) for name in new.notifiers],
        )
        return AcceptResult(id=nid, duplicate=False, received_at=now)

    def _commit(self, db: Db, group: list[_Waiting]) -> list[Outcome]:
        """All of `group` in one transaction and one durable commit."""
        now = self._clock()
        outcomes: list[Outcome] = []
        added = 0
        db.begin()
        for new in group:
            db.execute("SAVEPOINT webhook")
            try:
                result = self._one(db, new, now, added)
            except StoreFullError as exc:
                db.execute("ROLLBACK TO SAVEPOINT webhook")
                outcomes.append(exc)
                continue
            except DB_ERRORS as exc:
                if not db.in_transaction:  # SQLite rolled back the whole group (SQLITE_FULL)
                    failed: Outcome = StoreUnavailableError(str(exc))
                    rest = [failed] * (len(group) - len(outcomes))
                    return [failed if isinstance(o, AcceptResult) else o for o in outcomes] + rest
                db.execute("ROLLBACK TO SAVEPOINT webhook")
                outcomes.append(StoreUnavailableError(str(exc)))
                continue
            db.execute("RELEASE SAVEPOINT webhook")
            outcomes.append(result)
            if not result.duplicate and new.notifiers:
                added += 1
        if added and db.dialect == "postgresql":
            db.execute(f"NOTIFY {WORK_CHANNEL}")
        try:
            db.execute("COMMIT")
        except DB_ERRORS as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            lost: Outcome = StoreUnavailableError(str(exc))
            return [lost if isinstance(o, AcceptResult) else o for o in outcomes]
        self.commits += 1
        self._pending.change(added)  # only once committed: a failed COMMIT counts nothing
        return outcomes

    def _safe_commit(self, db: Db, group: list[_Waiting]) -> list[Outcome]:
        try:
            return self._commit(db, group)
        except DB_ERRORS as exc:  # BEGIN or a savepoint itself failed (e.g. locked)
            if db.in_transaction:
                db.execute("ROLLBACK")
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
