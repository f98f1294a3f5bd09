"""The delivery log: what each notifier still owes, what it did, and what could not be sent.

Each notification fans out to one delivery per notifier of its route; a delivery goes
pending -> sending -> done, or to the dead-letter table. Work is handed out under leases
(`receiver.store.leases`). A delivery found in `sending` was interrupted between its send
and its record: it is sent again (the notifier first looks for the earlier send, from
`sending_since`) and counted, never silently. The log also holds each notification's
enrichment (a cache: losing it costs a re-enrichment) and refuses to replay a dead letter
its group has moved past.
Everything here runs on the work lane (`synchronous=NORMAL`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from receiver.store.db import Db
from receiver.store.intake import PendingCount
from receiver.store.leases import OWED, Leases, as_delivery
from receiver.store.records import DeadLetter, Delivery, StoredNotification
from receiver.store.sqlite import PATIENT_WAITS, Lane, patiently

__all__ = ["DeliveryLog"]

T = TypeVar("T")

_LETTERS = (
    "SELECT l.id, l.notification_id, l.notifier, n.route, n.group_key, l.reason,"
    " l.attempts, l.created_at, l.replayed_at FROM dead_letters l"
    " JOIN notifications n ON n.id = l.notification_id"
)
_MARK_DEAD = (
    "UPDATE deliveries SET state = 'dead', last_error = ?, updated_at = ?"
    " WHERE notification_id = ? AND notifier = ?"
)


class DeliveryLog(Leases):
    def __init__(
        self,
        lane: Lane,
        pending: PendingCount,
        is_open: Callable[[], bool],
        *,
        owner: str = "",
        lease_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        shared: bool = False,
    ) -> None:
        super().__init__(lane, owner=owner, lease_seconds=lease_seconds, clock=clock, shared=shared)
        self._pending = pending
        self._is_open = is_open

    async def open_deliveries(self, nid: int | None = None) -> list[Delivery]:
        """Deliveries still owed (of one notification, or all), oldest first."""

        def owed(db: Db) -> list[Any]:
            if nid is None:
                return db.execute(OWED + " ORDER BY d.notification_id, d.notifier").fetchall()
            sql = OWED + " AND d.notification_id = ? ORDER BY d.notifier"
            return db.execute(sql, (nid,)).fetchall()

        return [as_delivery(tuple(row)) for row in await self._lane.run(owed)]

    async def notification(self, nid: int) -> StoredNotification | None:
        def read(db: Db) -> StoredNotification | None:
            row = db.execute(
                "SELECT id, route, group_key, payload, received_at, enrichment"
                " FROM notifications WHERE id = ?",
                (nid,),
            ).fetchone()
            return None if row is None else StoredNotification(*row)

        return await self._lane.run(read)

    async def save_enrichment(self, nid: int, enrichment: str) -> None:
        def save(db: Db) -> None:
            db.execute("UPDATE notifications SET enrichment = ? WHERE id = ?", (enrichment, nid))

        await self._lane.write(save)

    def _finish_if_complete(self, db: Db, nid: int) -> int:
        """Close the notification when no delivery is left; 1 when this closed it. The
        caller lowers the pending count only once its transaction committed."""
        left = db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE notification_id = ?"
            " AND state IN ('pending', 'sending')",
            (nid,),
        ).fetchone()[0]
        if left:
            return 0
        cur = db.execute(
            "UPDATE notifications SET done_at = ? WHERE id = ? AND done_at IS NULL",
            (self._clock(), nid),
        )
        return 1 if cur.rowcount else 0

    async def _set_state(self, nid: int, notifier: str, state: str, error: str | None) -> None:
        def update(db: Db) -> int:
            db.execute(
                "UPDATE deliveries SET state = ?, last_error = COALESCE(?, last_error),"
                " updated_at = ? WHERE notification_id = ? AND notifier = ?",
                (state, error, self._clock(), nid, notifier),
            )
            return self._finish_if_complete(db, nid) if state in ("done", "dead") else 0

        self._pending.change(-await self._lane.write(update))

    async def mark_sending(self, nid: int, notifier: str) -> float | None:
        """A send starts now; returns when the first send of this delivery started (None
        when this is the first), so a notifier can look for an earlier send first."""
        now = self._clock()

        def update(db: Db) -> float | None:
            row = db.execute(
                "SELECT sending_since FROM deliveries WHERE notification_id = ? AND notifier = ?",
                (nid, notifier),
            ).fetchone()
            db.execute(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1,"
                " sending_since = COALESCE(sending_since, ?), updated_at = ?"
                " WHERE notification_id = ? AND notifier = ?",
                (now, now, nid, notifier),
            )
            return None if row is None or row[0] is None else float(row[0])

        return await self._lane.write(update)

    async def mark_retry(self, nid: int, notifier: str, error: str) -> None:
        await self._set_state(nid, notifier, "pending", error)

    async def mark_done(self, nid: int, notifier: str) -> None:
        await self._set_state(nid, notifier, "done", None)

    async def mark_dead(self, nid: int, notifier: str, reason: str) -> int:
        """Move a delivery to the dead-letter table; returns the dead letter's id."""

        def bury(db: Db) -> tuple[int, int]:
            (attempts,) = db.execute(
                "SELECT attempts FROM deliveries WHERE notification_id = ? AND notifier = ?",
                (nid, notifier),
            ).fetchone()
            (dead_id,) = db.execute(
                "INSERT INTO dead_letters (notification_id, notifier, reason, attempts,"
                " created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (nid, notifier, reason, attempts, self._clock()),
            ).fetchone()
            db.execute(_MARK_DEAD, (reason, self._clock(), nid, notifier))
            return int(dead_id), self._finish_if_complete(db, nid)

        dead_id, finished = await self._lane.write(bury)
        self._pending.change(-finished)
        return dead_id

    async def newer_delivered(self, nid: int, notifier: str) -> int | None:
        """The latest notification of `nid`'s group after `nid` that `notifier` delivered."""

        def find(db: Db) -> int | None:
            row = db.execute(
                "SELECT n.id FROM notifications n JOIN deliveries d ON d.notification_id = n.id"
                " WHERE n.group_key = (SELECT group_key FROM notifications WHERE id = ?)"
                " AND n.id > ? AND d.notifier = ? AND d.state = 'done'"
                " ORDER BY n.id DESC LIMIT 1",
                (nid, nid, notifier),
            ).fetchone()
            return None if row is None else int(row[0])

        return await self._lane.run(find)

    async def mark_dead_again(self, nid: int, notifier: str, reason: str) -> None:
        """A replay failed: the delivery is dead again; its dead letter stays open."""

        def update(db: Db) -> None:
            db.execute(_MARK_DEAD, (reason, self._clock(), nid, notifier))

        await self._lane.write(update)

    async def dead_letters(self, dead_id: int | None = None) -> list[DeadLetter]:
        def read(db: Db) -> list[DeadLetter]:
            if dead_id is None:
                rows = db.execute(_LETTERS + " ORDER BY l.id").fetchall()
            else:
                rows = db.execute(_LETTERS + " WHERE l.id = ?", (dead_id,)).fetchall()
            return [DeadLetter(*row) for row in rows]

        return await self._lane.run(read)

    async def mark_replayed(self, dead_id: int) -> None:
        def update(db: Db) -> None:
            db.execute(
                "UPDATE dead_letters SET replayed_at = ? WHERE id = ?", (self._clock(), dead_id)
            )

        await self._lane.write(update)

    async def persist(
        self,
        write: Callable[[], Awaitable[T]],
        *,
        first_wait: float = PATIENT_WAITS[0],
        longest_wait: float = PATIENT_WAITS[1],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> T:
        """Run `write` until the store takes it (`receiver.store.sqlite.patiently`)."""
        return await patiently(
            write,
            is_open=self._is_open,
            first_wait=first_wait,
            longest_wait=longest_wait,
            sleep=sleep,
        )
