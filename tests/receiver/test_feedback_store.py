"""The contract of `FeedbackStore`, run against every backend in `BACKENDS` (a PostgreSQL
store joins by adding its opener there)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from receiver.store import FeedbackStore, Store, VerdictFeedback

Opener = Callable[[Path], AbstractAsyncContextManager[FeedbackStore]]


@asynccontextmanager
async def sqlite(workdir: Path) -> AsyncIterator[FeedbackStore]:
    """The SQLite store's feedback part, on a file in `workdir`."""
    store = Store(workdir / "flamebot.db")
    await store.open()
    try:
        yield store.feedback
    finally:
        await store.close()


BACKENDS: dict[str, Opener] = {"sqlite": sqlite}


@pytest.fixture(params=list(BACKENDS))
def opener(request: pytest.FixtureRequest) -> Opener:
    """Each backend's opener in turn."""
    return BACKENDS[request.param]


async def test_answers_are_recorded_and_listed_oldest_first(opener: Opener, tmp_path: Path) -> None:
    """Each record gets the next id and comes back whole, in the order given."""
    async with opener(tmp_path) as feedback:
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


async def test_answers_survive_a_reopen(opener: Opener, tmp_path: Path) -> None:
    """What was recorded is there after the store is closed and opened again."""
    async with opener(tmp_path) as feedback:
        kept = await feedback.record(1, "g", "s", "GC-BOUND", "MEMORY-PRESSURE", "carol", at=5.0)
    async with opener(tmp_path) as feedback:
        assert await feedback.entries() == [kept]


async def test_strings_are_kept_exactly(opener: Opener, tmp_path: Path) -> None:
    """Group keys and names with quotes, braces and non-ASCII come back unchanged."""
    key = '{}/{severity="page"}:{alertname="Hög CPU", instance="x\'y"}'
    async with opener(tmp_path) as feedback:
        await feedback.record(4, key, "zahlungs-dienst", "I/O-BOUND", "CPU-BOUND", "zoë", at=1.0)
        [entry] = await feedback.entries()
    assert (entry.group_key, entry.service, entry.user) == (key, "zahlungs-dienst", "zoë")
