"""The durable store: SQLite in WAL mode, one connection on one thread.

A notification is committed (fsync'd) before the webhook is answered 200. Each one fans out
to one delivery row per notifier of its route; a delivery goes pending -> sending -> done, or
to the dead-letter table. A delivery found in `sending` at start-up was interrupted between
its send and its record: it is sent again and counted, never silently.

Calls run on two threads, each with its own connection (SQLite connections are not shared
across threads), so the async side never blocks the event loop: the *intake* lane records
webhooks with `synchronous=FULL` (the 200 promises the record survives a power loss); the
*work* lane keeps the pipeline's records (sending, done, dead, enrichments, Slack threads)
with `synchronous=NORMAL`, which in WAL mode survives any crash of the process, kill -9
included, and only a power loss can roll back its last commits (a delivery then counts as
interrupted and is resent, counted). With a lane of its own, intake never queues behind
the pipeline's writes.

A notifier saves its conversation (e.g. the Slack message of a group) right after the send:
that write waits out a locked or full store instead of failing, since losing it would turn
the next update of the group into a second message.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import structlog

from receiver.errors import StoreFullError, StoreUnavailableError
from receiver.records import SCHEMA, AcceptResult, DeadLetter, Delivery, StoredNotification

__all__ = [
    "AcceptResult",
    "DeadLetter",
    "Delivery",
    "Store",
    "StoredNotification",
]

log = structlog.get_logger("flamebot.store")

IDENTITY_TTL_SECONDS = 7 * 24 * 3600  # PRODUCT.md §4: identities are kept 7 days
BUSY_TIMEOUT_MS = 2000  # a locked database answers 503 well within Alertmanager's 10 s
PATIENT_WAITS = (0.05, 2.0)  # first and longest pause between tries of a write that must happen

T = TypeVar("T")


class Store:
    def __init__(self, path: Path, *, max_page_count: int | None = None) -> None:
        self.path = path
        self._max_page_count = max_page_count
        self._intake = ThreadPoolExecutor(1, thread_name_prefix="flamebot-store-intake")
        self._work = ThreadPoolExecutor(1, thread_name_prefix="flamebot-store-work")
        self._local = threading.local()  # each lane's thread holds its own connection
        self._open = False
        self._pending_lock = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        """Notifications accepted and not yet finished (read from the event loop)."""
        return self._pending

    def _count(self, change: int) -> None:
        with self._pending_lock:
            self._pending += change

    # -- plumbing -------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run on the work lane."""
        return await asyncio.get_running_loop().run_in_executor(self._work, fn, *args)

    async def _call_intake(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._intake, fn, *args)

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def _db(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            raise StoreUnavailableError("the store is not open")
        return conn

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in one IMMEDIATE transaction; SQLite failures become StoreUnavailable."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            result = fn(db)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            # SQLite rolls back by itself on some errors (SQLITE_FULL): check first.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreUnavailableError(str(exc)) from exc
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return result

    def _connect_sync(self, synchronous: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(SCHEMA)
        if self._max_page_count is not None:
            conn.execute(f"PRAGMA max_page_count={int(self._max_page_count)}")
        self._local.conn = conn

    def _count_pending_sync(self) -> None:
        (count,) = self._db.execute(
            "SELECT COUNT(*) FROM notifications WHERE done_at IS NULL"
        ).fetchone()
        self._count(count - self._pending)

    async def open(self) -> None:
        try:
            await self._call(self._connect_sync, "NORMAL")
            await self._call_intake(self._connect_sync, "FULL")
            await self._call(self._count_pending_sync)
        except (sqlite3.Error, OSError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise StoreUnavailableError(f"cannot open the store {self.path}: {reason}") from exc
        self._open = True

    def _close_sync(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    async def close(self) -> None:
        self._open = False
        await self._call(self._close_sync)
        await self._call_intake(self._close_sync)
        self._work.shutdown(wait=True)
        self._intake.shutdown(wait=True)

    # -- intake ---------------------------------------------------------------------------

    def _accept_sync(
        self,
        identity: str,
        route: str,
        group_key: str,
        payload: str,
        notifiers: list[str],
        max_pending: int,
    ) -> AcceptResult:
        row = self._db.execute(
            "SELECT id, received_at FROM notifications WHERE identity = ?", (identity,)
        ).fetchone()
        if row is not None:
            return AcceptResult(id=row[0], duplicate=True, received_at=row[1])
        if self._pending >= max_pending:
            raise StoreFullError(f"{self._pending} notifications are waiting")

        now = time.time()

        def insert(db: sqlite3.Connection) -> int:
            cur = db.execute(
                "INSERT INTO notifications (identity, route, group_key, payload, received_at,"
                " done_at) VALUES (?, ?, ?, ?, ?, ?)",
                (identity, route, group_key, payload, now, None if notifiers else now),
            )
            nid = cur.lastrowid
            assert nid is not None
            db.executemany(
                "INSERT INTO deliveries (notification_id, notifier, state, updated_at)"
                " VALUES (?, ?, 'pending', ?)",
                [(nid, name, now) for name in notifiers],
            )
            return nid

        nid = self._write(insert)
        if notifiers:
            self._count(+1)
        return AcceptResult(id=nid, duplicate=False, received_at=now)

    async def accept(
        self,
        identity: str,
        route: str,
        group_key: str,
        payload: str,
        notifiers: list[str],
        max_pending: int,
    ) -> AcceptResult:
        """Record a notification durably, or find the original of a redelivery."""
        try:
            return await self._call_intake(
                self._accept_sync, identity, route, group_key, payload, notifiers, max_pending
            )
        except sqlite3.Error as exc:
            raise StoreUnavailableError(str(exc)) from exc

    # -- work -----------------------------------------------------------------------------

    def _open_deliveries_sync(self, nid: int | None) -> list[Delivery]:
        sql = (
            "SELECT d.notification_id, d.notifier, n.route, n.group_key, d.attempts, d.state,"
            " n.received_at FROM deliveries d JOIN notifications n ON n.id = d.notification_id"
            " WHERE d.state IN ('pending', 'sending')"
        )
        if nid is None:
            rows = self._db.execute(sql + " ORDER BY d.notification_id, d.notifier").fetchall()
        else:
            rows = self._db.execute(
                sql + " AND d.notification_id = ? ORDER BY d.notifier", (nid,)
            ).fetchall()
        return [
            Delivery(nid, notifier, route, gk, attempts, state == "sending", received)
            for nid, notifier, route, gk, attempts, state, received in rows
        ]

    async def open_deliveries(self, nid: int | None = None) -> list[Delivery]:
        """Deliveries still owed (of one notification, or all), oldest first."""
        return await self._call(self._open_deliveries_sync, nid)

    def _notification_sync(self, nid: int) -> StoredNotification | None:
        row = self._db.execute(
            "SELECT id, route, group_key, payload, received_at, enrichment"
            " FROM notifications WHERE id = ?",
            (nid,),
        ).fetchone()
        return None if row is None else StoredNotification(*row)

    async def notification(self, nid: int) -> StoredNotification | None:
        return await self._call(self._notification_sync, nid)

    async def save_enrichment(self, nid: int, enrichment: str) -> None:
        def save(db: sqlite3.Connection) -> None:
            db.execute("UPDATE notifications SET enrichment = ? WHERE id = ?", (enrichment, nid))

        await self._call(self._write, save)

    def _set_state(self, nid: int, notifier: str, state: str, error: str | None) -> None:
        def update(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE deliveries SET state = ?, last_error = COALESCE(?, last_error),"
                " attempts = attempts + (? = 'sending'), updated_at = ?"
                " WHERE notification_id = ? AND notifier = ?",
                (state, error, state, time.time(), nid, notifier),
            )
            if state in ("done", "dead"):
                self._finish_if_complete(db, nid)

        self._write(update)

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
                self._count(-1)

    async def mark_sending(self, nid: int, notifier: str) -> None:
        await self._call(self._set_state, nid, notifier, "sending", None)

    async def mark_retry(self, nid: int, notifier: str, error: str) -> None:
        await self._call(self._set_state, nid, notifier, "pending", error)

    async def mark_done(self, nid: int, notifier: str) -> None:
        await self._call(self._set_state, nid, notifier, "done", None)

    def _dead_sync(self, nid: int, notifier: str, reason: str) -> int:
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
            db.execute(
                "UPDATE deliveries SET state = 'dead', last_error = ?, updated_at = ?"
                " WHERE notification_id = ? AND notifier = ?",
                (reason, time.time(), nid, notifier),
            )
            self._finish_if_complete(db, nid)
            assert cur.lastrowid is not None
            return cur.lastrowid

        return self._write(bury)

    async def mark_dead(self, nid: int, notifier: str, reason: str) -> int:
        """Move a delivery to the dead-letter table; returns the dead letter's id."""
        return await self._call(self._dead_sync, nid, notifier, reason)

    async def newer_delivered(self, nid: int, notifier: str) -> int | None:
        """The latest notification of `nid`'s group after `nid` that `notifier` delivered."""

        def find() -> int | None:
            row = self._db.execute(
                "SELECT n.id FROM notifications n JOIN deliveries d ON d.notification_id = n.id"
                " WHERE n.group_key = (SELECT group_key FROM notifications WHERE id = ?)"
                " AND n.id > ? AND d.notifier = ? AND d.state = 'done'"
                " ORDER BY n.id DESC LIMIT 1",
                (nid, nid, notifier),
            ).fetchone()
            return None if row is None else int(row[0])

        return await self._call(find)

    async def mark_dead_again(self, nid: int, notifier: str, reason: str) -> None:
        """A replay failed: the delivery is dead again; its dead letter stays open."""

        def update(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE deliveries SET state = 'dead', last_error = ?, updated_at = ?"
                " WHERE notification_id = ? AND notifier = ?",
                (reason, time.time(), nid, notifier),
            )

        await self._call(self._write, update)

    # -- dead letters ---------------------------------------------------------------------

    def _dead_letters_sync(self, dead_id: int | None) -> list[DeadLetter]:
        sql = (
            "SELECT l.id, l.notification_id, l.notifier, n.route, n.group_key, l.reason,"
            " l.attempts, l.created_at, l.replayed_at FROM dead_letters l"
            " JOIN notifications n ON n.id = l.notification_id"
        )
        if dead_id is None:
            rows = self._db.execute(sql + " ORDER BY l.id").fetchall()
        else:
            rows = self._db.execute(sql + " WHERE l.id = ?", (dead_id,)).fetchall()
        return [DeadLetter(*row) for row in rows]

    async def dead_letters(self, dead_id: int | None = None) -> list[DeadLetter]:
        return await self._call(self._dead_letters_sync, dead_id)

    async def mark_replayed(self, dead_id: int) -> None:
        def update(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE dead_letters SET replayed_at = ? WHERE id = ?", (time.time(), dead_id)
            )

        await self._call(self._write, update)

    # -- per-group notifier state (e.g. the Slack message of a group) ---------------------

    def _conversation_sync(self, notifier: str, group_key: str) -> str | None:
        row = self._db.execute(
            "SELECT state FROM conversations WHERE notifier = ? AND group_key = ?",
            (notifier, group_key),
        ).fetchone()
        return None if row is None else str(row[0])

    async def conversation(self, notifier: str, group_key: str) -> str | None:
        return await self._call(self._conversation_sync, notifier, group_key)

    async def save_conversation(self, notifier: str, group_key: str, state: str | None) -> None:
        """Record (or, with None, forget) a group's state; waits out a locked or full store."""

        def save(db: sqlite3.Connection) -> None:
            if state is None:
                db.execute(
                    "DELETE FROM conversations WHERE notifier = ? AND group_key = ?",
                    (notifier, group_key),
                )
            else:
                db.execute(
                    "INSERT INTO conversations (notifier, group_key, state, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (notifier, group_key)"
                    " DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                    (notifier, group_key, state, time.time()),
                )

        await self.persist(lambda: self._call(self._write, save))

    async def persist(
        self,
        write: Callable[[], Awaitable[T]],
        *,
        first_wait: float = PATIENT_WAITS[0],
        longest_wait: float = PATIENT_WAITS[1],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> T:
        """Run `write` until the store takes it: a locked or full store is waited out (with
        backoff), for the records flamebot cannot go on without. A closed store is final."""
        wait = first_wait
        while True:
            try:
                return await write()
            except StoreUnavailableError as exc:
                if not self.is_open:
                    raise  # closed for good (shutdown): nothing to wait for
                log.warning("store_write_postponed", reason=str(exc), wait_seconds=wait)
            await sleep(wait)  # meanwhile the store thread serves the intake
            wait = min(wait * 2, longest_wait)

    # -- health and housekeeping ----------------------------------------------------------

    async def check_writable(self) -> bool:
        def beat(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR REPLACE INTO heartbeat (id, at) VALUES (1, ?)", (time.time(),))

        try:
            await self._call_intake(self._write, beat)
        except StoreUnavailableError:
            return False
        return True

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

        return await self._call(self._write, prune)
