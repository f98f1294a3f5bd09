"""The intake log: webhooks recorded durably before the 200, duplicates found, work counted.

A notification is committed (fsync'd, on the intake lane: `synchronous=FULL`) before the
webhook is answered 200, with one delivery row per notifier of its route. Its identity
(`receiver.models.notification_identity`) finds a redelivery; identities are kept 7 days
after the notification finished, then forgotten.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from receiver.errors import StoreFullError, StoreUnavailableError
from receiver.store.records import AcceptResult, Incoming
from receiver.store.sqlite import Lane, transaction

__all__ = ["IDENTITY_TTL_SECONDS", "IntakeLog", "PendingCount"]

IDENTITY_TTL_SECONDS = 7 * 24 * 3600  # PRODUCT.md §4: identities are kept 7 days


class PendingCount:
    """Notifications accepted and not yet finished: raised by intake, lowered by delivery."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0  # read from the event loop

    def change(self, by: int) -> None:
        with self._lock:
            self.value += by


class IntakeLog:
    """Accepts on the intake lane; counting and pruning, housekeeping, run on the work lane."""

    def __init__(self, intake: Lane, work: Lane, pending: PendingCount) -> None:
        self._lane = intake
        self._work = work
        self._pending = pending

    @property
    def pending(self) -> int:
        """Notifications accepted and not yet finished (read from the event loop)."""
        return self._pending.value

    def _accept(
        self, db: sqlite3.Connection, new: Incoming, notifiers: list[str], max_pending: int
    ) -> AcceptResult:
        row = db.execute(
            "SELECT id, received_at FROM notifications WHERE identity = ?", (new.identity,)
        ).fetchone()
        if row is not None:
            return AcceptResult(id=row[0], duplicate=True, received_at=row[1])
        if self._pending.value >= max_pending:
            raise StoreFullError(f"{self._pending.value} notifications are waiting")
        now = time.time()
        done_at = None if notifiers else now  # nothing to deliver: finished on arrival

        def insert(db: sqlite3.Connection) -> int:
            cur = db.execute(
                "INSERT INTO notifications (identity, route, group_key, payload, received_at,"
                " done_at) VALUES (?, ?, ?, ?, ?, ?)",
                (new.identity, new.route, new.group_key, new.payload, now, done_at),
            )
            nid = cur.lastrowid
            assert nid is not None
            db.executemany(
                "INSERT INTO deliveries (notification_id, notifier, state, updated_at)"
                " VALUES (?, ?, 'pending', ?)",
                [(nid, name, now) for name in notifiers],
            )
            return nid

        nid = transaction(db, insert)
        if notifiers:
            self._pending.change(+1)
        return AcceptResult(id=nid, duplicate=False, received_at=now)

    async def accept(
        self, incoming: Incoming, notifiers: list[str], max_pending: int
    ) -> AcceptResult:
        """Record a notification durably, or find the original of a redelivery."""
        try:
            return await self._lane.run(
                lambda db: self._accept(db, incoming, notifiers, max_pending)
            )
        except sqlite3.Error as exc:
            raise StoreUnavailableError(str(exc)) from exc

    async def count_pending(self) -> None:
        """Set the count from the store (at start: what the last run left unfinished)."""

        def count(db: sqlite3.Connection) -> int:
            sql = "SELECT COUNT(*) FROM notifications WHERE done_at IS NULL"
            return int(db.execute(sql).fetchone()[0])

        found = await self._work.run(count)
        self._pending.change(found - self._pending.value)

    async def prune(self, now: float | None = None) -> int:
        """Forget finished notifications older than the identity TTL (7 days)."""
        cutoff = (time.time() if now is None else now) - IDENTITY_TTL_SECONDS

        def prune(db: sqlite3.Connection) -> int:
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
            return cur.rowcount

        return await self._work.write(prune)
