"""PostgreSQL's two intake lanes: a second commit goes while the first is on its way, with
the webhooks of other groups only, and only where none of them could be refused (a real
PostgreSQL; the first commit is held at its COMMIT by the test)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from receiver.store import AcceptResult, Incoming, Store

HOLD_LIMIT_S = 30.0  # a held COMMIT is let go by the test; this only ends a broken run


class HeldCommit:
    """An intake connection whose next COMMIT waits until the test lets it go."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self.dialect = db.dialect
        self.reached = threading.Event()
        self.release = threading.Event()
        self.held = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def commit(self) -> None:
        if self.held:
            self.held = False
            self.reached.set()
            self.release.wait(HOLD_LIMIT_S)
        self._db.commit()


@pytest.fixture
async def pg_store(pg_url: str) -> AsyncIterator[Store]:
    store = Store(url=pg_url)
    await store.open()
    yield store
    await store.close()


async def held_first_commit(store: Store) -> HeldCommit:
    """Hold the first intake lane's next COMMIT."""
    lane = store.intake_lanes[0]
    held = HeldCommit(lane._conn)
    lane._conn = held  # type: ignore[assignment]
    return held


def accepting(store: Store, identity: str, group: str, max_pending: int = 100) -> Any:
    incoming = Incoming(identity, "default", group, '{"x": 1}')
    return asyncio.create_task(store.intake.accept(incoming, ["a"], max_pending))


async def settled(*tasks: asyncio.Task[AcceptResult]) -> list[tuple[int, bool]]:
    done = await asyncio.wait_for(asyncio.gather(*tasks), HOLD_LIMIT_S)
    return [(result.id, result.duplicate) for result in done]


async def test_other_groups_commit_while_the_first_commit_is_on_its_way(
    pg_store: Store,
) -> None:
    """Held first commit: another group's webhook is answered; the same group's waits."""
    assert len(pg_store.intake_lanes) == 2
    held = await held_first_commit(pg_store)
    first = accepting(pg_store, "a-1", "g1")
    await asyncio.to_thread(held.reached.wait, HOLD_LIMIT_S)
    other = accepting(pg_store, "b-1", "g2")
    same = accepting(pg_store, "a-2", "g1")
    assert await settled(other) == [(2, False)]
    assert not first.done()
    assert not same.done()
    held.release.set()
    assert await settled(first, same) == [(1, False), (3, False)]  # g1's order kept
    assert pg_store._intake.commits == 3
    assert pg_store.intake.pending == 3


async def test_near_max_pending_a_second_commit_waits_for_the_first(pg_store: Store) -> None:
    """Where a webhook could be refused, one commit at a time: the bound is exact."""
    held = await held_first_commit(pg_store)
    first = accepting(pg_store, "a-1", "g1", max_pending=2)
    await asyncio.to_thread(held.reached.wait, HOLD_LIMIT_S)
    second = accepting(pg_store, "b-1", "g2", max_pending=2)
    third = accepting(pg_store, "c-1", "g3", max_pending=2)
    for _ in range(3):  # the intake decides on the next turns of the event loop
        await asyncio.sleep(0)
    assert pg_store._intake._idle == [pg_store.intake_lanes[1]]  # no second commit started
    held.release.set()
    outcomes = await asyncio.wait_for(
        asyncio.gather(first, second, third, return_exceptions=True), HOLD_LIMIT_S
    )
    assert [o if isinstance(o, AcceptResult) else repr(o) for o in outcomes] == [
        AcceptResult(1, False, outcomes[0].received_at),  # type: ignore[union-attr]
        AcceptResult(2, False, outcomes[1].received_at),  # type: ignore[union-attr]
        "StoreFullError('2 notifications are waiting')",
    ]
    assert pg_store.intake.pending == 2
