"""The store's tables on each backend, the schema version they are at, and the way up.

Version 1 is the first release's SQLite file (it recorded no version); version 2 adds the
leases and send times of deliveries (replicas, crash-exact Slack) and the scheduled jobs;
version 3 the verdict feedback given in Slack.
At open, an older store is migrated step by step in one transaction; a store newer than
this code is refused (`StoreTooNewError`), before anything in it is touched. PostgreSQL
migrates under an advisory lock, so replicas starting together migrate once.
"""

from __future__ import annotations

from receiver.errors import StoreTooNewError
from receiver.store.db import Db

__all__ = ["SCHEMA_VERSION", "migrate"]

SCHEMA_VERSION = 3
_MIGRATION_LOCK = 4_612_031  # the advisory lock key of flamebot's migrations

_V1 = """
CREATE TABLE notifications (
    id {serial},
    identity TEXT NOT NULL UNIQUE,
    route TEXT NOT NULL,
    group_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at {real} NOT NULL,
    enrichment TEXT,
    done_at {real}
);
CREATE INDEX notifications_open ON notifications (done_at, id);
CREATE TABLE deliveries (
    notification_id {bigint} NOT NULL REFERENCES notifications (id),
    notifier TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at {real} NOT NULL,
    PRIMARY KEY (notification_id, notifier)
);
CREATE INDEX deliveries_state ON deliveries (state, notification_id);
CREATE TABLE dead_letters (
    id {serial},
    notification_id {bigint} NOT NULL REFERENCES notifications (id),
    notifier TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_at {real} NOT NULL,
    replayed_at {real}
);
CREATE TABLE conversations (
    notifier TEXT NOT NULL,
    group_key TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at {real} NOT NULL,
    PRIMARY KEY (notifier, group_key)
);
CREATE TABLE heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at {real} NOT NULL);
"""

_V2 = """
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;
ALTER TABLE deliveries ADD COLUMN lease_until {real};
ALTER TABLE deliveries ADD COLUMN sending_since {real};
CREATE INDEX notifications_group ON notifications (group_key, id);
CREATE INDEX conversations_age ON conversations (updated_at);
CREATE TABLE schedules (
    id {serial},
    key TEXT NOT NULL UNIQUE,
    due_at {real} NOT NULL,
    payload TEXT NOT NULL,
    claimed_until {real},
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX schedules_due ON schedules (due_at, id);
"""

_V3 = """
CREATE TABLE verdict_feedback (
    id {serial},
    notification_id {bigint} NOT NULL,
    group_key TEXT NOT NULL,
    service TEXT NOT NULL,
    verdict TEXT NOT NULL,
    actual TEXT NOT NULL,
    user_name TEXT NOT NULL,
    created_at {real} NOT NULL
);
"""

_STEPS = {1: _V1, 2: _V2, 3: _V3}  # the script that brings a store from version N-1 to N
_TYPES = {
    "sqlite": {"serial": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL", "bigint": "INTEGER"},
    "postgresql": {
        "serial": "BIGSERIAL PRIMARY KEY",
        "real": "DOUBLE PRECISION",
        "bigint": "BIGINT",
    },
}


def _statements(script: str, dialect: str) -> list[str]:
    text = script.format(**_TYPES[dialect])
    return [s.strip() for s in text.split(";") if s.strip()]


def _version(db: Db) -> int:
    """The store's schema version: 0 for an empty store, 1 for the first release's file."""
    if db.dialect == "sqlite":
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version == 0:
            sql = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'notifications'"
            version = 1 if db.execute(sql).fetchone()[0] else 0
        return int(version)
    db.execute("CREATE TABLE IF NOT EXISTS flamebot_schema (version INTEGER NOT NULL)")
    row = db.execute("SELECT MAX(version) FROM flamebot_schema").fetchone()
    return int(row[0] or 0)


def _record(db: Db, version: int) -> None:
    if db.dialect == "sqlite":
        db.execute(f"PRAGMA user_version = {int(version)}")
    else:
        db.execute("DELETE FROM flamebot_schema")
        db.execute("INSERT INTO flamebot_schema (version) VALUES (?)", (version,))


def migrate(db: Db, where: str) -> tuple[int, int]:
    """Bring the store to SCHEMA_VERSION in one transaction; (version found, version now).

    Raises StoreTooNewError for a store written by a newer flamebot."""
    db.begin()
    try:
        if db.dialect == "postgresql":
            db.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
        found = _version(db)
        if found > SCHEMA_VERSION:
            raise StoreTooNewError(
                f"the store {where} has schema version {found}, newer than this flamebot"
                f" (version {SCHEMA_VERSION}): run a flamebot at least as new as the one"
                " that wrote it"
            )
        for step in range(found + 1, SCHEMA_VERSION + 1):
            for statement in _statements(_STEPS[step], db.dialect):
                db.execute(statement)
        if found != SCHEMA_VERSION:
            _record(db, SCHEMA_VERSION)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return found, SCHEMA_VERSION
