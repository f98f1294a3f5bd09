"""A real Prometheus holding the reference fleet's metrics and a mixed fleet's, for tests.

The history (31 minutes at 15 s steps up to `evaluated_at`) is written as OpenMetrics and
backfilled with `promtool tsdb create-blocks-from openmetrics`; Prometheus then starts on
that data directory and scrapes a live exporter on loopback that serves the same series
(same `instance`/`job` labels, via `honor_labels`), continuing the counters where the
history ends. Counters grow linearly, so at `evaluated_at` every jvm preset query returns the
numbers in `FleetService.expected()` (the 2m window is fully inside the history).

tests/conftest.py registers this module as a plugin, so every test can ask for the
session fixture `real_prometheus` by name and one Prometheus serves the whole session.

The binaries come from `./scripts/install-tools.sh`; without them the fixture fails.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol

import httpx
import pytest

from tests.support.process import spawn_listening, stop, tool
from tests.support.waiting import answers_200

__all__ = [
    "FLEET",
    "HOSTILE_HOST",
    "Exporting",
    "FleetService",
    "RealPrometheus",
    "real_prometheus",
]

STEP_SECONDS = 15
# The last minutes are written at the live scrape interval: `rate()` at any later "now"
# then finds its first sample within a second of its window's start, so Prometheus'
# extrapolation adds nothing (with 15 s steps it stops short and reads up to ~10 % low).
FINE_STEP_SECONDS = 1
FINE_SECONDS = 5 * 60
STARTUP_LEAD_SECONDS = 12  # Prometheus starts and scrapes in about 6 s here
HISTORY_SECONDS = 31 * 60
START_TIMEOUT_SECONDS = 60.0
HEAP_MAX_BYTES = 2**30
HOSTILE_HOST = 'evil"} or vector(1) #(.*)\\'

Series = tuple[str, dict[str, str], float]  # sample name, labels, value


class Exporting(Protocol):
    """A service of the history: its host and its samples at a moment."""

    @property
    def host(self) -> str: ...

    def series(self, elapsed: float) -> list[Series]: ...


@dataclass(frozen=True)
class FleetService:
    """One service of the reference fleet: a `jvm` target on :9404, `vertx-apps` on :8080."""

    host: str
    verticle: str
    cpu: float  # cores
    heap_ratio: float  # of HEAP_MAX_BYTES
    gc: tuple[float, float]  # s/s of the young and the old collector
    threads: float
    req_per_sec: float
    error_ratio: float  # answered 500; without errors the 500 series does not exist
    latency_ms: float

    def expected(self) -> dict[str, float]:
        """The jvm preset's metrics for this service, as its history makes them."""
        return {
            "cpu": self.cpu,
            "heap_ratio": self.heap_ratio,
            "gc": sum(self.gc),
            "threads": self.threads,
            "req_per_sec": self.req_per_sec,
            "error_ratio": self.error_ratio,
            "latency_ms": self.latency_ms,
        }

    def series(self, elapsed: float) -> list[Series]:
        """Every sample `elapsed` seconds after the history began (counters start at 1000)."""
        jvm = {"instance": f"{self.host}:9404", "job": "jvm", "group": "vertx"}
        jvm["verticle"] = self.verticle
        vertx = {**jvm, "instance": f"{self.host}:8080", "job": "vertx-apps"}
        heap = {**jvm, "area": "heap"}
        out: list[Series] = [
            ("process_cpu_seconds_total", jvm, 1000 + self.cpu * elapsed),
            ("jvm_memory_used_bytes", heap, self.heap_ratio * HEAP_MAX_BYTES),
            ("jvm_memory_used_bytes", {**jvm, "area": "nonheap"}, 9e7),
            ("jvm_memory_max_bytes", heap, HEAP_MAX_BYTES),
            ("jvm_threads_current", jvm, self.threads),
        ]
        for collector, rate in zip(("G1 Young", "G1 Old"), self.gc, strict=True):
            labels = {**jvm, "gc": f"{collector} Generation"}
            out.append(("jvm_gc_collection_seconds_count", labels, 1000 + elapsed))
            out.append(("jvm_gc_collection_seconds_sum", labels, 1000 + rate * elapsed))
        errors = self.req_per_sec * self.error_ratio
        for code, rate in (("200", self.req_per_sec - errors), ("500", errors)):
            if rate == 0:
                continue
            labels = {**vertx, "code": code, "method": "POST", "route": "/api"}
            count, seconds = rate * elapsed, rate * elapsed * self.latency_ms / 1000
            out.append(("vertx_http_server_requests_total", labels, 1000 + count))
            out.append(("vertx_http_server_response_time_seconds_count", labels, 1000 + count))
            out.append(("vertx_http_server_response_time_seconds_sum", labels, 1000 + seconds))
        return out


# payment-service is CPU-bound, order-service has the lock-bound shape (low CPU, many
# threads, slow), and the hostile host tries to break out of the selector.
FLEET = (
    FleetService("payment-service", "payment", 0.82, 0.45, (0.010, 0.002), 24, 50, 0, 340),
    FleetService("order-service", "order", 0.15, 0.38, (0.003, 0.001), 80, 20, 0.01, 800),
    FleetService(HOSTILE_HOST, "evil", 0.33, 0.61, (0.020, 0.001), 7, 3, 0.25, 123),
)


def _family(name: str) -> str:
    """The `# TYPE` line of a sample name (OpenMetrics: counter families drop `_total`)."""
    if name.endswith("_total"):
        return f"# TYPE {name.removesuffix('_total')} counter"
    if name.endswith(("_sum", "_count")):
        return f"# TYPE {name.rsplit('_', 1)[0]} summary"
    return f"# TYPE {name} gauge"


def _labels(labels: Mapping[str, str]) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items())) + "}"


def _families(fleet: Sequence[Exporting], elapsed: float) -> dict[str, list[str]]:
    """`# TYPE` line -> sample lines (OpenMetrics family names: counters without `_total`)."""
    families: dict[str, list[str]] = {}
    for service in fleet:
        for name, labels, value in service.series(elapsed):
            lines = families.setdefault(_family(name), [])
            lines.append(f"{name}{_labels(labels)} {value!r}")
    return families


def exposition(fleet: Sequence[Exporting], elapsed: float) -> str:
    """The fleet's samples now, in the Prometheus text format (what the exporter serves)."""
    lines: list[str] = []
    for header, samples in _families(fleet, elapsed).items():
        counter = header.endswith(" counter")
        lines.append(header.replace(" counter", "_total counter") if counter else header)
        lines.extend(samples)
    return "".join(line + "\n" for line in lines)


def openmetrics_history(fleet: Sequence[Exporting], end: int) -> str:
    """OpenMetrics text of the fleet from `end - HISTORY_SECONDS` to `end`, timestamps in s.

    Families are not interleaved and each series' samples are adjacent and in time order.
    """
    start = end - HISTORY_SECONDS
    fine_from = end - FINE_SECONDS
    moments = [
        *range(start, fine_from, STEP_SECONDS),
        *range(fine_from, end + 1, FINE_STEP_SECONDS),
    ]
    by_family: dict[str, dict[str, list[str]]] = {}
    for at in moments:
        for header, samples in _families(fleet, at - start).items():
            family = by_family.setdefault(header, {})
            for sample in samples:
                series, value = sample.rsplit(" ", 1)
                family.setdefault(series, []).append(f"{series} {value} {at}")
    lines: list[str] = []
    for header, family_series in by_family.items():
        lines.append(header)
        lines.extend(line for samples in family_series.values() for line in samples)
    return "\n".join(lines) + "\n# EOF\n"


@dataclass(frozen=True)
class RealPrometheus:
    """A running Prometheus: its URL, the evaluation time of the history, the fleet."""

    url: str
    evaluated_at: datetime
    services: Mapping[str, Exporting]  # by instance host

    def expected(self, host: str) -> dict[str, float]:
        service = self.services[host]
        assert isinstance(service, FleetService)
        return service.expected()


@contextmanager
def _exporter(fleet: Sequence[Exporting], start: float) -> Iterator[str]:
    """An HTTP exporter on loopback serving the fleet's current values; yields host:port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = exposition(fleet, time.time() - start).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: scrapes are not test output."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _backfill(workdir: Path, fleet: Sequence[Exporting], end: int) -> Path:
    source, data = workdir / "history.om.txt", workdir / "data"
    source.write_text(openmetrics_history(fleet, end), encoding="utf-8")
    command = [str(tool("promtool")), "tsdb", "create-blocks-from", "openmetrics"]
    command += [str(source), str(data)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"promtool backfill failed ({done.returncode}): {done.stderr[-2000:]}")
    return data


@contextmanager
def _prometheus(workdir: Path, data: Path, target: str) -> Iterator[str]:
    """Prometheus on a free loopback port over `data`, scraping `target` every second."""
    scrape = {
        "job_name": "fleet-exporter",
        "honor_labels": True,
        "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "static_configs": [{"targets": [target]}],
    }
    config = workdir / "prometheus.yml"
    config.write_text(json.dumps({"scrape_configs": [scrape]}), encoding="utf-8")
    process, address = spawn_listening(
        lambda address: [
            tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=3650d",
            f"--web.listen-address={address}",
        ],
        workdir / "prometheus.log",
        lambda address: _scraped(f"http://{address}"),
        name="Prometheus",
        within=START_TIMEOUT_SECONDS,
        interval=0.1,
    )
    try:
        yield f"http://{address}"
    finally:
        stop(process, timeout=15)


def _scraped(url: str) -> bool:
    """Prometheus is ready and has scraped the exporter (`up == 1`)."""
    query = {"query": 'up{job="fleet-exporter"} == 1'}
    if not answers_200(f"{url}/-/ready"):
        return False
    try:
        answer = httpx.get(f"{url}/api/v1/query", params=query, timeout=2.0)
    except httpx.HTTPError:
        return False
    return bool(answer.json()["data"]["result"])


@contextmanager
def running_prometheus(
    workdir: Path, fleet: Sequence[Exporting] = FLEET
) -> Iterator[RealPrometheus]:
    """Backfill the fleet's history, start Prometheus and the exporter; stop both on exit."""
    # The history runs a little into the future, past the time Prometheus needs to start and
    # scrape: live samples then continue it without a gap (the head refuses the ones that
    # fall inside the backfilled range), so `rate()` at any "now" is exact.
    end = int(time.time()) + STARTUP_LEAD_SECONDS
    data = _backfill(workdir, fleet, end)
    with ExitStack() as stack:
        target = stack.enter_context(_exporter(fleet, end - HISTORY_SECONDS))
        url = stack.enter_context(_prometheus(workdir, data, target))
        yield RealPrometheus(
            url=url,
            evaluated_at=datetime.fromtimestamp(end, UTC),
            services={service.host: service for service in fleet},
        )


@pytest.fixture(scope="session")
def real_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    """A real Prometheus with the fleet's history and live scrapes, for the whole session:
    the reference fleet and a service of every other runtime (tests/support/runtime_fleet)."""
    from tests.support.runtime_fleet import RUNTIME_FLEET  # it builds on FleetService

    fleet = (*FLEET, *RUNTIME_FLEET)
    with running_prometheus(tmp_path_factory.mktemp("prometheus"), fleet) as prometheus:
        yield prometheus
