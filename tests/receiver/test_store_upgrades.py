"""Store upgrades: a store made by the first release is migrated at start and delivers what
it had pending; a store newer than the code is refused with one line (exit 1)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from receiver.errors import StoreTooNewError
from receiver.store import SCHEMA_VERSION, Store
from tests.cli.conftest import flamebot
from tests.conftest import DATA, make_config
from tests.support.stores import StoreMaker
from tests.support.waiting import wait_until_async

V1_STORE = DATA / "stores" / "v1.db"  # written by tests/data/stores/make_v1_store.py


async def test_a_first_release_store_upgrades_and_delivers_what_it_had_pending(
    tmp_path: Path, harness_factory: Any
) -> None:
    """v1.db (one done, one pending, one cut off mid-send) migrates; both owed ones go out."""
    path = tmp_path / "flamebot.db"
    shutil.copy(V1_STORE, path)
    h = await harness_factory(make_config(tmp_path, store={"path": str(path)}))
    assert h.service.store.migrated_from == 1
    await wait_until_async(lambda: len(h.notifiers["a"].delivered) == 2)
    assert [(n.id, n.payload.group_labels) for n in h.notifiers["a"].delivered] == [
        (2, {"alertname": "waiting"}),
        (3, {"alertname": "sending"}),
    ]
    await wait_until_async(lambda: h.service.store.intake.pending == 0)
    assert await h.service.store.deliveries.open_deliveries() == []
    # Its conversation and its identities came along: a redelivery is still a duplicate.
    assert await h.service.store.conversations.of("a").get('{}:{alertname="done"}') == (
        '{"ts": "1.0"}'
    )
    await h.service.stop()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


async def test_a_current_store_reopens_without_migrating(backend_store: StoreMaker) -> None:
    """A store at today's version is opened as it is (nothing to migrate)."""
    first = backend_store()
    await first.open()
    assert first.migrated_from == 0  # a new store: created at today's version
    await first.close()
    again = backend_store()
    await again.open()
    assert again.migrated_from == SCHEMA_VERSION
    await again.close()


def _make_newer(store: Store) -> None:
    if store.url is not None:
        with psycopg.connect(store.url, autocommit=True) as pg:
            pg.execute("UPDATE flamebot_schema SET version = %s", (SCHEMA_VERSION + 1,))
    else:
        assert store.path is not None
        with sqlite3.connect(store.path) as db:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")


async def test_a_store_newer_than_the_code_is_refused(backend_store: StoreMaker) -> None:
    """A schema version from the future: StoreTooNewError, nothing in the store touched."""
    made = backend_store()
    await made.open()
    await made.close()
    _make_newer(made)
    refused = backend_store()
    with pytest.raises(StoreTooNewError) as caught:
        await refused.open()
    assert str(caught.value) == (
        f"the store {refused.where} has schema version {SCHEMA_VERSION + 1}, newer than this"
        f" flamebot (version {SCHEMA_VERSION}): run a flamebot at least as new as the one"
        " that wrote it"
    )
    await refused.close()


async def test_serve_refuses_a_newer_store_with_one_line_and_exit_1(tmp_path: Path) -> None:
    """`flamebot serve` on a store from a newer flamebot: exit 1, one readable line."""
    path = tmp_path / "flamebot.db"
    made = Store(path)
    await made.open()
    await made.close()
    _make_newer(made)
    config = tmp_path / "flamebot.yml"
    config.write_text(yaml.safe_dump({"store": {"path": str(path)}, "server": {"port": 0}}))
    run = await flamebot("serve", "--config", config, cwd=tmp_path)
    assert run.code == 1
    assert run.stderr.splitlines()[-1:] == [
        f"flamebot: the store {path} has schema version {SCHEMA_VERSION + 1}, newer than this"
        f" flamebot (version {SCHEMA_VERSION}): run a flamebot at least as new as the one"
        " that wrote it"
    ]
    assert [line for line in run.stderr.splitlines() if line.startswith("flamebot:")] == (
        run.stderr.splitlines()[-1:]
    )
