"""Command-line tests: `python -m receiver` as a child process, the simulated fleet in-process."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from receiver.demo.fleet import DEFAULT_SCENARIO
from receiver.demo.simulation import Simulation

FLAMEBOT = [sys.executable, "-m", "receiver"]
RUN_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        """stderr without the progress line a slow machine may add."""
        return [line for line in self.stderr.splitlines() if "querying" not in line]


def child_env() -> dict[str, str]:
    """The environment without flamebot settings or colour preferences of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAMEBOT")}
    env.pop("NO_COLOR", None)
    return env


async def flamebot(*args: str | Path, cwd: Path) -> Run:
    """Run `flamebot ARGS` to completion without blocking the loop the fakes serve from."""
    process = await asyncio.create_subprocess_exec(
        *FLAMEBOT,
        *map(str, args),
        cwd=cwd,
        env=child_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def unused_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def write_config(
    directory: Path,
    prometheus: str,
    pyroscope: str,
    service_map: dict[str, str] | None = None,
    **extra: Any,
) -> Path:
    """`directory/flamebot.yaml` for the terminal commands: the backends, the service map
    (the default fleet's unless given), the JVM app prefix."""
    path = directory / "flamebot.yaml"
    service_map = DEFAULT_SCENARIO.service_map() if service_map is None else service_map
    config = {
        "prometheus": {"url": prometheus},
        "pyroscope": {"url": pyroscope},
        "grafana": {"url": "http://grafana.example:3000", "pyroscope_datasource_uid": "pyro"},
        "enrichment": {"service_map": service_map, "app_prefixes": ["com.example."], **extra},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
async def simulation() -> AsyncIterator[Simulation]:
    """The default fleet, served on loopback with the real clock."""
    async with Simulation(DEFAULT_SCENARIO) as running:
        yield running


@pytest.fixture
def sim_config(tmp_path: Path, simulation: Simulation) -> Path:
    return write_config(tmp_path, simulation.prometheus_url, simulation.pyroscope_url)
