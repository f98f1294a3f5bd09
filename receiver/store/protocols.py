"""What each consumer of the store may do with it: one narrow protocol per consumer.

After Alertmanager's nflog and silences (small stores with one job each), nothing in
flamebot sees the whole database: the HTTP intake records and deduplicates, the pipeline
keeps its deliveries, the dead-letter commands read and close dead letters, and a notifier
gets a key-value view of its own groups. The SQLite store (`receiver.store.Store`)
implements them all; another backend implements the same protocols.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Protocol, TypeVar

from receiver.store.records import (
    AcceptResult,
    DeadLetter,
    Delivery,
    Incoming,
    ScheduledJob,
    StoredNotification,
    VerdictFeedback,
)

__all__ = [
    "ConversationStore",
    "DeadLetterStore",
    "DeliveryStore",
    "FeedbackStore",
    "IntakeStore",
    "ScheduleStore",
]

T = TypeVar("T")


class IntakeStore(Protocol):
    """The service's intake: record a webhook durably, find its original, count what waits."""

    @property
    def pending(self) -> int: ...

    async def accept(
        self, incoming: Incoming, notifiers: list[str], max_pending: int
    ) -> AcceptResult: ...

    async def prune(self, now: float | None = None) -> int: ...
    async def count_pending(self) -> int: ...


class DeliveryStore(Protocol):
    """The pipeline's records: the notification, its enrichment, each delivery's state."""

    async def open_deliveries(self, nid: int | None = None) -> list[Delivery]: ...
    async def notification(self, nid: int) -> StoredNotification | None: ...
    async def save_enrichment(self, nid: int, enrichment: str) -> None: ...
    async def claim(self, limit: int) -> list[Delivery]: ...
    async def renew(self) -> int: ...
    async def claim_one(self, nid: int, notifier: str) -> Delivery | None: ...
    async def release_held(self) -> None: ...
    async def mark_sending(self, nid: int, notifier: str) -> float | None: ...
    async def mark_retry(self, nid: int, notifier: str, error: str) -> None: ...
    async def mark_done(self, nid: int, notifier: str) -> None: ...
    async def mark_dead(self, nid: int, notifier: str, reason: str) -> int: ...
    async def mark_dead_again(self, nid: int, notifier: str, reason: str) -> None: ...
    async def newer_delivered(self, nid: int, notifier: str) -> int | None: ...

    async def persist(
        self,
        write: Callable[[], Awaitable[T]],
        *,
        first_wait: float = ...,
        longest_wait: float = ...,
        sleep: Callable[[float], Awaitable[None]] = ...,
    ) -> T: ...


class DeadLetterStore(Protocol):
    """`flamebot dead-letters` and `replay`: list dead letters, mark one replayed."""

    async def dead_letters(self, dead_id: int | None = None) -> list[DeadLetter]: ...
    async def mark_replayed(self, dead_id: int) -> None: ...


class ConversationStore(Protocol):
    """A notifier's own state per alert group (e.g. Slack's channel and ts of a message)."""

    async def get(self, group_key: str) -> str | None: ...
    async def set(self, group_key: str, state: str | None) -> None: ...


class FeedbackStore(Protocol):
    """Verdict feedback from Slack's "Wrong verdict?" select: recorded, then listed
    (`flamebot feedback`) oldest first."""

    async def record(
        self,
        notification_id: int,
        group_key: str,
        service: str,
        verdict: str,
        actual: str,
        user: str,
        *,
        at: float,
    ) -> VerdictFeedback: ...

    async def entries(self) -> list[VerdictFeedback]: ...


class ScheduleStore(Protocol):
    """Durable jobs for later (the fix check after a resolve): one job per key, claimed
    when due for the store's lease, removed when done. `now` is always the caller's clock."""

    async def schedule(self, key: str, due_at: float, payload: str) -> int: ...
    async def cancel(self, key: str) -> bool: ...
    async def due(self, now: float, limit: int = 100) -> list[ScheduledJob]: ...
    async def done(self, job_id: int) -> bool: ...
    async def postpone(self, job_id: int, due_at: float) -> None: ...
    async def get(self, key: str) -> ScheduledJob | None: ...
    async def scheduled(self, keys: Collection[str]) -> dict[str, int]: ...
    async def next_due(self) -> float | None: ...
