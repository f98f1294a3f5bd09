"""The delivery log: what each notifier still owes, what it did, and what could not be sent.

Each notification fans out to one delivery per notifier of its route; a delivery goes
pending -> sending -> done, or to the dead-letter table. A delivery found in `sending` at
start-up was interrupted between its send and its record: it is sent again and counted,
never silently. The log also holds each notification's enrichment (a cache: losing it
costs a re-enrichment) and refuses to replay a dead letter its group has moved past.
Everything here runs on the work lane (`synchronous=NORMAL`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from receiver.store.intake import PendingCount
from receiver.store.records import DeadLetter, Delivery, StoredNotification
from receiver.store.sqlite import PATIENT_WAITS, Lane, patiently

__all__ = ["DeliveryLog"]

T = TypeVar("T")

_OWED = (
    "SELECT d.notification_id, d.notifier, n.route, n.group_key, d.attempts, d.state,"
    " n.received_at FROM deliveries d JOIN notifications n ON n.id = d.notification_id"
    " WHERE d.state IN ('pending', 'sending')"
)
_LETTERS = (
    "SELECT l.id, l.notification_id, l.notifier, n.route, n.group_key, l.reason,"
    " l.attempts, l.created_at, l.replayed_at FROM dead_letters l"
    " JOIN notifications n ON n.id = l.notification_id"
)
_MARK_DEAD = (
    "UPDATE deliveries SET state = 'dead', last_error = ?, updated_at = ?"
    " WHERE notification_id = ? AND notifier = ?"
)


class DeliveryLog:
    def __init__(self, lane: Lane, pending: PendingCount, is_open: Callable[[], bool]) -> None:
        self._lane = lane
        self._pending = pending
        self._is_open = is_open

    async def open_deliveries(self, nid: int | None = None) -> list[Delivery]:
        """Deliveries still owed (of one notification, or all), oldest first."""

        def owed(db: sqlite3.Connection) -> list[tuple[int, str, str, str, int, str, float]]:
            if nid is None:
                return db.execute(_OWED + " ORDER BY d.notification_id, d.notifier").fetchall()
            sql = _OWED + " AND d.notification_id = ? ORDER BY d.notifier"
            return db.execute(sql, (nid,)).fetchall()

        return [
            Delivery(nid, notifier, route, gk, attempts, state == "sending", received)
            for nid, notifier, route, gk, attempts, state, received in await self._lane.run(owed)
        ]

    async def notification(self, nid: int) -> StoredNotification | None:
        def read(db: sqlite3.Connection) -> StoredNotification | None:
            row = db.execute(
                "SELECT id, route, group_key, payload, received_at, enrichment"
                " FROM notifications WHERE id = ?",
                (nid,),
            ).fetchone()
            return None if row is None else StoredNotification(*row)

        return await self._lane.run(read)

    async def save_enrichment(self, nid: int, enrichment: str) -> None:
        def save(db: sqlite3.Connection) -> None:
            db.execute("UPDATE notifications SET enrichment = ? WHERE id = ?", (enrichment, nid))

        await self._lane.write(save)

    def _finish_if_complete(self, db: sqlite3.Connection, nid: int) -> None:
        left = db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE notification_id = ?"
            " AND state IN ('pending', 'sending')",
            (nid,),
        ).fetchone()[0]
        if left == 0:
            cur = db.execute(
                "UPDATE notifications SET done_at = ? WHERE id = ? AND done_at IS NULL",
                (time.time(), nid),
            )
            if cur.rowcount:
                self._pending.change(-1)

    async def _set_state(self, nid: int, notifier: str, state: str, error: str | None) -> None:
        def update(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE deliveries SET state = ?, last_error = COALESCE(?, last_error),"
                " attempts = attempts + (? = 'sending'), updated_at = ?"
                " WHERE notification_id = ? AND notifier = ?",
                (state, error, state, time.time(), nid, notifier),
            )
            if state in ("done", "dead"):
                self._finish_if_complete(db, nid)

        await self._lane.write(update)

    async def mark_sending(self, nid: int, notifier: str) -> None:
        await self._set_state(nid, notifier, "sending", None)

    async def mark_retry(self, nid: int, notifier: str, error: str) -> None:
        await self._set_state(nid, notifier, "pending", error)

    async def mark_done(self, nid: int, notifier: str) -> None:
        await self._set_state(nid, notifier, "done", None)

    async def mark_dead(self, nid: int, notifier: str, reason: str) -> int:
        """Move a delivery to the dead-letter table; returns the dead letter's id."""

        def bury(db: sqlite3.Connection) -> int:
            (attempts,) = db.execute(
                "SELECT attempts FROM deliveries WHERE notification_id = ? AND notifier = ?",
                (nid, notifier),
            ).fetchone()
            cur = db.execute(
                "INSERT INTO dead_letters (notification_id, notifier, reason, attempts,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (nid, notifier, reason, attempts, time.time()),
            )
            db.execute(_MARK_DEAD, (reason, time.time(), nid, notifier))
            self._finish_if_complete(db, nid)
            assert cur.lastrowid is not None
            return cur.lastrowid

        return await self._lane.write(bury)

    async def newer_delivered(self, nid: int, notifier: str) -> int | None:
        """The latest notification of `nid`'s group after `nid` that `notifier` delivered."""

        def find(db: sqlite3.Connection) -> int | None:
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

        def update(db: sqlite3.Connection) -> None:
            db.execute(_MARK_DEAD, (reason, time.time(), nid, notifier))

        await self._lane.write(update)

    async def dead_letters(self, dead_id: int | None = None) -> list[DeadLetter]:
        def read(db: sqlite3.Connection) -> list[DeadLetter]:
            if dead_id is None:
                rows = db.execute(_LETTERS + " ORDER BY l.id").fetchall()
            else:
                rows = db.execute(_LETTERS + " WHERE l.id = ?", (dead_id,)).fetchall()
            return [DeadLetter(*row) for row in rows]

        return await self._lane.run(read)

    async def mark_replayed(self, dead_id: int) -> None:
        def update(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE dead_letters SET replayed_at = ? WHERE id = ?", (time.time(), dead_id)
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
