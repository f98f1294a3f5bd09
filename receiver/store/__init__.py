"""The durable store: SQLite in WAL mode on one file, or PostgreSQL, in parts with one job each.

- `intake` (`IntakeLog`): webhooks committed with `synchronous=FULL` before the 200,
  duplicates found by identity, the count of unfinished notifications;
- `deliveries` (`DeliveryLog`): each notifier's delivery (pending -> sending -> done or
  dead), the enrichment, dead letters and their replays;
- `conversations` (`Conversations`): each notifier's state per group;
- `feedback` (`FeedbackLog`): the verdict feedback given in Slack;
- `schedules` (`Schedules`): durable jobs for later (the fix check after a resolve).

Consumers get the smallest protocol they need (`receiver.store.protocols`). Underneath,
`receiver.store.sqlite` runs the calls on two threads with a connection each, the intake
lane (`synchronous=FULL`) and the work lane (`synchronous=NORMAL`); `db` gives both
backends one face, `schema` holds the tables and their migrations, `records` the rows.
On PostgreSQL (`store.url`) any number of replicas share the store: leases, row locks and
LISTEN/NOTIFY (`listen`) keep one truth.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from receiver.errors import StoreTooNewError, StoreUnavailableError
from receiver.store import records
from receiver.store.conversations import Conversations, NotifierConversations
from receiver.store.db import DB_ERRORS, Db, PostgresDb
from receiver.store.deliveries import DeliveryLog
from receiver.store.feedback import FeedbackLog
from receiver.store.intake import IDENTITY_TTL_SECONDS, IntakeLog, PendingCount
from receiver.store.listen import WorkListener
from receiver.store.protocols import (
    ConversationStore,
    DeadLetterStore,
    DeliveryStore,
    FeedbackStore,
    IntakeStore,
    ScheduleStore,
)
from receiver.store.records import *  # noqa: F403 -- every row, and their JSON form
from receiver.store.schedules import DEFAULT_LEASE_SECONDS, Schedules
from receiver.store.schema import SCHEMA_VERSION, migrate
from receiver.store.sqlite import Lane, connect_sqlite

if TYPE_CHECKING:
    from receiver.config import StoreSettings

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "IDENTITY_TTL_SECONDS",
    "SCHEMA_VERSION",
    "ConversationStore",
    "DeadLetterStore",
    "DeliveryStore",
    "FeedbackStore",
    "IntakeStore",
    "NotifierConversations",
    "ScheduleStore",
    "Store",
    *records.__all__,
]


def describe_url(url: str) -> str:
    """A PostgreSQL URL without its password, for logs and errors."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "postgresql (unparsable URL)"
    host, port, name = info.get("host", ""), info.get("port", "5432"), info.get("dbname", "")
    return f"postgresql://{host}:{port}/{name}"


class Store:
    """The store of one SQLite file or one PostgreSQL database: its lanes, opened and closed
    together, and its parts."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        url: str | None = None,
        max_page_count: int | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (path is None) == (url is None):
            raise ValueError("a store is either a SQLite path or a PostgreSQL URL")
        self.path = path
        self.url = url
        self.where = str(path) if url is None else describe_url(url)
        self._max_page_count = max_page_count
        self.intake_lane = Lane("intake", "FULL")
        self.work_lane = Lane("work", "NORMAL")
        self._open = False
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_seconds = lease_seconds
        pending = PendingCount()
        self._intake = IntakeLog(self.intake_lane, self.work_lane, pending, clock)
        self.intake: IntakeStore = self._intake  # what the service's intake may do
        self.deliveries = DeliveryLog(
            self.work_lane,
            pending,
            lambda: self._open,
            owner=self.owner,
            lease_seconds=lease_seconds,
            clock=clock,
            shared=url is not None,
        )
        self.conversations = Conversations(self.work_lane, lambda: self._open)
        self.feedback: FeedbackStore = FeedbackLog(self.work_lane, lambda: self._open)
        self.schedules: ScheduleStore = Schedules(self.work_lane, lambda: self._open, lease_seconds)
        self._listener: WorkListener | None = None
        self.migrated_from: int | None = None

    @classmethod
    def from_settings(cls, settings: StoreSettings, **kwargs: Any) -> Store:
        """The store `store:` configures: PostgreSQL with a `url`, else the SQLite `path`."""
        if settings.url is not None:
            return cls(
                url=settings.url.get_secret_value(),
                lease_seconds=settings.lease_seconds,
                **kwargs,
            )
        return cls(
            settings.path,
            max_page_count=settings.max_page_count,
            lease_seconds=settings.lease_seconds,
            **kwargs,
        )

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def shared(self) -> bool:
        """Several processes may use this store at once (PostgreSQL)."""
        return self.url is not None

    def _connector(self, synchronous: str, *, sized: bool = True) -> Callable[[], Db]:
        if self.url is not None:
            url, durable = self.url, synchronous == "FULL"
            return lambda: PostgresDb.connect(url, durable=durable)
        assert self.path is not None
        return connect_sqlite(
            self.path,
            "FULL" if synchronous == "FULL" else "NORMAL",
            self._max_page_count if sized else None,
        )

    def _migrate(self, db: Db) -> None:
        found, _ = migrate(db, self.where)
        self.migrated_from = found
        if self._max_page_count is not None and db.dialect == "sqlite":
            db.execute(f"PRAGMA max_page_count={int(self._max_page_count)}")  # once it exists

    async def open(self) -> None:
        try:
            await self.work_lane.open(self._connector("NORMAL", sized=False), self._migrate)
            await self.intake_lane.open(self._connector("FULL"))
            if not self.shared:
                await self.deliveries.release_all()  # one process per file: leases are stale
            await self._intake.count_pending()
        except StoreTooNewError:
            raise
        except (*DB_ERRORS, OSError) as exc:  # type: ignore[misc]
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
            raise StoreUnavailableError(f"cannot open the store {self.where}: {reason}") from exc
        self._open = True

    def listen(self, wake: Callable[[], None]) -> None:
        """Call `wake` whenever another process stores work (PostgreSQL; no-op on SQLite)."""
        if self.url is not None and self._listener is None:
            self._listener = WorkListener(self.url, wake)
            self._listener.start()

    async def close(self) -> None:
        self._open = False
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        await self.work_lane.close()
        await self.intake_lane.close()

    async def check_writable(self) -> bool:
        """The intake lane takes a write (the readiness probe's question)."""

        def beat(db: Db) -> None:
            db.execute(
                "INSERT INTO heartbeat (id, at) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                (time.time(),),
            )

        try:
            await self.intake_lane.write(beat)
        except StoreUnavailableError:
            return False
        return True
