"""The plumbing under the store: lanes, transactions, and the wait for a write.

A `Lane` is one thread holding one connection (a SQLite or a PostgreSQL `Db`; neither is
shared across threads): calls run there, so the event loop never blocks on the database. The store
opens two lanes on one file, each with its own durability: the *intake* lane records
webhooks with `synchronous=FULL` (the 200 promises the record survives a power loss); the
*work* lane keeps the pipeline's records with `synchronous=NORMAL`, which in WAL mode
survives any crash of the process, kill -9 included; only a power loss can roll back its
last commits. SQLite has one writer at a time: the lanes of one file take turns through
`SqliteDb.writers`, so a webhook waits at most for one short pipeline write, never for
SQLite's busy-handler sleeps.
On PostgreSQL the intake lane commits durably (`synchronous_commit` on) and the work lane
with `synchronous_commit = off`, the same bargain: a crash of flamebot loses nothing, a
crash of the database server may roll back the pipeline's last records (those sends are
then made again, Slack's looked up first).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, TypeVar

import structlog

from receiver.errors import StoreUnavailableError
from receiver.store.db import DB_ERRORS, Db, SqliteDb

__all__ = [
    "BUSY_TIMEOUT_MS",
    "PATIENT_WAITS",
    "Lane",
    "connect_sqlite",
    "patiently",
    "transaction",
]

log = structlog.get_logger("flamebot.store")

BUSY_TIMEOUT_MS = 2000  # a locked database answers 503 well within Alertmanager's 10 s
PATIENT_WAITS = (0.05, 2.0)  # first and longest pause between tries of a write that must happen

T = TypeVar("T")
Synchronous = Literal["FULL", "NORMAL"]


def transaction(db: Db, fn: Callable[[Db], T]) -> T:
    """Run `fn` in one transaction (IMMEDIATE on SQLite); failures become StoreUnavailable."""
    try:
        db.begin()
        result = fn(db)
        db.commit()
    except DB_ERRORS as exc:
        db.rollback()
        raise StoreUnavailableError(str(exc)) from exc
    except BaseException:
        db.rollback()
        raise
    return result


_GATES: dict[Path, threading.Lock] = {}
_GATES_LOCK = threading.Lock()


def _writers(path: Path) -> threading.Lock:
    """The write gate of the file at `path`, one per file in this process."""
    with _GATES_LOCK:
        return _GATES.setdefault(path.resolve(), threading.Lock())


def connect_sqlite(
    path: Path, synchronous: Synchronous, max_page_count: int | None = None
) -> Callable[[], Db]:
    """How a lane opens the SQLite file: WAL, the lane's durability, foreign keys."""

    def connect() -> Db:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, factory=SqliteDb
        )
        conn.writers, conn.writers_timeout = _writers(path), BUSY_TIMEOUT_MS / 1000
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        if max_page_count is not None:
            conn.execute(f"PRAGMA max_page_count={int(max_page_count)}")
        return conn

    return connect


class Lane:
    """One thread and its connection to the store, with the durability it was given."""

    def __init__(self, name: str, synchronous: Synchronous = "FULL") -> None:
        self.name = name
        self.synchronous = synchronous
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"flamebot-store-{name}")
        self._conn: Db | None = None  # touched on the lane's thread only

    def _connection(self) -> Db:
        if self._conn is None:
            raise StoreUnavailableError("the store is not open")
        return self._conn

    async def run(self, fn: Callable[[Db], T]) -> T:
        """`fn(connection)` on the lane's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._connection()))

    async def write(self, fn: Callable[[Db], T]) -> T:
        """`fn(connection)` in one transaction on the lane's thread."""
        return await self.run(lambda db: transaction(db, fn))

    def _connect(self, connect: Callable[[], Db], prepare: Callable[[Db], object]) -> None:
        conn = connect()
        try:
            prepare(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    async def open(
        self, connect: Callable[[], Db], prepare: Callable[[Db], object] = lambda db: None
    ) -> None:
        """Connect on the lane's thread, then `prepare` the connection (e.g. migrate)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._connect, connect, prepare)

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._disconnect)
        self._executor.shutdown(wait=True)


async def patiently(
    write: Callable[[], Awaitable[T]],
    *,
    is_open: Callable[[], bool],
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
            if not is_open():
                raise  # closed for good (shutdown): nothing to wait for
            log.warning("store_write_postponed", reason=str(exc), wait_seconds=wait)
        await sleep(wait)  # meanwhile the store's intake lane serves webhooks
        wait = min(wait * 2, longest_wait)
