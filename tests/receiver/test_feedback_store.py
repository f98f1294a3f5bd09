"""The contract of `FeedbackStore`, on SQLite and on a real PostgreSQL (the `store` and
`backend_store` fixtures of tests.support.stores)."""

from __future__ import annotations

from receiver.store import Store, VerdictFeedback
from tests.support.stores import StoreMaker


async def test_answers_are_recorded_and_listed_oldest_first(store: Store) -> None:
    """Each record gets the next id and comes back whole, in the order given."""
    feedback = store.feedback
    assert await feedback.entries() == []
    first = await feedback.record(
        3, "{}:{a}", "payment-service", "CPU-BOUND", "LOCK-BOUND", "alice", at=1000.5
    )
    second = await feedback.record(9, "{}:{b}", "", "UNKNOWN", "HEALTHY", "bob", at=2000.0)
    assert first == VerdictFeedback(
        1, 3, "{}:{a}", "payment-service", "CPU-BOUND", "LOCK-BOUND", "alice", 1000.5
    )
    assert second == VerdictFeedback(2, 9, "{}:{b}", "", "UNKNOWN", "HEALTHY", "bob", 2000.0)
    assert await feedback.entries() == [first, second]


async def test_answers_survive_a_reopen(backend_store: StoreMaker) -> None:
    """What was recorded is there after the store is closed and opened again."""
    store = backend_store()
    await store.open()
    kept = await store.feedback.record(1, "g", "s", "GC-BOUND", "MEMORY-PRESSURE", "carol", at=5.0)
    await store.close()
    again = backend_store()
    await again.open()
    try:
        assert await again.feedback.entries() == [kept]
    finally:
        await again.close()


async def test_strings_are_kept_exactly(store: Store) -> None:
    """Group keys and names with quotes, braces and non-ASCII come back unchanged."""
    key = '{}/{severity="page"}:{alertname="Hög CPU", instance="x\'y"}'
    await store.feedback.record(4, key, "zahlungs-dienst", "I/O-BOUND", "CPU-BOUND", "zoë", at=1.0)
    [entry] = await store.feedback.entries()
    assert (entry.group_key, entry.service, entry.user) == (key, "zahlungs-dienst", "zoë")
