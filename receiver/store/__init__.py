"""The durable store: SQLite in WAL mode on one file, in parts with one job each.

- `intake` (`IntakeLog`): webhooks committed with `synchronous=FULL` before the 200,
  duplicates found by identity, the count of unfinished notifications;
- `deliveries` (`DeliveryLog`): each notifier's delivery (pending -> sending -> done or
  dead), the enrichment, dead letters and their replays;
- `conversations` (`Conversations`): each notifier's state per group;
- `feedback` (`FeedbackLog`): the verdict feedback given in Slack;
- `schedules` (`Schedules`): durable jobs for later (the fix check after a resolve).

Consumers get the smallest protocol they need (`receiver.store.protocols`). Underneath,
`receiver.store.sqlite` runs the calls on two threads with a connection each, the intake
lane (`synchronous=FULL`) and the work lane (`synchronous=NORMAL`); `records` holds the
schema and the rows.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from receiver.errors import StoreUnavailableError
from receiver.store.conversations import Conversations, NotifierConversations
from receiver.store.deliveries import DeliveryLog
from receiver.store.feedback import FeedbackLog
from receiver.store.intake import IDENTITY_TTL_SECONDS, IntakeLog, PendingCount
from receiver.store.protocols import (
    ConversationStore,
    DeadLetterStore,
    DeliveryStore,
    FeedbackStore,
    IntakeStore,
    ScheduleStore,
)
from receiver.store.records import (
    AcceptResult,
    DeadLetter,
    Delivery,
    Incoming,
    ScheduledJob,
    StoredNotification,
    VerdictFeedback,
)
from receiver.store.schedules import DEFAULT_LEASE_SECONDS, Schedules
from receiver.store.sqlite import Lane

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "IDENTITY_TTL_SECONDS",
    "AcceptResult",
    "ConversationStore",
    "DeadLetter",
    "DeadLetterStore",
    "Delivery",
    "DeliveryStore",
    "FeedbackStore",
    "Incoming",
    "IntakeStore",
    "NotifierConversations",
    "ScheduleStore",
    "ScheduledJob",
    "Store",
    "StoredNotification",
    "VerdictFeedback",
]


class Store:
    """The SQLite store of one file: its lanes, opened and closed together, and its parts."""

    def __init__(
        self,
        path: Path,
        *,
        max_page_count: int | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.path = path
        self._max_page_count = max_page_count
        self.intake_lane = Lane("intake", "FULL")
        self.work_lane = Lane("work", "NORMAL")
        self._open = False
        pending = PendingCount()
        self._intake = IntakeLog(self.intake_lane, self.work_lane, pending)
        self.intake: IntakeStore = self._intake  # what the service's intake may do
        self.deliveries = DeliveryLog(self.work_lane, pending, lambda: self._open)
        self.conversations = Conversations(self.work_lane, lambda: self._open)
        self.feedback: FeedbackStore = FeedbackLog(self.work_lane, lambda: self._open)
        self.schedules: ScheduleStore = Schedules(self.work_lane, lambda: self._open, lease_seconds)

    @property
    def is_open(self) -> bool:
        return self._open

    async def open(self) -> None:
        try:
            await self.work_lane.open(self.path, self._max_page_count)
            await self.intake_lane.open(self.path, self._max_page_count)
            await self._intake.count_pending()
        except (sqlite3.Error, OSError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise StoreUnavailableError(f"cannot open the store {self.path}: {reason}") from exc
        self._open = True

    async def close(self) -> None:
        self._open = False
        await self.work_lane.close()
        await self.intake_lane.close()

    async def check_writable(self) -> bool:
        """The intake lane takes a write (the readiness probe's question)."""

        def beat(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR REPLACE INTO heartbeat (id, at) VALUES (1, ?)", (time.time(),))

        try:
            await self.intake_lane.write(beat)
        except StoreUnavailableError:
            return False
        return True
