"""Webhook intake of the real service process, against a bare HTTP endpoint on the same host.

Run by hand: `.venv/bin/python bench/intake.py [--requests 3000] [--senders 1,10,100]
[--store sqlite|postgresql]`.

Both servers run as child processes on loopback and get the same distinct Alertmanager
payloads from the same client, at 1, 10 and 100 concurrent senders (one keep-alive
connection each). The baseline, the ceiling, answers 200 without reading anything into a
store; flamebot validates, deduplicates and commits each notification (SQLite, WAL,
synchronous=FULL: fsync'd; or a real PostgreSQL started for the run on loopback, fsync on,
with `--store postgresql`) before its 200, concurrent webhooks sharing one commit, while
its pipeline works through what it accepted (enrichment against backends that are down,
the console notifier). The report prints requests per second, the ratio to the baseline,
latency percentiles, how long the pipeline took to finish after the last webhook and the
drain rate (groups delivered per second once the senders stopped), and flamebot's
resident memory.

The client speaks HTTP/1.1 over asyncio streams directly: a general-purpose client in the
same interpreter tops out below the baseline server and would measure itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from harness import free_port, machine, parse_metrics, percentile, process_mb, spawn_flamebot

from receiver import payloads
from tests.support.postgres import start_postgres
from tests.support.process import stop
from tests.support.waiting import answers_200, wait_until

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
# The goals: SQLite at 10 senders >= 0.25 x the bare endpoint with p99 <= 25 ms, at 100
# senders p99 <= 100 ms; PostgreSQL at 10 senders >= 1,000/s.
TARGET_SENDERS, TARGET_RATIO, TARGET_P99_MS = 10, 0.25, 25.0
CROWD_SENDERS, CROWD_P99_MS = 100, 100.0
PG_TARGET_RATE = 1000.0


def wait_healthy(url: str) -> None:
    try:
        wait_until(lambda: answers_200(f"{url}/healthz"), 30)
    except AssertionError:
        raise SystemExit(f"{url} did not come up") from None


STARTS = datetime(2026, 11, 25, 17, 25, 32, tzinfo=UTC)


def payload(n: int) -> bytes:
    """Webhook `n`: a group of one alert, distinct from every other (its own `n` label)."""
    labels = {"alertname": "Bench", "instance": f"svc-{n % 50}:9404", "n": str(n)}
    alert = payloads.alert(labels, STARTS, annotations={"summary": "intake benchmark"})
    body = payloads.group([alert], ("alertname", "n"), external_url="http://alertmanager:9093")
    return json.dumps(body).encode()


def request(n: int) -> bytes:
    body = payload(n)
    head = (
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def sender(port: int, requests: list[bytes], latencies: list[float]) -> None:
    """One keep-alive connection sending its requests one after another."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for raw in requests:
            started = time.perf_counter()
            writer.write(raw)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            answer = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status.split(b" ", 2)[1] != b"200":
                raise SystemExit(f"port {port}: {status.decode().strip()} {answer.decode()}")
    finally:
        writer.close()


async def load(port: int, numbers: range, senders: int) -> tuple[float, list[float]]:
    """Every request of `numbers` once, spread over `senders` connections."""
    raws = [request(n) for n in numbers]
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(sender(port, raws[i::senders], latencies) for i in range(senders)))
    return time.perf_counter() - started, latencies


def queue_depth(port: int) -> float:
    """flamebot's `flamebot_queue_depth` gauge, read from /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return parse_metrics(text).get("flamebot_queue_depth", float("nan"))


def drained_after(port: int, limit: float = 120.0) -> float:
    """Seconds until flamebot has finished every notification it accepted."""
    started = time.perf_counter()
    try:
        wait_until(lambda: not queue_depth(port) > 0, limit)
    except AssertionError:
        return float("inf")
    return time.perf_counter() - started


def main(requests: int, senders: list[int], backend: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="flamebot-bench-"))
    dead = f"http://127.0.0.1:{free_port()}"
    port, base_port = free_port(), free_port()
    postgres = start_postgres(fsync=True) if backend == "postgresql" else None
    store = (
        {"path": str(work / "flamebot.db")}
        if postgres is None
        else {"url": postgres.create_database()}
    )
    config = {
        "server": {"port": port},
        "store": store,
        "queue": {"max_pending": requests * 4},
        "prometheus": {"url": dead},
        "pyroscope": {"url": dead},
        "notifiers": [{"name": "console", "type": "console"}],
    }
    baseline = subprocess.Popen([sys.executable, "-c", BASELINE_SERVER, str(base_port)])
    flamebot = spawn_flamebot(work, config)  # the console's output goes to its log there
    results: dict[int, tuple[float, float, float]] = {}  # senders -> rate, p99 ms, base rate
    try:
        wait_healthy(f"http://127.0.0.1:{base_port}")
        wait_healthy(f"http://127.0.0.1:{port}")
        asyncio.run(load(base_port, range(10**7, 10**7 + 200), 10))  # warm both up
        asyncio.run(load(port, range(10**7, 10**7 + 200), 10))
        drained_after(port)
        before = process_mb(flamebot.pid, "VmRSS")
        print(machine())
        print(f"{requests} distinct webhooks per run, loopback, store: {backend}")
        print(
            f"{'senders':>7}  {'baseline req/s':>14} {'p50':>6} {'p99':>6}"
            f"  {'flamebot req/s':>14} {'p50':>6} {'p99':>6}  {'ratio':>5}  drained"
            "  drain groups/s"
        )
        for n, count in enumerate(senders):
            numbers = range(n * requests, (n + 1) * requests)
            base_took, base_ms = timed_load(base_port, numbers, count)
            took, ms = timed_load(port, numbers, count)
            owed = queue_depth(port)
            drained = drained_after(port)
            rate, base_rate = requests / took, requests / base_took
            results[count] = (rate, percentile(ms, 99), base_rate)
            # Groups delivered per second once the senders stopped: what was still owed
            # then (read from the queue depth at that moment), over the time to drain it.
            drain_rate = owed / drained if drained > 0 else float("inf")
            print(
                f"{count:7d}  {base_rate:14.0f} {percentile(base_ms, 50):6.1f}"
                f" {percentile(base_ms, 99):6.1f}  {rate:14.0f}"
                f" {percentile(ms, 50):6.1f} {percentile(ms, 99):6.1f}"
                f"  {rate / base_rate:5.2f}  {drained:5.1f} s  {drain_rate:8.0f}"
            )
        print(
            f"flamebot RSS {before:.1f} MB before, {process_mb(flamebot.pid, 'VmRSS'):.1f} MB after"
        )
    finally:
        stop(baseline, timeout=30)
        stop(flamebot, timeout=30)
        if postgres is not None:
            postgres.stop()
            shutil.rmtree(postgres.directory, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    verdicts(results, backend)


def verdicts(results: dict[int, tuple[float, float, float]], backend: str) -> None:
    """Each goal that this run measured, PASS or MISS."""
    if TARGET_SENDERS in results and backend == "sqlite":
        rate, p99, base_rate = results[TARGET_SENDERS]
        ok = rate >= TARGET_RATIO * base_rate and p99 <= TARGET_P99_MS
        print(
            f"intake at {TARGET_SENDERS} senders: {rate:.0f} webhooks/s = {rate / base_rate:.2f} x"
            f" the bare endpoint ({base_rate:.0f}/s), p99 {p99:.1f} ms; target >="
            f" {TARGET_RATIO} x with p99 <= {TARGET_P99_MS:.0f} ms: {'PASS' if ok else 'MISS'}"
        )
    if CROWD_SENDERS in results and backend == "sqlite":
        rate, p99, _ = results[CROWD_SENDERS]
        ok = p99 <= CROWD_P99_MS
        print(
            f"intake at {CROWD_SENDERS} senders: {rate:.0f} webhooks/s, p99 {p99:.1f} ms;"
            f" target p99 <= {CROWD_P99_MS:.0f} ms: {'PASS' if ok else 'MISS'}"
        )
    if TARGET_SENDERS in results and backend == "postgresql":
        rate, p99, _ = results[TARGET_SENDERS]
        ok = rate >= PG_TARGET_RATE
        print(
            f"PostgreSQL intake at {TARGET_SENDERS} senders: {rate:.0f} webhooks/s, p99"
            f" {p99:.1f} ms; target >= {PG_TARGET_RATE:.0f}/s: {'PASS' if ok else 'MISS'}"
        )


def timed_load(port: int, numbers: range, senders: int) -> tuple[float, list[float]]:
    """Seconds for the whole run, and each request's latency in milliseconds."""
    took, latencies = asyncio.run(load(port, numbers, senders))
    return took, [x * 1000 for x in latencies]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--senders", default="1,10,100", help="comma-separated list")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    main(args.requests, [int(n) for n in args.senders.split(",")], args.store)
