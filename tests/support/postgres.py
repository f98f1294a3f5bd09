"""A real PostgreSQL for tests: Debian's `postgresql` server binaries (installed by
`./scripts/install-tools.sh`), a fresh cluster in a temporary directory, listening on
127.0.0.1 on a free port (and a socket in that directory), run as a non-root user (as root,
the tests drop to `nobody` with `setpriv`: PostgreSQL refuses to run as root), stopped by
its pid. Without the binaries the fixture fails: the tests that need PostgreSQL never skip.

tests/conftest.py registers this module as a plugin: `postgres` is one server for the
session, `pg_url` a fresh database on it for one test.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.support.process import free_port
from tests.support.waiting import wait_until

__all__ = ["PostgresServer", "pg_bin", "pg_url", "postgres", "start_postgres"]

RUN_AS = "nobody"  # as root: PostgreSQL runs as this user
START_TIMEOUT_SECONDS = 60.0
_databases = itertools.count(1)


def pg_bin() -> Path:
    """The newest installed PostgreSQL's server binaries (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        pytest.fail("PostgreSQL is not installed: run ./scripts/install-tools.sh")
    return found[-1].parent


def _as_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    user = pwd.getpwnam(RUN_AS)
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", *argv]


@dataclass
class PostgresServer:
    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://flamebot@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"test_{next(_databases)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT) by pid; SIGKILL if it does not exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_postgres(*, fsync: bool = False) -> PostgresServer:
    """initdb and start a cluster in a new temporary directory (removed by the caller via
    `shutil.rmtree(server.directory)` after `stop`)."""
    binaries = pg_bin()
    directory = Path(tempfile.mkdtemp(prefix="flamebot-pg-"))
    data = directory / "data"
    if os.geteuid() == 0:
        user = pwd.getpwnam(RUN_AS)
        os.chown(directory, user.pw_uid, user.pw_gid)
    subprocess.run(
        _as_user(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                "flamebot",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    with (directory / "postgres.log").open("wb") as log:
        process = subprocess.Popen(
            _as_user(
                [
                    str(binaries / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-k",
                    str(directory),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"fsync={'on' if fsync else 'off'}",
                    "-c",
                    "max_connections=200",
                ]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = PostgresServer(process, port, directory)

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"postgres exited: {(directory / 'postgres.log').read_text()}")
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    wait_until(ready, within=START_TIMEOUT_SECONDS, interval=0.1, what="postgres accepting")
    return server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    return postgres.create_database()
