"""The durable store: records before the answer, finds duplicates, survives restarts.

Tests taking `store` or `backend_store` are the contract of both backends: they run on
SQLite and on a real PostgreSQL (tests.support.stores); the rest are SQLite's own."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from receiver.errors import StoreFullError, StoreUnavailableError
from receiver.store import IDENTITY_TTL_SECONDS, AcceptResult, Delivery, Incoming, Store
from tests.support.locks import write_lock
from tests.support.stores import StoreMaker


async def accept(
    store: Store, identity: str, group: str = "g1", notifiers: list[str] | None = None
) -> AcceptResult:
    incoming = Incoming(identity, "default", group, '{"x": 1}')
    return await store.intake.accept(incoming, notifiers or ["a", "b"], 100)


async def test_accept_records_and_finds_duplicates(store: Store) -> None:
    """A new identity gets the next id; the same identity again gets the original id."""
    first = await accept(store, "id-1")
    second = await accept(store, "id-2")
    again = await accept(store, "id-1")
    assert (first.id, first.duplicate) == (1, False)
    assert (second.id, second.duplicate) == (2, False)
    assert (again.id, again.duplicate, again.received_at) == (1, True, first.received_at)
    assert store.intake.pending == 2


async def test_full_queue_refuses_new_work(backend_store: StoreMaker) -> None:
    """At max_pending unfinished notifications, new work raises StoreFullError."""
    s = backend_store()
    await s.open()
    await s.intake.accept(Incoming("one", "default", "g", "{}"), ["a"], 1)
    with pytest.raises(StoreFullError, match="1 notifications are waiting"):
        await s.intake.accept(Incoming("two", "default", "g", "{}"), ["a"], 1)
    assert (
        await s.intake.accept(Incoming("one", "default", "g", "{}"), ["a"], 1)
    ).duplicate is True
    await s.close()


async def test_delivery_lifecycle_finishes_the_notification(store: Store) -> None:
    """pending -> sending -> done for every notifier finishes the notification."""
    result = await accept(store, "id-1")
    await store.deliveries.mark_sending(result.id, "a")
    await store.deliveries.mark_done(result.id, "a")
    assert store.intake.pending == 1
    assert [d.notifier for d in await store.deliveries.open_deliveries()] == ["b"]
    dead_id = await store.deliveries.mark_dead(result.id, "b", "permanent failure: HTTP 400")
    assert store.intake.pending == 0
    assert await store.deliveries.open_deliveries() == []
    letters = await store.deliveries.dead_letters()
    assert [(x.id, x.notifier, x.reason, x.attempts) for x in letters] == [
        (dead_id, "b", "permanent failure: HTTP 400", 0)
    ]


async def test_records_survive_a_reopen_and_flag_interrupted_sends(
    backend_store: StoreMaker,
) -> None:
    """After a restart, owed deliveries come back; one caught in `sending` is flagged."""
    s = backend_store(clock=lambda: 5000.0)
    await s.open()
    result = await accept(s, "id-1")
    assert await s.deliveries.mark_sending(result.id, "a") is None  # the first send
    await s.close()
    reopened = backend_store()
    await reopened.open()
    owed = await reopened.deliveries.open_deliveries()
    assert owed == [
        Delivery(1, "a", "default", "g1", 1, True, 5000.0, 5000.0),
        Delivery(1, "b", "default", "g1", 0, False, 5000.0, None),
    ]
    assert await reopened.deliveries.mark_sending(result.id, "a") == 5000.0  # when it began
    assert reopened.intake.pending == 1
    await reopened.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    s = Store(tmp_path / "s.db")
    await s.open()
    yield s
    await s.close()


async def test_locked_database_is_unavailable(sqlite_store: Store, tmp_path: Path) -> None:
    """While another process holds a write lock, intake fails with StoreUnavailableError."""
    store = sqlite_store
    with write_lock(tmp_path / "s.db"):
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="database is locked"):
            await accept(store, "id-1")
        assert time.monotonic() - started < 10  # well within Alertmanager's 10 s
    assert (await accept(store, "id-1")).id == 1
    assert store.intake.pending == 1


async def test_full_disk_is_unavailable_and_keeps_earlier_records(tmp_path: Path) -> None:
    """When the file cannot grow (max_page_count), intake fails and nothing is half-written."""
    s = Store(tmp_path / "s.db", max_page_count=1)
    await s.open()
    with pytest.raises(StoreUnavailableError, match="database or disk is full"):
        await s.intake.accept(Incoming("big", "default", "g", "x" * 200_000), ["a"], 100)
    assert s.intake.pending == 0
    assert await s.check_writable() is True
    await s.close()


async def test_prune_forgets_only_old_finished_notifications(store: Store) -> None:
    """Identities older than 7 days are forgotten once done; open work and dead letters stay."""
    done = await accept(store, "done", notifiers=["a"])
    await store.deliveries.mark_done(done.id, "a")
    dead = await accept(store, "dead", notifiers=["a"])
    await store.deliveries.mark_dead(dead.id, "a", "gone")
    await accept(store, "open", notifiers=["a"])
    assert await store.intake.prune(now=time.time()) == 0
    assert await store.intake.prune(now=time.time() + IDENTITY_TTL_SECONDS + 1) == 1
    assert (await accept(store, "done")).duplicate is False
    assert (await accept(store, "dead")).duplicate is True
    assert (await accept(store, "open")).duplicate is True


async def test_conversations_are_kept_per_notifier_and_group(store: Store) -> None:
    """Notifier state per group (e.g. Slack channel and ts) is saved, replaced and deleted."""
    slack, other = store.conversations.of("slack"), store.conversations.of("other")
    assert await slack.get("g1") is None
    await slack.set("g1", '{"ts": "1"}')
    await slack.set("g1", '{"ts": "2"}')
    await other.set("g1", '{"ts": "9"}')
    assert await slack.get("g1") == '{"ts": "2"}'
    await slack.set("g1", None)
    assert await slack.get("g1") is None
    assert await other.get("g1") == '{"ts": "9"}'  # each notifier sees only its own


async def test_store_calls_do_not_block_the_event_loop(store: Store) -> None:
    """Store work runs on its own thread: other tasks progress meanwhile."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    for i in range(20):
        await accept(store, f"id-{i}")
    task.cancel()
    assert ticks > 20


async def test_a_write_that_must_happen_waits_out_a_locked_store(store: Store) -> None:
    """persist() retries a refused write with doubling waits, logging store_write_postponed."""
    refusals = [StoreUnavailableError("database is locked")] * 3
    waits: list[float] = []

    async def write() -> str:
        if refusals:
            raise refusals.pop()
        return "written"

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with capture_logs() as logs:
        result = await store.deliveries.persist(
            write, first_wait=0.5, longest_wait=1.5, sleep=sleep
        )
    assert (result, waits) == ("written", [0.5, 1.0, 1.5])
    assert logs == [
        {
            "event": "store_write_postponed",
            "reason": "database is locked",
            "wait_seconds": wait,
            "log_level": "warning",
        }
        for wait in (0.5, 1.0, 1.5)
    ]


async def test_a_closed_store_ends_the_wait_of_a_write(backend_store: StoreMaker) -> None:
    """Once the store is closed (shutdown), persist() gives up at once: nothing to wait for."""
    closed = backend_store()

    async def write() -> None:
        raise StoreUnavailableError("the store is not open")

    with capture_logs() as logs, pytest.raises(StoreUnavailableError, match="not open"):
        await closed.deliveries.persist(write)
    assert logs == []


async def test_webhooks_are_committed_on_the_fsyncing_connection(tmp_path: Path) -> None:
    """Intake writes go through the live synchronous=FULL connection; pipeline records NORMAL."""
    store = Store(tmp_path / "s.db")
    await store.open()

    def durability(db: sqlite3.Connection) -> tuple[int, str, int]:
        (synchronous,) = db.execute("PRAGMA synchronous").fetchone()  # 2 FULL, 1 NORMAL
        (journal,) = db.execute("PRAGMA journal_mode").fetchone()
        return synchronous, journal, db.total_changes

    assert await store.intake_lane.run(durability) == (2, "wal", 0)
    assert await store.work_lane.run(durability) == (1, "wal", 0)
    result = await accept(store, "id-1")  # one notification row, two delivery rows
    await store.deliveries.mark_sending(result.id, "a")
    assert await store.intake_lane.run(durability) == (2, "wal", 3)
    assert await store.work_lane.run(durability) == (1, "wal", 1)
    await store.close()


class FailingCommit:
    """A connection whose next COMMIT fails (as a full disk or a lost server would)."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self.dialect = db.dialect

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    @property
    def in_transaction(self) -> bool:
        return bool(self._db.in_transaction)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self._db.execute(sql, parameters)

    def commit(self) -> None:
        self._db.rollback()
        raise sqlite3.OperationalError("disk I/O error")


async def test_a_failed_commit_leaves_the_pending_count_as_it_was(tmp_path: Path) -> None:
    """Review bug: the count went down before COMMIT; a failed COMMIT now changes nothing."""
    store = Store(tmp_path / "s.db")
    await store.open()
    result = await accept(store, "id-1", notifiers=["a"])
    await store.deliveries.mark_sending(result.id, "a")
    healthy = store.work_lane._conn
    store.work_lane._conn = FailingCommit(healthy)  # type: ignore[assignment]
    with pytest.raises(StoreUnavailableError, match="disk I/O error"):
        await store.deliveries.mark_done(result.id, "a")
    with pytest.raises(StoreUnavailableError, match="disk I/O error"):
        await store.deliveries.mark_dead(result.id, "a", "gone")
    store.work_lane._conn = healthy
    assert store.intake.pending == 1
    assert [d.notification_id for d in await store.deliveries.open_deliveries()] == [1]
    await store.deliveries.mark_done(result.id, "a")
    assert store.intake.pending == 0
    healthy = store.intake_lane._conn
    store.intake_lane._conn = FailingCommit(healthy)  # type: ignore[assignment]
    with pytest.raises(StoreUnavailableError, match="disk I/O error"):
        await accept(store, "id-2")
    store.intake_lane._conn = healthy
    assert store.intake.pending == 0
    assert (await accept(store, "id-2")).duplicate is False  # nothing of it was kept
    await store.close()


async def test_prune_forgets_conversations_of_groups_quiet_for_the_ttl(store: Store) -> None:
    """Review bug: conversations were never pruned; now they go with their group's records."""
    quiet = await accept(store, "quiet", group="g-quiet", notifiers=["a"])
    await store.deliveries.mark_done(quiet.id, "a")
    await accept(store, "busy", group="g-busy", notifiers=["a"])  # still open
    slack = store.conversations.of("a")
    await slack.set("g-quiet", '{"ts": "1"}')
    await slack.set("g-busy", '{"ts": "2"}')
    assert await store.intake.prune(now=time.time()) == 0
    assert await slack.get("g-quiet") == '{"ts": "1"}'  # not quiet for long enough yet
    assert await store.intake.prune(now=time.time() + IDENTITY_TTL_SECONDS + 1) == 1
    assert await slack.get("g-quiet") is None
    assert await slack.get("g-busy") == '{"ts": "2"}'  # its group still has open work


async def test_concurrent_webhooks_share_one_durable_commit(backend_store: StoreMaker) -> None:
    """Group commit: 50 webhooks at once are one commit; each got its id; all survive."""
    s = backend_store()
    await s.open()
    results = await asyncio.gather(*(accept(s, f"id-{i}", group=f"g{i}") for i in range(50)))
    assert [(r.id, r.duplicate) for r in results] == [(i + 1, False) for i in range(50)]
    assert s._intake.commits == 1
    assert s.intake.pending == 50
    await s.close()
    again = backend_store()
    await again.open()
    assert len(await again.deliveries.open_deliveries()) == 100
    assert again.intake.pending == 50
    await again.close()


async def test_a_group_commit_of_new_and_stored_webhooks_gets_every_id_right(
    store: Store,
) -> None:
    """New, stored and repeated identities in one commit: each new one gets the next id."""
    assert (await accept(store, "old-1", group="g0")).id == 1
    assert (await accept(store, "old-2", group="g9")).id == 2
    commits = store._intake.commits
    results = await asyncio.gather(
        accept(store, "new-1", group="g1"),
        accept(store, "old-2", group="g9"),
        accept(store, "new-2", group="g2"),
        accept(store, "new-1", group="g1"),
        accept(store, "old-1", group="g0"),
        accept(store, "new-3", group="g3"),
    )
    ids = [r.id for r in results]
    assert [r.duplicate for r in results] == [False, True, False, True, True, False]
    assert (ids[1], ids[3], ids[4]) == (2, ids[0], 1)
    assert 2 < ids[0] < ids[2] < ids[5]  # PostgreSQL's sequence may skip, SQLite's too
    assert (store._intake.commits, store.intake.pending) == (commits + 1, 5)
    opened = await store.deliveries.open_deliveries()
    assert sorted((d.notification_id, d.notifier, d.group_key) for d in opened) == [
        (n, notifier, group)
        for n, group in ((1, "g0"), (2, "g9"), (ids[0], "g1"), (ids[2], "g2"), (ids[5], "g3"))
        for notifier in ("a", "b")
    ]


async def test_one_refused_webhook_fails_alone_in_its_group_commit(store: Store) -> None:
    """Within one commit, a webhook past max_pending fails; the others and duplicates pass."""
    incoming = [Incoming(f"id-{i}", "default", "g", "{}") for i in range(4)]
    outcomes = await asyncio.gather(
        store.intake.accept(incoming[0], ["a"], 2),
        store.intake.accept(incoming[1], ["a"], 2),
        store.intake.accept(incoming[2], ["a"], 2),
        store.intake.accept(incoming[0], ["a"], 2),
        return_exceptions=True,
    )
    assert [o if isinstance(o, AcceptResult) else repr(o) for o in outcomes] == [
        AcceptResult(1, False, outcomes[0].received_at),  # type: ignore[union-attr]
        AcceptResult(2, False, outcomes[1].received_at),  # type: ignore[union-attr]
        "StoreFullError('2 notifications are waiting')",
        AcceptResult(1, True, outcomes[0].received_at),  # type: ignore[union-attr]
    ]
    assert store.intake.pending == 2


async def test_one_webhook_too_big_for_the_file_fails_alone_in_its_group(tmp_path: Path) -> None:
    """A group whose commit the file cannot take is tried again webhook by webhook."""
    s = Store(tmp_path / "s.db")
    await s.open()

    def cap(db: Any) -> None:
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        db.execute(f"PRAGMA max_page_count={pages + 8}")  # room for small rows only

    await s.intake_lane.run(cap)
    outcomes = await asyncio.gather(
        s.intake.accept(Incoming("small-1", "default", "g1", "{}"), ["a"], 100),
        s.intake.accept(Incoming("big", "default", "g2", "x" * 200_000), ["a"], 100),
        s.intake.accept(Incoming("small-2", "default", "g3", "{}"), ["a"], 100),
        return_exceptions=True,
    )
    assert [o if isinstance(o, AcceptResult) else repr(o) for o in outcomes] == [
        AcceptResult(1, False, outcomes[0].received_at),  # type: ignore[union-attr]
        "StoreUnavailableError('database or disk is full')",
        AcceptResult(2, False, outcomes[2].received_at),  # type: ignore[union-attr]
    ]
    assert s.intake.pending == 2
    assert [(d.notification_id, d.notifier) for d in await s.deliveries.open_deliveries()] == [
        (1, "a"),
        (2, "a"),
    ]
    await s.close()


async def test_intake_waits_its_turn_behind_a_pipeline_write_not_sqlite_busy(
    tmp_path: Path,
) -> None:
    """The lanes of one file take turns in-process: intake never meets SQLITE_BUSY from them."""
    s = Store(tmp_path / "s.db")
    await s.open()

    def impatient(db: Any) -> None:
        db.execute("PRAGMA busy_timeout = 0")  # SQLite's own wait: none
        db.writers_timeout = 60.0  # the turn: as long as it takes here

    await s.intake_lane.run(impatient)
    await s.work_lane.run(lambda db: db.begin())  # the pipeline is writing
    accepting = asyncio.create_task(accept(s, "id-1"))
    await asyncio.sleep(0.1)  # intake reaches its BEGIN meanwhile, or after: both must pass
    assert not accepting.done()
    await s.work_lane.run(lambda db: db.commit())
    assert (await accepting).id == 1
    await s.close()


async def test_a_pipeline_write_held_too_long_makes_intake_unavailable(tmp_path: Path) -> None:
    """Waiting for the other lane is bounded like SQLite's own lock wait: then a 503."""
    s = Store(tmp_path / "s.db")
    await s.open()

    def patience(db: Any) -> None:
        db.writers_timeout = 0.05

    await s.intake_lane.run(patience)
    await s.work_lane.run(lambda db: db.begin())
    with pytest.raises(StoreUnavailableError, match="database is locked"):
        await accept(s, "id-1")
    await s.work_lane.run(lambda db: db.rollback())
    assert (await accept(s, "id-1")).duplicate is False
    assert s.intake.pending == 1
    await s.close()
