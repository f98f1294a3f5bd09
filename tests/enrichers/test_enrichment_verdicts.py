"""Every verdict of the decision table, through the whole enricher (backends on the wire)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from enrichers.analysis import GroupEnricher
from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient
from enrichers.settings import (
    EnrichmentSettings,
    GrafanaSettings,
    PrometheusSettings,
    PyroscopeSettings,
)
from receiver.models import WebhookPayload
from tests.conftest import load_payload
from tests.fakes.pyroscope import FakePyroscope

NOW = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
ALLOC = "memory:alloc_in_new_tlab_bytes:bytes:space:bytes"
MUTEX = "mutex:contentions:count:mutex:count"
WALL = "wall:wall:nanoseconds:wall:nanoseconds"
APP = ("java/lang/Thread.run", "com/example/App.handle")
CALM = {"cpu": 0.1, "heap": 0.4, "gc": 0.005, "threads": 20, "latency": 50}
# Metric of each preset query, recognised by a name only that query uses.
QUERY_KEYS = {
    "process_cpu_seconds_total": "cpu",
    "jvm_memory_used_bytes": "heap",
    "jvm_gc_collection_seconds_sum": "gc",
    "jvm_threads_current": "threads",
    "vertx_http_server_response_time_seconds_sum": "latency",
}


def prometheus(values: dict[str, float]) -> httpx.MockTransport:
    """Prometheus' /api/v1/query answering each preset query with the scenario's number; the
    service has the jvm preset's metrics."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/label/__name__/values":
            body = {"status": "success", "data": sorted(QUERY_KEYS)}
            return httpx.Response(200, content=json.dumps(body))
        query = parse_qs(request.content.decode())["query"][0]
        key = next((k for name, k in QUERY_KEYS.items() if name in query), None)
        result = [] if key is None else [{"metric": {}, "value": [1764091800, str(values[key])]}]
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return httpx.Response(200, content=json.dumps(body))

    return httpx.MockTransport(handle)


def profiles(mutex_pct: int, cpu: bool = True) -> dict[str, Any]:
    """CPU/alloc/wall profiles of the scenario; the mutex leader holds `mutex_pct`%."""
    if not cpu:
        return {CPU: {}, ALLOC: {}, MUTEX: {}, WALL: {}}
    return {
        CPU: {(*APP, "com/example/App.compute"): 60, (*APP, "com/example/App.render"): 40},
        ALLOC: {(*APP, "com/example/App.buffer"): 70, (*APP, "java/lang/String.<init>"): 30},
        MUTEX: {
            (*APP, "com/example/Orders.processOrders"): mutex_pct,
            **{(*APP, f"com/example/Cache.get{i:03d}"): 1 for i in range(100 - mutex_pct)},
        },
        WALL: {(*APP, "java/net/SocketInputStream.read"): 90, (*APP, "com/example/App.x"): 10},
    }


CASES = [
    (
        "CPU-BOUND",
        "critical",
        {"cpu": 0.9},
        2,
        ("com.example.App.compute", "cpu"),
        "optimise com.example.App.compute (algorithm, caching, async offload)",
    ),
    (
        "GC-BOUND",
        "warning",
        {"gc": 0.05},
        2,
        ("com.example.App.buffer", "alloc"),
        "reduce allocations in com.example.App.buffer, pre-size collections, use pooling",
    ),
    (
        "MEMORY-PRESSURE",
        "warning",
        {"heap": 0.8},
        2,
        ("com.example.App.buffer", "alloc"),
        "find the leak in com.example.App.buffer if the heap keeps rising,"
        " else raise the heap (-Xmx)",
    ),
    (
        "NO-PROFILE-DATA",
        "ok",
        {"latency": 900},
        None,
        None,
        "check the profiling agent and the service_name mapping (queried orders)",
    ),
    (
        "LOCK-BOUND",
        "warning",
        {"latency": 900},
        60,
        ("com.example.Orders.processOrders", "mutex"),
        "narrow the lock in com.example.Orders.processOrders, use concurrent structures",
    ),
    (
        "I/O-BOUND",
        "warning",
        {"latency": 900},
        2,
        ("java.net.SocketInputStream.read", "wall"),
        # The leaf is the JDK's: the action names the application code that called it.
        "add pools, timeouts and circuit breakers on the dependency behind"
        " com.example.App.handle (time is in java.net.SocketInputStream.read)",
    ),
    (
        "HEALTHY",
        "ok",
        {},
        2,
        None,
        "no code action; suspect infrastructure (network, DNS, load balancer)",
    ),
]


@pytest.mark.parametrize(
    ("verdict", "severity", "metrics", "mutex_pct", "hotspot", "action"), CASES
)
async def test_each_verdict_end_to_end(
    verdict: str,
    severity: str,
    metrics: dict[str, float],
    mutex_pct: int | None,
    hotspot: tuple[str, str] | None,
    action: str,
) -> None:
    """Backend answers shaped for one decision-table row give that verdict and hotspot."""
    fake = FakePyroscope({"orders": profiles(mutex_pct or 0, cpu=mutex_pct is not None)})
    async with fake:
        enricher = GroupEnricher(
            EnrichmentSettings(app_prefixes=["com.example."]),
            GrafanaSettings(),
            PrometheusClient(PrometheusSettings(), transport=prometheus({**CALM, **metrics})),
            PyroscopeClient(PyroscopeSettings(url=fake.url)),
            clock=lambda: NOW,
        )
        body = load_payload("firing.json")
        body["alerts"][0]["labels"]["service"] = "orders"
        body["alerts"][0]["startsAt"] = (NOW - timedelta(minutes=3)).isoformat()
        result = await enricher.enrich(WebhookPayload.model_validate(body))
        await enricher.aclose()
    [analysis] = result.services
    assert (analysis.verdict, analysis.severity, analysis.errors) == (verdict, severity, [])
    got = (
        None if analysis.hotspot is None else (analysis.hotspot.function, analysis.hotspot.profile)
    )
    assert (got, analysis.action) == (hotspot, action)
