"""Scheduled jobs: work that must happen later and survive restarts (the fix check after a
group resolves, PRODUCT.md §7.2).

One job per key: scheduling a key again replaces its job (a new id, the old one is gone),
cancelling it removes it. `due(now)` claims the jobs whose time has come for
`lease_seconds`: a claimed job is not handed out again until its lease runs out, so a
process that dies holding it has it taken over later. `done(id)` removes the job;
`postpone(id, due_at)` gives it back for another try. Time is always the caller's `now`
(an injectable clock); nothing here reads the wall clock to decide what is due.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from receiver.store.db import Db
from receiver.store.records import ScheduledJob
from receiver.store.sqlite import Lane, patiently

__all__ = ["DEFAULT_LEASE_SECONDS", "Schedules"]

DEFAULT_LEASE_SECONDS = 30.0  # `store.lease_seconds`

_COLUMNS = "id, key, due_at, payload, attempts"
KEYS_PER_READ = 500  # keys per statement of `scheduled`: far below SQLite's 32,766 variables


class Schedules:
    """`receiver.store.ScheduleStore` on SQLite (the work lane)."""

    def __init__(
        self,
        lane: Lane,
        is_open: Callable[[], bool],
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._lane = lane
        self._is_open = is_open
        self.lease_seconds = lease_seconds

    async def schedule(self, key: str, due_at: float, payload: str) -> int:
        """Schedule `payload` under `key` at `due_at`, replacing the key's job if any."""

        def save(db: Db) -> int:
            db.execute("DELETE FROM schedules WHERE key = ?", (key,))
            (job_id,) = db.execute(
                "INSERT INTO schedules (key, due_at, payload, claimed_until, attempts)"
                " VALUES (?, ?, ?, NULL, 0) RETURNING id",
                (key, due_at, payload),
            ).fetchone()
            return int(job_id)

        return await patiently(lambda: self._lane.write(save), is_open=self._is_open)

    async def cancel(self, key: str) -> bool:
        """Remove the key's job; True when there was one."""

        def remove(db: Db) -> bool:
            return db.execute("DELETE FROM schedules WHERE key = ?", (key,)).rowcount > 0

        return await patiently(lambda: self._lane.write(remove), is_open=self._is_open)

    async def due(self, now: float, limit: int = 100) -> list[ScheduledJob]:
        """Claim the jobs due at `now` (not claimed, or their claim ran out), soonest first."""
        until = now + self.lease_seconds

        def claim(db: Db) -> list[ScheduledJob]:
            sql = (
                f"SELECT {_COLUMNS} FROM schedules WHERE due_at <= ?"  # noqa: S608
                " AND (claimed_until IS NULL OR claimed_until <= ?)"
                " ORDER BY due_at, id LIMIT ?"
            )
            if db.dialect == "postgresql":
                sql += " FOR UPDATE SKIP LOCKED"  # replicas claiming together skip each other
            rows = db.execute(sql, (now, now, limit)).fetchall()
            db.executemany(
                "UPDATE schedules SET claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
                [(until, row[0]) for row in rows],
            )
            return [ScheduledJob(int(i), k, d, p, a + 1) for i, k, d, p, a in rows]

        return await self._lane.write(claim)

    async def done(self, job_id: int) -> bool:
        """The job ran: remove it. False when it was replaced or cancelled meanwhile."""

        def remove(db: Db) -> bool:
            return db.execute("DELETE FROM schedules WHERE id = ?", (job_id,)).rowcount > 0

        return await patiently(lambda: self._lane.write(remove), is_open=self._is_open)

    async def postpone(self, job_id: int, due_at: float) -> None:
        """Give a claimed job back, due again at `due_at` (a try that failed)."""

        def release(db: Db) -> None:
            db.execute(
                "UPDATE schedules SET due_at = ?, claimed_until = NULL WHERE id = ?",
                (due_at, job_id),
            )

        await patiently(lambda: self._lane.write(release), is_open=self._is_open)

    async def get(self, key: str) -> ScheduledJob | None:
        """The key's job, claimed or not, or None."""

        def read(db: Db) -> ScheduledJob | None:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM schedules WHERE key = ?",  # noqa: S608
                (key,),
            ).fetchone()
            return None if row is None else ScheduledJob(int(row[0]), *row[1:])

        return await self._lane.run(read)

    async def scheduled(self, keys: Collection[str]) -> dict[str, int]:
        """Which of `keys` have a job: key -> its job id, in one read per 500 keys."""
        wanted = list(keys)

        def read(db: Db) -> dict[str, int]:
            found: dict[str, int] = {}
            for at in range(0, len(wanted), KEYS_PER_READ):
                chunk = wanted[at : at + KEYS_PER_READ]
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT key, id FROM schedules WHERE key IN ({marks})"  # noqa: S608
                rows = db.execute(sql, chunk).fetchall()
                found.update((key, int(job_id)) for key, job_id in rows)
            return found

        return await self._lane.run(read) if wanted else {}

    async def next_due(self) -> float | None:
        """When the soonest job is due (claimed ones included), or None with none scheduled."""

        def read(db: Db) -> float | None:
            row = db.execute("SELECT MIN(due_at) FROM schedules").fetchone()
            return None if row is None or row[0] is None else float(row[0])

        return await self._lane.run(read)
