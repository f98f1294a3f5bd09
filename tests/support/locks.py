"""Another process holding the store's write lock, as a backup tool or a stuck reader would."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["write_lock"]


@contextmanager
def write_lock(database: Path) -> Iterator[Callable[[], None]]:
    """`BEGIN EXCLUSIVE` on `database` from another connection, held until the `release()`
    it yields is called or the block ends."""
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        if other.in_transaction:
            other.execute("ROLLBACK")

    try:
        yield release
    finally:
        release()
        other.close()
