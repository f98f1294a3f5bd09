"""Verdict feedback (`receiver.store.FeedbackStore`) in the SQLite store: one row per
"Wrong verdict?" answer, kept for good (they are few, and they are what tunes thresholds)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from receiver.store.records import VerdictFeedback
from receiver.store.sqlite import Lane, patiently

__all__ = ["FeedbackLog"]

_SELECT = (
    "SELECT id, notification_id, group_key, service, verdict, actual, user, created_at"
    " FROM verdict_feedback ORDER BY id"
)


class FeedbackLog:
    def __init__(self, lane: Lane, is_open: Callable[[], bool]) -> None:
        self._lane = lane
        self._is_open = is_open

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
    ) -> VerdictFeedback:
        """Keep one answer; waits out a locked or full store (a user's click is not lost)."""
        values = (notification_id, group_key, service, verdict, actual, user, at)

        def save(db: sqlite3.Connection) -> VerdictFeedback:
            cursor = db.execute(
                "INSERT INTO verdict_feedback (notification_id, group_key, service, verdict,"
                " actual, user, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            assert cursor.lastrowid is not None
            return VerdictFeedback(cursor.lastrowid, *values)

        return await patiently(lambda: self._lane.write(save), is_open=self._is_open)

    async def entries(self) -> list[VerdictFeedback]:
        """Every answer, oldest first."""

        def read(db: sqlite3.Connection) -> list[VerdictFeedback]:
            rows = db.execute(_SELECT).fetchall()
            return [
                VerdictFeedback(
                    int(r[0]),
                    int(r[1]),
                    str(r[2]),
                    str(r[3]),
                    str(r[4]),
                    str(r[5]),
                    str(r[6]),
                    float(r[7]),
                )
                for r in rows
            ]

        return await self._lane.run(read)
