"""A mixed fleet for the real Prometheus: one service per runtime, each exporting its
Prometheus client's default metric names (PRODUCT.md §7.1), plus what its profiling agent
writes to Pyroscope (frames as the runtime writes them, `tests/support/runtimes.py`).

| host | runtime | metrics | shaped to be |
|---|---|---|---|
| ledger | jvm | JMX exporter, Vert.x | LOCK-BOUND (mutex profile, 900 ms) |
| rides | go | client_golang | CPU-BOUND, critical (0.9 cores), in runtime.mallocgc |
| pricing | python | prometheus_client | CPU-BOUND (0.5 cores), in json's encoder |
| web | nodejs | prom-client | CPU-BOUND (0.4 cores), the event loop 70% idle |
| billing | dotnet | prometheus-net | GC-BOUND (2 full collections/s) |
| shop | ruby | process and request metrics, prometheus_exporter's `ruby_` | HEALTHY |

Counters start at 1000 and grow linearly, so `rate()` gives exactly the rates below.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.prometheus import FleetService

__all__ = ["RUNTIME_FLEET", "RuntimeService"]

Series = tuple[str, dict[str, str], float]
GIB = 2**30


@dataclass(frozen=True)
class RuntimeService:
    host: str
    runtime: str
    cpu: float  # cores
    heap: float  # used share of the runtime's heap limit
    gc: float  # the preset's unit: s/s, or full collections/s (python, dotnet)
    threads: float  # goroutines, handles or threads
    req_per_sec: float
    error_ratio: float
    latency_ms: float

    def _http(self, base: dict[str, str], elapsed: float, requests: str) -> list[Series]:
        out: list[Series] = []
        errors = self.req_per_sec * self.error_ratio
        for code, rate in (("200", self.req_per_sec - errors), ("500", errors)):
            if rate:
                labels = {**base, "code": code, "method": "GET"}
                count, seconds = rate * elapsed, rate * elapsed * self.latency_ms / 1000
                out.append((requests, labels, 1000 + count))
                out.append(("http_request_duration_seconds_count", labels, 1000 + count))
                out.append(("http_request_duration_seconds_sum", labels, 1000 + seconds))
        return out

    def _runtime(self, base: dict[str, str], elapsed: float) -> list[Series]:
        gen = {**base, "generation": "2"}
        young = {**base, "generation": "0"}
        return {
            "go": [
                ("go_memstats_heap_alloc_bytes", base, self.heap * GIB),
                ("go_gc_gomemlimit_bytes", base, float(GIB)),
                ("go_memstats_heap_sys_bytes", base, 1.5 * GIB),
                ("go_gc_duration_seconds_sum", base, 1000 + self.gc * elapsed),
                ("go_gc_duration_seconds_count", base, 1000 + elapsed),
                ("go_goroutines", base, self.threads),
            ],
            "python": [
                ("process_resident_memory_bytes", base, self.heap * GIB),
                ("process_virtual_memory_max_bytes", base, float(GIB)),
                ("python_gc_collections_total", gen, 1000 + self.gc * elapsed),
                ("python_gc_collections_total", young, 1000 + 50 * elapsed),
                ("python_info", {**base, "version": "3.11.7"}, 1.0),
            ],
            "nodejs": [
                ("nodejs_heap_size_used_bytes", base, self.heap * GIB),
                ("nodejs_heap_size_total_bytes", base, float(GIB)),
                ("nodejs_gc_duration_seconds_sum", base, 1000 + self.gc * elapsed),
                ("nodejs_gc_duration_seconds_count", base, 1000 + elapsed),
                ("nodejs_eventloop_lag_seconds", base, 0.004),
                ("nodejs_active_handles", base, self.threads),
            ],
            "dotnet": [
                ("dotnet_total_memory_bytes", base, self.heap * GIB),
                ("dotnet_collection_count_total", gen, 1000 + self.gc * elapsed),
                ("dotnet_collection_count_total", young, 1000 + 40 * elapsed),
                ("process_num_threads", base, self.threads),
            ],
            "ruby": [("ruby_heap_live_slots", base, 4e5)],
        }[self.runtime]

    def series(self, elapsed: float) -> list[Series]:
        """Every sample `elapsed` seconds after the history began."""
        base = {"instance": f"{self.host}:9100", "job": self.runtime}
        requests = "http_requests_received_total" if self.runtime == "dotnet" else None
        return [
            ("process_cpu_seconds_total", base, 1000 + self.cpu * elapsed),
            *self._runtime(base, elapsed),
            *self._http(base, elapsed, requests or "http_requests_total"),
        ]


RUNTIME_FLEET: tuple[RuntimeService | FleetService, ...] = (
    FleetService("ledger", "ledger", 0.2, 0.4, (0.005, 0.001), 40, 30, 0, 900),
    RuntimeService("rides", "go", 0.9, 0.5, 0.001, 1500, 120, 0.0, 35),
    RuntimeService("pricing", "python", 0.5, 0.2, 0.2, 0, 40, 0.0, 120),
    RuntimeService("web", "nodejs", 0.4, 0.6, 0.002, 200, 300, 0.0, 60),
    RuntimeService("billing", "dotnet", 0.1, 0.3, 2.0, 60, 25, 0.0, 80),
    RuntimeService("shop", "ruby", 0.05, 0.0, 0.0, 0, 10, 0.0, 40),
)
