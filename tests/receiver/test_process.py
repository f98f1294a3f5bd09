"""The real service process: an accepted alert survives kill -9; redeliveries are duplicates."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_payload
from tests.support.process import FlamebotProcess, free_port
from tests.support.waiting import wait_until


class HoldingReceiver:
    """A webhook endpoint that holds requests unanswered while `holding`; counts completions.

    A held request is never answered: `drop_held()` ends it without a response, as a far
    end whose caller died would.
    """

    def __init__(self) -> None:
        self.received = 0
        self.holding = True
        self.completed: list[bytes] = []
        self._dropped = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received += 1
                if receiver.holding:
                    receiver._dropped.wait(timeout=60)
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.completed.append(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answer_from_now_on(self) -> None:
        self.holding = False
        self._dropped.set()

    def close(self) -> None:
        self._dropped.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[HoldingReceiver]:
    r = HoldingReceiver()
    yield r
    r.close()


@pytest.fixture
def flamebot(tmp_path: Path, receiver: HoldingReceiver) -> Iterator[FlamebotProcess]:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: enrichment fails fast
    config = {
        "store": {"path": str(tmp_path / "flamebot.db")},
        "prometheus": {"url": dead},
        "pyroscope": {"url": dead},
        "enrichment": {"deadline_seconds": 2},
        "notifiers": [{"name": "hook", "type": "webhook", "url": receiver.url}],
        "routes": {"default": ["hook"]},
    }
    process = FlamebotProcess(tmp_path, config)
    yield process
    process.close()


def test_accepted_alert_survives_kill_9(
    flamebot: FlamebotProcess, receiver: HoldingReceiver
) -> None:
    """Killed (SIGKILL) while its delivery is held, the restarted service delivers it once."""
    flamebot.start()
    answer = flamebot.post(load_payload("reference-highcpuusage.json"))
    assert (answer.status_code, answer.json()) == (200, {"status": "accepted", "id": 1})
    wait_until(lambda: receiver.received == 1)
    assert receiver.completed == []
    flamebot.kill()
    receiver.answer_from_now_on()
    flamebot.start()
    wait_until(lambda: len(receiver.completed) == 1)
    wait_until(
        lambda: (
            flamebot.metrics().get('flamebot_notifications_total{notifier="hook",outcome="ok"}')
            == 1.0
        )
    )
    metrics = flamebot.metrics()
    assert metrics['flamebot_resent_after_crash_total{notifier="hook"}'] == 1.0
    assert metrics["flamebot_queue_depth"] == 0.0
    delivered = json.loads(receiver.completed[0])
    assert (delivered["id"], delivered["route"], delivered["group"]["groupKey"]) == (
        1,
        "default",
        '{}:{alertname="HighCpuUsage", instance="payment-service:9404"}',
    )
    assert flamebot.terminate() == 0
    assert len(receiver.completed) == 1


def test_redeliveries_are_answered_as_duplicates(
    flamebot: FlamebotProcess, receiver: HoldingReceiver
) -> None:
    """Same webhook twice and once from an HA peer: one delivery, two duplicates, same id."""
    receiver.answer_from_now_on()
    flamebot.start()
    first = load_payload("reference-highcpuusage.json")
    peer = copy.deepcopy(first)
    peer["externalURL"] = "http://alertmanager-2.example:9093"
    answers = [flamebot.post(body) for body in (first, first, peer)]
    assert [(a.status_code, a.json()) for a in answers] == [
        (200, {"status": "accepted", "id": 1}),
        (200, {"status": "duplicate", "id": 1}),
        (200, {"status": "duplicate", "id": 1}),
    ]
    wait_until(lambda: len(receiver.completed) == 1)
    assert flamebot.metrics()["flamebot_duplicates_total"] == 2.0
    assert flamebot.terminate() == 0
    assert len(receiver.completed) == 1


def test_serve_refuses_a_taken_port_cleanly(tmp_path: Path) -> None:
    """`serve` on an address in use exits 1 with one readable line, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "receiver", "serve"],
            cwd=tmp_path,
            env={**os.environ, "FLAMEBOT__SERVER__PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"flamebot: cannot listen on 127.0.0.1:{port}: error while attempting to bind on"
        f" address ('127.0.0.1', {port}): address already in use"
    )
    assert "Traceback" not in done.stderr


def test_serve_refuses_a_store_it_cannot_open(tmp_path: Path) -> None:
    """A store path under a regular file cannot be created: exit 1, the reason named."""
    (tmp_path / "file").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "receiver", "serve"],
        cwd=tmp_path,
        env={**os.environ, "FLAMEBOT__STORE__PATH": str(tmp_path / "file" / "x.db")},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stderr) == (
        1,
        f"flamebot: cannot open the store {tmp_path / 'file' / 'x.db'}: File exists\n",
    )


@pytest.mark.parametrize("command", [["dead-letters", "--json"], ["replay", "1"]])
def test_dead_letter_commands_never_create_a_store(tmp_path: Path, command: list[str]) -> None:
    """Run where no store is, they say so and exit 1 instead of creating an empty one."""
    done = subprocess.run(
        [sys.executable, "-m", "receiver", *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        "flamebot: no store at flamebot.db (see store.path)\n",
    )
    assert list(tmp_path.iterdir()) == []


SERVE_AND_REPORT_FREEZE = """
import asyncio, gc, json, sys
from receiver.config import Config
from receiver.service import serve
from tests.support.waiting import wait_until_async

async def main():
    stop = asyncio.Event()
    frozen = []

    async def watch():
        frozen.append(await wait_until_async(gc.get_freeze_count, interval=0.01))
        stop.set()

    watcher = asyncio.create_task(watch())
    config = Config.model_validate(json.loads(sys.argv[1]))
    await asyncio.wait_for(serve(config, stop=stop, freeze_startup=True), 30)
    await watcher
    print(frozen[0])

asyncio.run(main())
"""


def test_serve_freezes_what_is_alive_once_started(tmp_path: Path) -> None:
    """`serve` leaves its start-up objects out of the cyclic GC's full collections."""
    config = {"server": {"port": free_port()}, "store": {"path": str(tmp_path / "f.db")}}
    done = subprocess.run(
        [sys.executable, "-c", SERVE_AND_REPORT_FREEZE, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    # The modules, schemas and config of a started service: tens of thousands of objects.
    assert int(done.stdout.splitlines()[-1]) > 10_000
