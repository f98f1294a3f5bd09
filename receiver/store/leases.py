"""Leases on deliveries: which process works on which delivery, so replicas never send one
delivery at once and one group's jobs keep their order across them.

`claim` hands out only the head of a lane (the oldest unfinished delivery of one notifier
for one group), and only when no live process holds its lease; on PostgreSQL it locks the
rows with `FOR UPDATE SKIP LOCKED`, so replicas claiming together never wait on or take
each other's rows. A process renews what it holds (`renew`); one that dies has its work
taken over once the lease ran out (`store.lease_seconds`). With one process on a SQLite
file, a lane's turn (`claim_one`) is a read: nobody else can hold a lease.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from receiver.store.db import Db
from receiver.store.records import Delivery
from receiver.store.sqlite import Lane

__all__ = ["OWED", "Leases", "as_delivery"]

OWED = (
    "SELECT d.notification_id, d.notifier, n.route, n.group_key, d.attempts, d.state,"
    " n.received_at, d.sending_since FROM deliveries d"
    " JOIN notifications n ON n.id = d.notification_id"
    " WHERE d.state IN ('pending', 'sending')"
)
# Heads of lanes: no earlier unfinished delivery of the same notifier and group.
_HEAD = (
    OWED  # noqa: S608 (constant SQL)
    + " AND NOT EXISTS (SELECT 1"
    " FROM notifications m JOIN deliveries e ON e.notification_id = m.id"
    " WHERE m.group_key = n.group_key AND m.id < n.id AND e.notifier = d.notifier"
    " AND e.state IN ('pending', 'sending'))"
)
# ... that nobody holds.
_CLAIMABLE = (
    _HEAD + " AND (d.lease_until IS NULL OR d.lease_until <= ?)"
    " ORDER BY d.notification_id, d.notifier LIMIT ?"
)


def as_delivery(row: tuple[Any, ...]) -> Delivery:
    nid, notifier, route, gk, attempts, state, received, since = row
    return Delivery(int(nid), notifier, route, gk, attempts, state == "sending", received, since)


class Leases:
    """The lease half of `receiver.store.deliveries.DeliveryLog`."""

    def __init__(
        self,
        lane: Lane,
        *,
        owner: str,
        lease_seconds: float,
        clock: Callable[[], float],
        shared: bool,
    ) -> None:
        self._lane = lane
        self.owner = owner  # this process, in the leases it takes
        self.lease_seconds = lease_seconds
        self._clock = clock
        self.shared = shared  # other processes use the store too (PostgreSQL replicas)

    async def claim(self, limit: int) -> list[Delivery]:
        """Take the leases of up to `limit` lane heads nobody holds, oldest first."""
        now = self._clock()

        def take(db: Db) -> list[Delivery]:
            sql = _CLAIMABLE
            if db.dialect == "postgresql":
                sql += " FOR UPDATE OF d SKIP LOCKED"
            rows = db.execute(sql, (now, limit)).fetchall()
            db.executemany(
                "UPDATE deliveries SET lease_owner = ?, lease_until = ?"
                " WHERE notification_id = ? AND notifier = ?",
                [(self.owner, now + self.lease_seconds, r[0], r[1]) for r in rows],
            )
            return [as_delivery(tuple(r)) for r in rows]

        return await self._lane.write(take)

    async def renew(self) -> int:
        """Extend the leases this process holds on unfinished deliveries; how many."""
        until = self._clock() + self.lease_seconds

        def extend(db: Db) -> int:
            return db.execute(
                "UPDATE deliveries SET lease_until = ? WHERE lease_owner = ?"
                " AND state IN ('pending', 'sending')",
                (until, self.owner),
            ).rowcount

        return await self._lane.write(extend)

    async def release_all(self) -> None:
        """Give up every lease (a single-process store at start: nobody else can hold one)."""

        def release(db: Db) -> None:
            db.execute(
                "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL"
                " WHERE lease_owner IS NOT NULL"
            )

        await self._lane.write(release)

    async def claim_one(self, nid: int, notifier: str) -> Delivery | None:
        """Take (or keep) the lease of one delivery, if it is unfinished, the head of its
        lane and held by nobody else; the delivery as stored now, or None."""
        now = self._clock()

        def take(db: Db) -> Delivery | None:
            sql = (
                _HEAD
                + " AND d.notification_id = ? AND d.notifier = ?"
                + " AND (d.lease_owner = ? OR d.lease_until IS NULL OR d.lease_until <= ?)"
            )
            if db.dialect == "postgresql":
                sql += " FOR UPDATE OF d SKIP LOCKED"
            row = db.execute(sql, (nid, notifier, self.owner, now)).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE deliveries SET lease_owner = ?, lease_until = ?"
                " WHERE notification_id = ? AND notifier = ?",
                (self.owner, now + self.lease_seconds, nid, notifier),
            )
            return as_delivery(tuple(row))

        if not self.shared:  # one process per SQLite file: its lanes are the only ones
            return await self._lane.run(partial(self._head, nid=nid, notifier=notifier))
        return await self._lane.write(take)

    def _head(self, db: Db, nid: int, notifier: str) -> Delivery | None:
        sql = _HEAD + " AND d.notification_id = ? AND d.notifier = ?"
        row = db.execute(sql, (nid, notifier)).fetchone()
        return None if row is None else as_delivery(tuple(row))

    async def release_held(self) -> None:
        """Give back the leases this process holds (at shutdown: another may take over now)."""

        def release(db: Db) -> None:
            db.execute(
                "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL"
                " WHERE lease_owner = ?",
                (self.owner,),
            )

        await self._lane.write(release)
