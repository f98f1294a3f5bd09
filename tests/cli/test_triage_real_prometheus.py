"""`triage --json` and `top --json` on a real Prometheus and the strict fake Pyroscope.

The session's Prometheus holds payment-service (CPU-bound numbers) and order-service (slow,
many threads); the fake Pyroscope serves their profiles, the CPU hotspot rising from 5.1% in
the baseline window to 34.2% in the incident window.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import flamebot, write_config
from tests.fakes.pyroscope import FakePyroscope, by_window
from tests.support.harness import HANDLER, RUN
from tests.support.prometheus import RealPrometheus

Stack = tuple[str, ...]
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
ALLOC = "memory:alloc_in_new_tlab_bytes:bytes:space:bytes"
MUTEX = "mutex:contentions:count:mutex:count"
WALL = "wall:wall:nanoseconds:wall:nanoseconds"
PAY = HANDLER  # the payment service's request handler
ORDER = (*RUN, "com/example/OrderVerticle.handleOrder")
SHA = (*PAY, "com/example/PaymentVerticle.sha256")
PROCESS = (*ORDER, "com/example/OrderVerticle.processOrders")
ENCODE = (*RUN, "io/vertx/core/json/JsonObject.encode")
BIG_DECIMAL = (*PAY, "java/math/BigDecimal.<init>")
WRITE = (*RUN, "io/netty/channel/AbstractChannelHandlerContext.write")
INCIDENT_CPU = {SHA: 342, BIG_DECIMAL: 158, ENCODE: 260, WRITE: 240}
BASELINE_CPU = {SHA: 51, BIG_DECIMAL: 149, ENCODE: 420, WRITE: 380}
SERVICE_MAP = {"payment-service": "bank-payment-service", "order-service": "bank-order-service"}
PAYMENT = {
    "cpu": 0.82,
    "heap_ratio": 0.45,
    "gc": 0.012,
    "threads": 24,
    "req_per_sec": 50,
    "error_ratio": 0,
    "latency_ms": 340,
}
ORDER_METRICS = {
    "cpu": 0.15,
    "heap_ratio": 0.38,
    "gc": 0.004,
    "threads": 80,
    "req_per_sec": 20,
    "error_ratio": 0.01,
    "latency_ms": 800,
}


def payment_profiles(
    minutes_ago: int, before: Mapping[Stack, int], after: Mapping[Stack, int]
) -> dict[str, Any]:
    """payment-service's CPU, `before` in windows that ended over `minutes_ago` minutes ago
    and `after` in later ones, and its allocations."""
    switch = int((time.time() - minutes_ago * 60) * 1000)
    return {
        CPU: by_window([(switch, before), (10**14, after)]),
        ALLOC: {BIG_DECIMAL: 121, ENCODE: 879},
    }


@pytest.fixture
async def pyroscope() -> AsyncIterator[FakePyroscope]:
    """Profiles of both services; windows ending over 30 minutes ago are the baseline."""
    fake = FakePyroscope(
        {
            "bank-payment-service": {
                **payment_profiles(30, BASELINE_CPU, INCIDENT_CPU),
                WALL: {(*RUN, "io/netty/channel/nio/NioEventLoop.select"): 1000},
            },
            "bank-order-service": {
                CPU: {PROCESS: 120, ENCODE: 880},
                MUTEX: {PROCESS: 713, (*ORDER, "com/example/OrderVerticle.updateInventory"): 287},
                WALL: {PROCESS: 560, (*RUN, "io/netty/channel/nio/NioEventLoop.select"): 440},
            },
        }
    )
    async with fake:
        yield fake


@pytest.fixture
def config(tmp_path: Path, real_prometheus: RealPrometheus, pyroscope: FakePyroscope) -> Path:
    return write_config(tmp_path, real_prometheus.url, pyroscope.url, SERVICE_MAP)


async def test_triage_json_on_real_prometheus(tmp_path: Path, config: Path) -> None:
    """Both services Pyroscope knows, their Prometheus numbers, verdicts and hotspots."""
    result = await flamebot("triage", "--config", config, "--json", cwd=tmp_path)
    assert (result.code, result.error_lines) == (0, [])
    payment, order = json.loads(result.stdout)["services"]
    assert (payment["service"], payment["verdict"], payment["severity"]) == (
        "payment-service",
        "CPU-BOUND",
        "critical",
    )
    assert payment["metrics"] == pytest.approx(PAYMENT, rel=1e-2, abs=1e-9)
    assert payment["hotspot"] == {
        "function": "com.example.PaymentVerticle.sha256",
        "self_pct": pytest.approx(34.2),
        "baseline_pct": pytest.approx(5.1),
        "profile": "cpu",
        "culprit": "com.example.PaymentVerticle.sha256",
    }
    assert [(f["function"], f["frame_class"]) for f in payment["top"]["cpu"]] == [
        ("com.example.PaymentVerticle.sha256", "app"),
        ("io.vertx.core.json.JsonObject.encode", "library"),
        ("io.netty.channel.AbstractChannelHandlerContext.write", "library"),
        ("java.math.BigDecimal.<init>", "runtime"),
    ]
    assert payment["notes"] == [
        "computation creating temporary objects: io.vertx.core.json.JsonObject.encode makes"
        " 87.9% of allocations"
    ]
    assert payment["errors"] == []
    assert (order["service"], order["verdict"], order["severity"]) == (
        "order-service",
        "LOCK-BOUND",
        "warning",
    )
    assert order["metrics"] == pytest.approx(ORDER_METRICS, rel=1e-2)
    assert order["hotspot"] == {
        "function": "com.example.OrderVerticle.processOrders",
        "self_pct": pytest.approx(71.3),
        "baseline_pct": pytest.approx(71.3),
        "profile": "mutex",
        "culprit": "com.example.OrderVerticle.processOrders",
    }
    assert [(e["key"], e["crossed"]) for e in order["evidence"] if e["crossed"]] == [
        ("mutex_pct", True),
        ("latency_ms", True),
        ("threads", True),
    ]


async def test_top_json_on_the_same_stack(tmp_path: Path, config: Path) -> None:
    """`top mutex order-service` ranks the lock holders with their contention counts."""
    result = await flamebot(
        "top", "mutex", "order-service", "--config", config, "--json", cwd=tmp_path
    )
    assert (result.code, result.error_lines) == (0, [])
    assert json.loads(result.stdout) == [
        {
            "function": "com.example.OrderVerticle.processOrders",
            "self_pct": pytest.approx(71.3),
            "total_pct": pytest.approx(71.3),
            "value": 713.0,
            "unit": "count",
            "frame_class": "app",
        },
        {
            "function": "com.example.OrderVerticle.updateInventory",
            "self_pct": pytest.approx(28.7),
            "total_pct": pytest.approx(28.7),
            "value": 287.0,
            "unit": "count",
            "frame_class": "app",
        },
    ]
