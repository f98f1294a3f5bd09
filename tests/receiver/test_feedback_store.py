"""The contract of `FeedbackStore`, on SQLite and on a real PostgreSQL (the `store` and
`backend_store` fixtures of tests.support.stores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from receiver.commands.deadletters import list_dead_letters
from receiver.commands.feedback import list_feedback
from receiver.config import Config
from receiver.store import Store, VerdictFeedback
from tests.support.stores import BACKENDS, StoreMaker


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


@pytest.mark.parametrize("backend", BACKENDS)
async def test_feedback_and_dead_letters_commands_read_the_configured_store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    backend: str,
) -> None:
    """`feedback` and `dead-letters` read `store.url` when one is set, `store.path` else."""
    if backend == "sqlite":
        section: dict[str, str] = {"path": str(tmp_path / "s.db")}
    else:
        section = {"url": request.getfixturevalue("pg_url")}
    config = Config.model_validate({"store": section})
    store = Store.from_settings(config.store)
    await store.open()
    await store.feedback.record(7, "{}:{a}", "checkout", "CPU-BOUND", "GC-BOUND", "dana", at=0.0)
    await store.close()

    assert await list_feedback(config, as_json=True) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "id": 1,
            "notification_id": 7,
            "group_key": "{}:{a}",
            "service": "checkout",
            "verdict": "CPU-BOUND",
            "actual": "GC-BOUND",
            "user": "dana",
            "created_at": "1970-01-01T00:00:00+00:00",
        }
    ]
    assert await list_dead_letters(config, as_json=True) == 0
    assert capsys.readouterr().out == "[]\n"
