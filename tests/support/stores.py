"""The store on each backend, for contract tests: the same test runs on SQLite and on a
real PostgreSQL (`tests.support.postgres`). `backend_store` makes stores on one location
(a file, or a database), so a test can reopen what an earlier store wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from receiver.store import Store

__all__ = ["BACKENDS", "StoreMaker", "backend_store", "store"]

BACKENDS = ["sqlite", "postgresql"]
StoreMaker = Callable[..., Store]


@pytest.fixture(params=BACKENDS)
def backend_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreMaker:
    """Makes closed stores on one fresh location of the test's backend."""
    if request.param == "sqlite":
        path = tmp_path / "s.db"
        return lambda **kwargs: Store(path, **kwargs)
    url = request.getfixturevalue("pg_url")
    return lambda **kwargs: Store(url=url, **kwargs)


@pytest.fixture
async def store(backend_store: StoreMaker) -> AsyncIterator[Store]:
    """An open store of the test's backend."""
    made = backend_store()
    await made.open()
    yield made
    await made.close()


def reopen(maker: StoreMaker, **kwargs: Any) -> Store:
    """A new store on the same location."""
    return maker(**kwargs)
