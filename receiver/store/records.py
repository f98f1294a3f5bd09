"""The rows every part of the store hands out (the same rows whatever the backend; the
tables are in `receiver.store.schema`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

__all__ = [
    "AcceptResult",
    "DeadLetter",
    "Delivery",
    "Incoming",
    "ScheduledJob",
    "StoredNotification",
    "VerdictFeedback",
    "row_document",
]


@dataclass(frozen=True, slots=True)
class Incoming:
    """A webhook to record: its identity (`receiver.models.notification_identity`), route,
    group and body (JSON)."""

    identity: str
    route: str
    group_key: str
    payload: str


@dataclass(frozen=True, slots=True)
class AcceptResult:
    id: int
    duplicate: bool
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Delivery:
    notification_id: int
    notifier: str
    route: str
    group_key: str
    attempts: int
    interrupted: bool  # found in `sending`: the previous run may have sent it already
    received_at: float
    sending_since: float | None = None  # when its first send started (None: never tried)


@dataclass(frozen=True, slots=True)
class StoredNotification:
    id: int
    route: str
    group_key: str
    payload: str
    received_at: float
    enrichment: str | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    notification_id: int
    notifier: str
    route: str
    group_key: str
    reason: str
    attempts: int
    created_at: float
    replayed_at: float | None


@dataclass(frozen=True, slots=True)
class VerdictFeedback:
    """A "Wrong verdict?" answer from Slack: the verdict shown and the one the user chose."""

    id: int
    notification_id: int
    group_key: str
    service: str
    verdict: str
    actual: str
    user: str
    created_at: float


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A job of the schedule store: `attempts` counts the claims so far (this one included
    when it came from `due`)."""

    id: int
    key: str
    due_at: float
    payload: str
    attempts: int


def row_document(row: DeadLetter | VerdictFeedback) -> dict[str, object]:
    """A row as `--json` prints it (`dead-letters`, `feedback`): its fields in order, the
    times (`*_at`, epoch seconds) as RFC 3339 in UTC to the second, null where unset."""
    return {
        key: _iso(value) if key.endswith("_at") else value for key, value in asdict(row).items()
    }


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
