"""One face for both backends' connections, so the store's parts are written once.

The parts write their SQL with `?` placeholders in the dialect both backends share
(`INSERT ... ON CONFLICT`, `RETURNING`, `CASE`); a `Db` is a SQLite connection as it is,
or a PostgreSQL (psycopg 3) connection that rewrites `?` to `%s`. `dialect` tells the few
places that differ (row locks with `FOR UPDATE SKIP LOCKED`, NOTIFY) which one they run on.
Both are used from one thread each (a `receiver.store.sqlite.Lane`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import psycopg

__all__ = ["DB_ERRORS", "Cursor", "Db", "PostgresDb", "SqliteDb"]

# What a backend raises when it cannot do a write: each becomes StoreUnavailableError.
DB_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Db(Protocol):
    dialect: str

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> object: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def pipeline(self) -> contextlib.AbstractContextManager[object]: ...
    def close(self) -> None: ...


class SqliteDb(sqlite3.Connection):
    """A SQLite connection (`sqlite3.connect(..., factory=SqliteDb)`) that is a `Db`.

    SQLite lets one connection write at a time; another that tries waits in SQLite's busy
    handler, which sleeps 1, 2, 5, 10 ... ms between looks. The connections of one process
    to one file therefore share `writers`, a lock taken by `begin` and given back when the
    transaction ends: a writer waits exactly as long as the one before it writes."""

    dialect = "sqlite"
    writers: threading.Lock | None = None  # the file's write gate (set by the opener)
    writers_timeout = 2.0  # as long as SQLite's own wait for a lock (the busy timeout)
    _holding = False

    def begin(self) -> None:
        if self.writers is not None:
            if not self.writers.acquire(timeout=self.writers_timeout):
                raise sqlite3.OperationalError("database is locked")
            self._holding = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._let_go()
            raise

    def commit(self) -> None:
        """COMMIT; if it fails the transaction may still be open: `rollback` ends it."""
        self.execute("COMMIT")
        self._let_go()

    def rollback(self) -> None:
        """ROLLBACK what is still open (SQLite ends some failed transactions itself)."""
        try:
            if self.in_transaction:
                self.execute("ROLLBACK")
        finally:
            self._let_go()

    def pipeline(self) -> contextlib.AbstractContextManager[object]:
        """Statements run one by one in the process: nothing to gather."""
        return contextlib.nullcontext()

    def _let_go(self) -> None:
        if self._holding:
            self._holding = False
            assert self.writers is not None
            self.writers.release()


class PostgresDb:
    """A psycopg 3 connection in autocommit mode (transactions begun explicitly)."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._sql: dict[str, str] = {}

    @classmethod
    def connect(cls, url: str, *, durable: bool = True) -> PostgresDb:
        """A connection; not `durable`: its commits do not wait for the server's WAL flush
        (`synchronous_commit = off`: a crash of the server, never of flamebot, may lose
        its last commits), as SQLite's `synchronous=NORMAL`."""
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        if not durable:
            conn.execute("SET synchronous_commit = off")
        return cls(conn)

    def _translate(self, sql: str) -> str:
        found = self._sql.get(sql)
        if found is None:
            found = self._sql[sql] = sql.replace("%", "%%").replace("?", "%s")
        return found

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        return self.conn.execute(self._translate(sql), parameters)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> object:
        with self.conn.cursor() as cur:
            cur.executemany(self._translate(sql), rows)
        return None

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def pipeline(self) -> Iterator[object]:
        """psycopg's pipeline mode: statements are sent without waiting for each answer
        (a round trip only where a result is read, and at the end); errors come at the end."""
        with self.conn.pipeline() as pipeline:
            yield pipeline

    def close(self) -> None:
        self.conn.close()
