"""The schedule store's contract: one job per key, claimed when due, leased, durable (on
SQLite and on a real PostgreSQL: the `store` fixture of tests.support.stores)."""

from __future__ import annotations

import asyncio

import pytest

from receiver.store import ScheduledJob, Store, schedules
from tests.support.stores import StoreMaker

T0 = 1_000_000.0  # the tests' clock: every `now` is passed in, nothing reads the wall clock


async def test_a_job_is_handed_out_once_its_time_has_come(store: Store) -> None:
    """Nothing is due before due_at; at due_at the job is claimed with its payload."""
    job_id = await store.schedules.schedule("fix:g1", T0 + 600, '{"group": "g1"}')
    assert await store.schedules.due(T0 + 599.9) == []
    assert await store.schedules.due(T0 + 600) == [
        ScheduledJob(job_id, "fix:g1", T0 + 600, '{"group": "g1"}', 1)
    ]


async def test_scheduling_a_key_again_replaces_its_job(store: Store) -> None:
    """A second schedule of one key leaves only the new job (new id, time and payload)."""
    first = await store.schedules.schedule("fix:g1", T0 + 600, "old")
    second = await store.schedules.schedule("fix:g1", T0 + 900, "new")
    assert second != first
    assert await store.schedules.due(T0 + 899) == []
    assert await store.schedules.due(T0 + 900) == [
        ScheduledJob(second, "fix:g1", T0 + 900, "new", 1)
    ]
    assert await store.schedules.done(first) is False  # the replaced job's id is gone
    assert await store.schedules.get("fix:g1") == ScheduledJob(second, "fix:g1", T0 + 900, "new", 1)


async def test_cancel_removes_the_job_of_a_key(store: Store) -> None:
    """cancel() says whether there was a job; a cancelled job is never due."""
    await store.schedules.schedule("fix:g1", T0, "p")
    assert await store.schedules.cancel("fix:g1") is True
    assert await store.schedules.cancel("fix:g1") is False
    assert await store.schedules.due(T0 + 3600) == []
    assert await store.schedules.get("fix:g1") is None
    assert await store.schedules.next_due() is None


async def test_scheduled_says_which_keys_have_a_job(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scheduled() maps each asked key that has a job to its id, over several reads."""
    monkeypatch.setattr(schedules, "KEYS_PER_READ", 2)
    ids = {key: await store.schedules.schedule(key, T0, "p") for key in ("a", "b", "c")}
    assert await store.schedules.scheduled(["a", "c", "x", "b", "y"]) == ids
    assert await store.schedules.scheduled(["x"]) == {}
    assert await store.schedules.scheduled([]) == {}


async def test_a_claimed_job_is_not_handed_out_again_until_its_lease_ends(store: Store) -> None:
    """Within lease_seconds a claimed job stays with its claimer; after, it is taken over."""
    job_id = await store.schedules.schedule("fix:g1", T0, "p")
    assert [j.id for j in await store.schedules.due(T0)] == [job_id]
    assert await store.schedules.due(T0 + 29.9) == []
    assert await store.schedules.due(T0 + 30) == [ScheduledJob(job_id, "fix:g1", T0, "p", 2)]


async def test_done_removes_the_job(store: Store) -> None:
    """A job reported done is gone for good, even after its lease would have ended."""
    job_id = await store.schedules.schedule("fix:g1", T0, "p")
    await store.schedules.due(T0)
    assert await store.schedules.done(job_id) is True
    assert await store.schedules.due(T0 + 3600) == []
    assert await store.schedules.get("fix:g1") is None


async def test_postpone_gives_a_claimed_job_back_for_later(store: Store) -> None:
    """A failed try is postponed: unclaimed, due at the new time, its attempts kept."""
    job_id = await store.schedules.schedule("fix:g1", T0, "p")
    await store.schedules.due(T0)
    await store.schedules.postpone(job_id, T0 + 60)
    assert await store.schedules.due(T0 + 59) == []
    assert await store.schedules.due(T0 + 60) == [ScheduledJob(job_id, "fix:g1", T0 + 60, "p", 2)]


async def test_due_jobs_come_soonest_first_within_the_limit(store: Store) -> None:
    """due() claims at most `limit` jobs, ordered by due time; next_due() is the soonest."""
    await store.schedules.schedule("c", T0 + 3, "3")
    await store.schedules.schedule("a", T0 + 1, "1")
    await store.schedules.schedule("b", T0 + 2, "2")
    assert await store.schedules.next_due() == T0 + 1
    assert [j.key for j in await store.schedules.due(T0 + 10, limit=2)] == ["a", "b"]
    assert [j.key for j in await store.schedules.due(T0 + 10, limit=2)] == ["c"]


async def test_jobs_survive_a_restart(backend_store: StoreMaker) -> None:
    """A scheduled job is still there, with its time and payload, after the store reopens."""
    first = backend_store()
    await first.open()
    job_id = await first.schedules.schedule("fix:g1", T0 + 600, '{"x": 1}')
    await first.close()
    again = backend_store()
    await again.open()
    assert await again.schedules.get("fix:g1") == ScheduledJob(
        job_id, "fix:g1", T0 + 600, '{"x": 1}', 0
    )
    await again.close()


async def test_two_stores_claiming_together_never_get_the_same_job(
    backend_store: StoreMaker,
) -> None:
    """Two processes' claims on one store split the due jobs: each job goes to exactly one."""
    first, second = backend_store(), backend_store()
    await first.open()
    if first.url is not None:  # SQLite: one process per file; PostgreSQL: replicas
        await second.open()
    else:
        second = first
    for i in range(40):
        await first.schedules.schedule(f"k{i}", T0, str(i))
    got = await asyncio.gather(*(store.schedules.due(T0, limit=7) for store in [first, second] * 5))
    keys = [job.key for jobs in got for job in jobs]
    assert sorted(keys) == sorted(f"k{i}" for i in range(40))
    await first.close()
    if second is not first:
        await second.close()
