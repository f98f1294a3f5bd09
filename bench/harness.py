"""What the end-to-end benchmarks share: fake backends on loopback, the real flamebot as a
child process, Alertmanager-shaped webhooks, and a few statistics.

Every fake runs in the benchmark's own event loop on 127.0.0.1 (a free port), speaks the
real wire protocol, waits an injected latency before it answers each request, and records
each request with the moment it arrived (`time.perf_counter()` of the benchmark process):

- `FakePrometheus`: `/api/v1/query` (POST form-encoded, or GET), one sample of 0.1 per
  query, as an instant vector;
- `BenchPyroscope`: the strict Connect fake of the demo and the tests
  (`receiver/demo/pyroscope_fake.py`), every service a Java agent's (the four JVM profile
  types, `pyroscope_spy="javaspy"`), plus arrival times and requests in flight;
- `BenchSlack`: the tests' fake Slack Web API (`tests/fakes/slack.py`), plus the arrival time
  and body of every call, taken before its latency.

`running_flamebot()` starts `python -m receiver serve` in a temporary directory (config,
SQLite store and log side by side), waits for `/healthz` and always stops it with SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from aiohttp.typedefs import Handler

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the fakes live in tests/, which is not installed

from receiver import payloads  # noqa: E402
from tests.fakes.pyroscope import FakePyroscope, by_window  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.support.harness import BASELINE_CPU, HANDLER, INCIDENT_CPU, RUN  # noqa: E402
from tests.support.metrics import parse_metrics  # noqa: E402
from tests.support.process import free_port  # noqa: E402
from tests.support.waiting import wait_until_async  # noqa: E402

__all__ = [
    "ALERTMANAGER_URL",
    "ALL_SERVICES",
    "BenchPyroscope",
    "BenchSlack",
    "BotStats",
    "FakePrometheus",
    "Fakes",
    "Flamebot",
    "Hit",
    "SlackPost",
    "by_method",
    "firing_alert",
    "free_port",
    "machine",
    "median",
    "parse_latencies",
    "percentile",
    "post_webhook",
    "pyroscope_name",
    "running_flamebot",
    "wait_for",
]

ALL_SERVICES = "*"  # the service of a request that names none (Pyroscope `matchers: []`)
PYROSCOPE_PREFIX = "bank-"  # `service_map`: host `svc-001` -> Pyroscope `bank-svc-001`
SLACK_CHANNEL = "#alerts"
SLACK_BOT_TOKEN = "xoxb-bench-token"  # noqa: S105 - the fake's own credential
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
ALLOC = "memory:alloc_in_new_tlab_bytes:bytes:space:bytes"
MUTEX = "mutex:contentions:count:mutex:count"
WALL = "wall:wall:nanoseconds:wall:nanoseconds"
_ALLOC = {(*HANDLER, "java/math/BigDecimal.<init>"): 121, (*RUN, "byte[]"): 110}
_MUTEX = {(*HANDLER, "com/example/PaymentVerticle.ledgerLock"): 30}
_WALL = {(*HANDLER, "java/net/SocketInputStream.read"): 500, (*RUN,): 500}
_HOST = re.compile(r'instance=~"([^"(]*)')


@dataclass
class Hit:
    """One request a fake backend received."""

    at: float  # time.perf_counter() when it arrived
    backend: str  # prometheus | pyroscope
    method: str  # query | Series | SelectMergeStacktraces | ...
    path: str
    service: str = ALL_SERVICES  # Prometheus host / Pyroscope service_name less the prefix
    body: Any = None  # the form (Prometheus) or the JSON body (Pyroscope), for replaying

    @property
    def name(self) -> str:
        return f"{self.backend} {self.method}"


class _InFlight:
    """Counts the requests a fake is answering, and the most it answered at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    @contextlib.contextmanager
    def one(self) -> Iterator[None]:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            yield
        finally:
            self.now -= 1


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


class FakePrometheus:
    """`/api/v1/query`: every instant query answers one sample of 0.1 after `latency`."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.hits: list[Hit] = []
        self.in_flight = _InFlight()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/v1/query", self._query)
        self._runner, self.url = await _serve(app)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _query(self, request: web.Request) -> web.Response:
        hit = Hit(time.perf_counter(), "prometheus", "query", request.path)
        self.hits.append(hit)
        with self.in_flight.one():
            fields = await request.post() if request.method == "POST" else request.query
            form = {name: str(value) for name, value in fields.items()}
            query = form.get("query", "")
            host = _HOST.search(query)
            hit.service = host.group(1) if host else ALL_SERVICES
            hit.body = form
            await asyncio.sleep(self.latency)
        if request.method not in ("GET", "POST") or not query:
            error = {"status": "error", "errorType": "bad_data", "error": "no query"}
            return web.json_response(error, status=400)
        at = float(form.get("time") or time.time())  # the evaluation time, as Prometheus does
        sample = {"metric": {}, "value": [at, "0.1"]}
        data = {"resultType": "vector", "result": [sample]}
        return web.json_response({"status": "success", "data": data})


def pyroscope_name(service: str) -> str:
    return PYROSCOPE_PREFIX + service


def _jvm_profiles() -> dict[str, Any]:
    """The four JVM profile types; CPU has sha256 rising since the baseline window."""
    since = int((time.time() - 30 * 60) * 1000)  # between the baseline and the incident
    cpu = by_window([(since, BASELINE_CPU), (10**14, INCIDENT_CPU)])
    return {CPU: cpu, ALLOC: _ALLOC, MUTEX: _MUTEX, WALL: _WALL}


class BenchPyroscope(FakePyroscope):
    """The strict Connect fake (receiver/demo), every service a Java agent's; each request
    delayed, timed and attributed to a service."""

    def __init__(self, latency: float, services: Iterable[str]) -> None:
        profiles = _jvm_profiles()
        names = [pyroscope_name(s) for s in services]
        java = {name: {"pyroscope_spy": "javaspy"} for name in names}  # as the Java agent
        super().__init__(dict.fromkeys(names, profiles), labels=java, delay_seconds=latency)
        self.hits: list[Hit] = []
        self.in_flight = _InFlight()

    async def start(self) -> None:
        await self.__aenter__()

    async def stop(self) -> None:
        await self.__aexit__(None, None, None)

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        hit = Hit(time.perf_counter(), "pyroscope", path.rsplit("/", 1)[-1], path)
        self.hits.append(hit)
        index = len(self.requests)  # the parent appends its record before its first await
        with self.in_flight.one():
            response: web.StreamResponse = await super()._record(request, handler)
        record = self.requests[index]
        hit.body = record.body
        names = [m.value for m in record.matchers if m.name == "service_name" and m.op == "="]
        if names:
            hit.service = names[0].removeprefix(PYROSCOPE_PREFIX)
        return response


@dataclass
class SlackPost:
    """One Slack Web API call as it arrived."""

    at: float
    method: str
    body: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.body.get("text", ""))

    def headline(self) -> tuple[str, str]:
        """(alertname, service) from `<emoji> [FIRING:n] <alertname> on <service>: ...`."""
        match = re.search(r"\[[^\]]*\] (\S+) on ([^\s:(]+)", self.text)
        return (match.group(1), match.group(2)) if match else ("", "")

    def says(self, phrase: str) -> bool:
        """Whether the text or any block mentions `phrase`."""
        return phrase in self.text or phrase in json.dumps(self.body.get("blocks", []))


class BenchSlack(FakeSlack):
    """The tests' fake Slack; records every call when it arrives, then waits `latency`."""

    def __init__(self, latency: float) -> None:
        super().__init__(token=SLACK_BOT_TOKEN)
        self.latency = latency
        self.posts: list[SlackPost] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner, self.url = await _serve(self.app())

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        body = await self.arguments(request)
        self.posts.append(SlackPost(at, request.match_info["method"], body))
        await asyncio.sleep(self.latency)
        response: web.Response = await super()._handle(request)
        return response

    def top_posts(self) -> list[SlackPost]:
        """The top-level chat.postMessage calls (thread replies excluded)."""
        return [
            p for p in self.posts if p.method == "chat.postMessage" and "thread_ts" not in p.body
        ]


class Fakes:
    """Prometheus, Pyroscope (with `services`) and Slack, each answering after `latency`."""

    def __init__(self, latency: float, services: Iterable[str]) -> None:
        self.latency = latency
        self.prometheus = FakePrometheus(latency)
        self.pyroscope = BenchPyroscope(latency, services)
        self.slack = BenchSlack(latency)

    async def __aenter__(self) -> Fakes:
        for fake in (self.prometheus, self.pyroscope, self.slack):
            await fake.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for fake in (self.prometheus, self.pyroscope, self.slack):
            await fake.stop()

    def hits(self) -> list[Hit]:
        """Every backend request so far, in order of arrival."""
        return sorted([*self.prometheus.hits, *self.pyroscope.hits], key=lambda h: h.at)

    async def replay(self, hits: Sequence[Hit]) -> float:
        """Make the requests of `hits` again, one after another, each on a new connection
        (as a shell script running curl per query would); returns the seconds it took."""
        fresh = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=30, limits=fresh) as client:
            started = time.perf_counter()
            for hit in hits:
                if hit.backend == "prometheus":
                    url = self.prometheus.url + hit.path
                    answer = await client.post(url, data=hit.body)
                else:
                    answer = await client.post(self.pyroscope.url + hit.path, json=hit.body)
                answer.raise_for_status()
            return time.perf_counter() - started


def by_method(hits: Iterable[Hit]) -> Counter[str]:
    return Counter(hit.name for hit in hits)


def process_mb(pid: int, key: str) -> float:
    """A memory line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return math.nan


@dataclass
class Flamebot:
    """A running `python -m receiver serve` child process."""

    proc: subprocess.Popen[bytes]
    url: str
    workdir: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return self.workdir / "flamebot.log"

    def rss_mb(self) -> float:
        return process_mb(self.proc.pid, "VmRSS")

    def peak_rss_mb(self) -> float:
        """The high-water mark of resident memory since the process started (VmHWM)."""
        return process_mb(self.proc.pid, "VmHWM")

    async def metrics(self) -> dict[str, float]:
        """flamebot's own /metrics samples, by `name{labels}`."""
        async with httpx.AsyncClient(timeout=5) as client:
            return parse_metrics((await client.get(f"{self.url}/metrics")).text)

    async def stats(self) -> BotStats:
        """What flamebot itself counted: backend requests by outcome, mean enrichment time."""
        metrics = await self.metrics()
        prefix = "flamebot_backend_requests_total{"
        outcomes = {
            name.removeprefix(prefix).rstrip("}"): value
            for name, value in metrics.items()
            if name.startswith(prefix)
        }
        count = metrics.get("flamebot_enrichment_seconds_count", 0.0)
        total = metrics.get("flamebot_enrichment_seconds_sum", 0.0)
        return BotStats(outcomes, 1000 * total / count if count else math.nan)


@dataclass
class BotStats:
    outcomes: dict[str, float]  # flamebot_backend_requests_total by `backend=..,outcome=..`
    enrichment_mean_ms: float

    def outcomes_line(self) -> str:
        """`prometheus ok 700, pyroscope cached 12, ...`"""
        parts = []
        for labels, count in sorted(self.outcomes.items()):
            values = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            parts.append(f"{values.get('backend')} {values.get('outcome')} {count:g}")
        return ", ".join(parts)


def flamebot_config(
    fakes: Fakes, workdir: Path, port: int, service_map: Mapping[str, str], deadline: float
) -> dict[str, Any]:
    return {
        "server": {"host": "127.0.0.1", "port": port, "shutdown_grace_seconds": 5},
        "store": {"path": str(workdir / "flamebot.db")},
        "queue": {"max_pending": 100_000},  # never refuse a webhook of the benchmark
        "prometheus": {"url": fakes.prometheus.url},
        "pyroscope": {"url": fakes.pyroscope.url},
        "enrichment": {
            "deadline_seconds": deadline,
            "service_map": dict(service_map),
            "app_prefixes": ["com.example."],
        },
        "notifiers": [
            {
                "name": "slack",
                "type": "slack",
                "token": SLACK_BOT_TOKEN,
                "channel": SLACK_CHANNEL,
                "api_url": f"{fakes.slack.url}/api/",
            }
        ],
    }


async def _wait_healthy(bot: Flamebot) -> None:
    async def healthy(client: httpx.AsyncClient) -> bool:
        if bot.proc.poll() is not None:
            raise SystemExit(f"flamebot exited with {bot.proc.returncode}; see {bot.log}")
        with contextlib.suppress(httpx.HTTPError):
            return (await client.get(f"{bot.url}/healthz")).status_code == 200
        return False

    async with httpx.AsyncClient(timeout=1) as client:
        try:
            await wait_until_async(lambda: healthy(client), STARTUP_TIMEOUT_SECONDS, 0.05)
        except AssertionError:
            raise SystemExit(
                f"flamebot did not answer /healthz in {STARTUP_TIMEOUT_SECONDS:g} s"
            ) from None


def spawn_flamebot(workdir: Path, config: Mapping[str, Any]) -> subprocess.Popen[bytes]:
    """`python -m receiver serve` on `config`, in `workdir`, its output in flamebot.log."""
    path = workdir / "flamebot.yaml"
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    command = [sys.executable, "-m", "receiver", "serve", "--config", str(path)]
    with open(workdir / "flamebot.log", "wb") as log:
        return subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)


@contextlib.asynccontextmanager
async def running_flamebot(
    fakes: Fakes, service_map: Mapping[str, str], *, deadline: float = 8.0, keep: bool = False
) -> AsyncIterator[Flamebot]:
    """flamebot serving on a free loopback port, configured against `fakes`; stopped with
    SIGTERM (then killed if it hangs) and its directory removed unless `keep`."""
    workdir = Path(tempfile.mkdtemp(prefix="flamebot-bench-"))
    port = free_port()
    config = flamebot_config(fakes, workdir, port, service_map, deadline)
    proc = spawn_flamebot(workdir, config)
    bot = Flamebot(proc, f"http://127.0.0.1:{port}", workdir, config)
    try:
        await _wait_healthy(bot)
        yield bot
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            # The fakes share this event loop: keep serving them while flamebot drains.
            await asyncio.to_thread(proc.wait, STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait)
        if keep:
            print(f"(flamebot's config, store and log kept in {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


ALERTMANAGER_URL = "http://alertmanager.example:9093"


def firing_alert(labels: Mapping[str, str], summary: str) -> dict[str, Any]:
    """One firing alert that started two minutes ago (its fingerprint: its labels')."""
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    generator = "http://prometheus.example:9090/graph?g0.expr=up&g0.tab=1"
    return payloads.alert(labels, starts, annotations={"summary": summary}, generator_url=generator)


async def post_webhook(
    client: httpx.AsyncClient, url: str, body: Mapping[str, Any]
) -> tuple[float, float]:
    """POST one webhook; the perf_counter() at which the POST started and was answered."""
    started = time.perf_counter()
    answer = await client.post(f"{url}/webhook", json=body)
    if answer.status_code != 200 or answer.json().get("status") != "accepted":
        raise SystemExit(f"webhook refused: HTTP {answer.status_code} {answer.text}")
    return started, time.perf_counter()


async def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    """`wait_until_async`, for a measurement that reports a shortfall: False when `seconds`
    passed first."""
    with contextlib.suppress(AssertionError):
        return bool(await wait_until_async(condition, seconds))
    return False


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def machine() -> str:
    """Cores, CPU model, Python version and the load average (other work on the machine)."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, {model}, Python {platform.python_version()};"
        f" load average {load}"
    )


def parse_latencies(values: Sequence[str]) -> list[float]:
    """`--latency-ms 50,200 --latency-ms 500` -> [50.0, 200.0, 500.0]."""
    return [float(part) for value in values for part in value.split(",") if part.strip()]
