"""Webhook intake of the real service process, against a bare HTTP endpoint on the same host.

Run by hand: `.venv/bin/python bench/intake.py [--requests 1000] [--concurrency 16]`.

Both servers run as child processes on loopback and get the same distinct Alertmanager
payloads from the same client. The baseline answers 200 without reading anything into a
store; flamebot validates, deduplicates and commits each notification (SQLite, WAL,
synchronous=FULL) before its 200. The report prints requests per second, the ratio to the
baseline, latency percentiles, and flamebot's resident memory before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BASELINE_SERVER = """
import sys
from aiohttp import web

async def ok(request):
    await request.read()
    return web.json_response({"status": "accepted", "id": 1})

app = web.Application()
app.router.add_post("/webhook", ok)
app.router.add_get("/healthz", lambda r: web.json_response({}))
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def payload(n: int) -> bytes:
    alert = {
        "status": "firing",
        "labels": {"alertname": "Bench", "instance": f"svc-{n % 50}:9404", "n": str(n)},
        "annotations": {"summary": "intake benchmark"},
        "startsAt": "2026-11-25T17:25:32Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": f"{n:016x}",
    }
    body = {
        "receiver": "flamebot",
        "status": "firing",
        "alerts": [alert],
        "version": "4",
        "groupKey": f'{{}}:{{alertname="Bench", n="{n}"}}',
        "truncatedAlerts": 0,
        "groupLabels": {},
        "commonLabels": alert["labels"],
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
    }
    return json.dumps(body).encode()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


async def load(url: str, requests: int, concurrency: int, offset: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(offset + n)
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                started = time.perf_counter()
                answer = await client.post(
                    f"{url}/webhook",
                    content=payload(n),
                    headers={"Content-Type": "application/json"},
                )
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {answer.status_code} {answer.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def report(name: str, took: float, latencies: list[float], base: float | None) -> float:
    rate = len(latencies) / took
    ms = sorted(x * 1000 for x in latencies)
    ratio = "" if base is None else f"  = {rate / base:.2f} x baseline"
    print(
        f"{name:10s} {rate:8.0f} req/s{ratio}  p50 {statistics.median(ms):6.1f} ms"
        f"  p99 {ms[int(len(ms) * 0.99) - 1]:6.1f} ms"
    )
    return rate


def main(requests: int, concurrency: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="flamebot-bench-"))
    dead = f"http://127.0.0.1:{free_port()}"
    config = {
        "server": {"port": free_port()},
        "store": {"path": str(work / "flamebot.db")},
        "queue": {"max_pending": requests * 4},
        "prometheus": {"url": dead},
        "pyroscope": {"url": dead},
        "notifiers": [{"name": "console", "type": "console"}],
    }
    (work / "config.yaml").write_text(json.dumps(config))
    base_port = free_port()
    with open(os.devnull, "wb") as quiet:
        baseline = subprocess.Popen([sys.executable, "-c", BASELINE_SERVER, str(base_port)])
        flamebot = subprocess.Popen(
            [sys.executable, "-m", "receiver", "serve", "--config", str(work / "config.yaml")],
            stdout=quiet,
            stderr=quiet,
        )
    try:
        base_url, bot_url = (
            f"http://127.0.0.1:{base_port}",
            f"http://127.0.0.1:{config['server']['port']}",
        )
        wait_healthy(base_url)
        wait_healthy(bot_url)
        asyncio.run(load(base_url, 50, concurrency, 0))  # warm both up
        asyncio.run(load(bot_url, 50, concurrency, 10**6))
        before = rss_mb(flamebot.pid)
        print(f"{requests} distinct webhooks, {concurrency} at a time, loopback")
        base = report("baseline", *asyncio.run(load(base_url, requests, concurrency, 0)), None)
        report("flamebot", *asyncio.run(load(bot_url, requests, concurrency, 0)), base)
        print(f"flamebot RSS {before:.1f} MB before, {rss_mb(flamebot.pid):.1f} MB after")
    finally:
        for proc in (baseline, flamebot):
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    main(args.requests, args.concurrency)
