"""Run the real flamebot service as a child process, on loopback, for process-level tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.metrics import parse_metrics
from tests.support.waiting import answers_200, running, wait_until

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools" / "bin"  # what ./scripts/install-tools.sh unpacks
FLAMEBOT = [sys.executable, "-m", "receiver"]


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    """`flamebot check-config --config PATH` run to its end, its output kept as text."""
    return subprocess.run(
        [*FLAMEBOT, "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def tool(name: str) -> Path:
    """An installed binary of .tools/bin; the test fails (never skips) without it."""
    path = TOOLS / name
    if not path.is_file():
        pytest.fail(f"{path.name} is missing from .tools/bin: run ./scripts/install-tools.sh")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def spawn_listening(
    command: Callable[[str], list[str]],
    log_path: Path,
    ready: Callable[[str], bool],
    *,
    name: str,
    within: float,
    interval: float = 0.05,
    cwd: Path | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `command(address)` on a free loopback port and wait until `ready(address)`.

    free_port() cannot reserve the port: when another test's server took it first, the
    child exits with "address already in use" and is started again on a new port."""
    for attempt in range(5):
        address = f"127.0.0.1:{free_port()}"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command(address), stdout=log, stderr=subprocess.STDOUT, cwd=cwd
            )

        def up(process: subprocess.Popen[bytes] = process, address: str = address) -> bool:
            return running(process, name, log_path) and ready(address)

        try:
            wait_until(
                up,
                within,
                interval=interval,
                what=f"{name} ready",
            )
            return process, address
        except AssertionError:
            stop(process)
            taken = "address already in use" in log_path.read_text(errors="replace")
            if not taken or attempt == 4:
                raise
    raise AssertionError("unreachable")


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, and SIGKILL if it has not exited within `timeout` seconds; always reaped."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


LISTING_EVENTS = ('"profile_types_listed"', '"profile_types_not_listed"')


class FlamebotProcess:
    """`python -m receiver serve` on a config written to `workdir`; stderr kept in a file."""

    def __init__(self, workdir: Path, config: dict[str, Any], env: dict[str, str] | None = None):
        self.workdir = workdir
        self.config = {**config, "server": {"host": "127.0.0.1", **config.get("server", {})}}
        self.config_path = workdir / "flamebot.yaml"
        self._listen_on(free_port())
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def _listen_on(self, port: int) -> None:
        self.port = port
        self.config["server"]["port"] = port
        self.config_path.write_text(yaml.safe_dump(self.config))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until healthy; a port taken meanwhile by another test's server
        (free_port() cannot reserve it) is replaced by a new one, up to 5 times."""
        for _ in range(4):
            try:
                self._start(timeout)
                return
            except AssertionError:
                if "cannot listen on" not in self.stderr():
                    raise
                self._listen_on(free_port())
        self._start(timeout)

    def _start(self, timeout: float) -> None:
        self.runs += 1
        stdout = open(self.workdir / f"stdout-{self.runs}.txt", "wb")  # noqa: SIM115
        stderr = open(self.workdir / f"stderr-{self.runs}.txt", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "receiver", "serve", "--config", str(self.config_path)],
            cwd=self.workdir,
            stdout=stdout,
            stderr=stderr,
            env=self.env,
        )
        stdout.close()
        stderr.close()
        wait_until(self._healthy, timeout)
        # The start-up listing of profile types settles before a test counts backend
        # requests: answered, failed or timed out (the Pyroscope timeout, 5 s by default).
        wait_until(self._listing_settled, timeout)

    def _listing_settled(self) -> bool:
        return any(event in self.stderr() for event in LISTING_EVENTS)

    def _healthy(self) -> bool:
        assert self.proc is not None
        log = self.workdir / f"stderr-{self.runs}.txt"
        return running(self.proc, "flamebot", log) and answers_200(f"{self.url}/healthz")

    def post(self, body: Any, path: str = "/webhook", **kwargs: Any) -> httpx.Response:
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return httpx.post(self.url + path, content=data, headers=headers, timeout=10, **kwargs)

    def metrics(self) -> dict[str, float]:
        """The /metrics samples as {"name{labels}": value}."""
        return parse_metrics(httpx.get(f"{self.url}/metrics", timeout=5).text)

    def stdout(self) -> str:
        return (self.workdir / f"stdout-{self.runs}.txt").read_text(errors="replace")

    def stderr(self) -> str:
        return (self.workdir / f"stderr-{self.runs}.txt").read_text(errors="replace")

    def events(self, name: str) -> list[dict[str, Any]]:
        """The log events called `name` of the current run, parsed from its JSON lines."""
        found = []
        for line in self.stderr().splitlines():
            with contextlib.suppress(ValueError):  # a line of its own output, not an event
                event = json.loads(line)
                if isinstance(event, dict) and event.get("event") == name:
                    found.append(event)
        return found

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, exactly like an OOM kill or a node loss."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
