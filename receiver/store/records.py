"""What the durable store holds: the SQLite schema, and the rows every part of the store
hands out (the same rows whatever the backend)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SCHEMA",
    "AcceptResult",
    "DeadLetter",
    "Delivery",
    "Incoming",
    "ScheduledJob",
    "StoredNotification",
    "VerdictFeedback",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    identity TEXT NOT NULL UNIQUE,
    route TEXT NOT NULL,
    group_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at REAL NOT NULL,
    enrichment TEXT,
    done_at REAL
);
CREATE INDEX IF NOT EXISTS notifications_open ON notifications (done_at, id);
CREATE TABLE IF NOT EXISTS deliveries (
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    notifier TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (notification_id, notifier)
);
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (state, notification_id);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    notifier TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_at REAL NOT NULL,
    replayed_at REAL
);
CREATE TABLE IF NOT EXISTS conversations (
    notifier TEXT NOT NULL,
    group_key TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (notifier, group_key)
);
CREATE TABLE IF NOT EXISTS verdict_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL,
    group_key TEXT NOT NULL,
    service TEXT NOT NULL,
    verdict TEXT NOT NULL,
    actual TEXT NOT NULL,
    user TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    due_at REAL NOT NULL,
    payload TEXT NOT NULL,
    claimed_until REAL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS schedules_due ON schedules (due_at, id);
CREATE TABLE IF NOT EXISTS heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL);
"""


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
