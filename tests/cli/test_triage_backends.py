"""`flamebot triage` and `top` and their backends: the legacy Pyroscope API, failed sources.

One readable line per failed source on stderr and exit 2 when a backend is unreachable,
Prometheus included when no service gave it a query. `top` needs Pyroscope only and never
asks Prometheus.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import flamebot, unused_url, write_config
from tests.cli.test_triage_real_prometheus import (
    ALLOC,
    BIG_DECIMAL,
    CPU,
    ENCODE,
    INCIDENT_CPU,
    MUTEX,
    ORDER,
    PROCESS,
    SERVICE_MAP,
    WALL,
)
from tests.fakes.pyroscope import FakePyroscope
from tests.support.prometheus import RealPrometheus

LEGACY_SERVICES: dict[str, dict[str, Mapping[Any, Any]]] = {
    "bank-payment-service": {CPU: INCIDENT_CPU, ALLOC: {BIG_DECIMAL: 121, ENCODE: 879}},
    "bank-order-service": {
        CPU: {PROCESS: 120, ENCODE: 880},
        MUTEX: {PROCESS: 713, (*ORDER, "com/example/OrderVerticle.updateInventory"): 287},
        WALL: {PROCESS: 1000},
    },
}


@pytest.fixture
async def legacy_pyroscope() -> AsyncIterator[FakePyroscope]:
    """Two services behind a Pyroscope with only the legacy HTTP API."""
    async with FakePyroscope(LEGACY_SERVICES, connect=False, legacy_render=True) as fake:
        yield fake


@pytest.fixture
async def empty_pyroscope() -> AsyncIterator[FakePyroscope]:
    """A reachable Pyroscope that has no services."""
    async with FakePyroscope() as fake:
        yield fake


async def test_triage_lists_services_through_the_legacy_api(
    tmp_path: Path, real_prometheus: RealPrometheus, legacy_pyroscope: FakePyroscope
) -> None:
    """Without Connect, `label=service_name` lists the services and every query stays legacy."""
    config = write_config(tmp_path, real_prometheus.url, legacy_pyroscope.url, SERVICE_MAP)
    result = await flamebot("triage", "--config", config, "--json", cwd=tmp_path)
    assert (result.code, result.error_lines) == (0, [])
    services = json.loads(result.stdout)["services"]
    assert [(s["service"], s["verdict"], s["errors"]) for s in services] == [
        ("payment-service", "CPU-BOUND", []),
        ("order-service", "LOCK-BOUND", []),
    ]
    assert [s["hotspot"]["function"] for s in services] == [
        "com.example.PaymentVerticle.sha256",
        "com.example.OrderVerticle.processOrders",
    ]
    first, listing, *rest = legacy_pyroscope.requests
    assert (first.method, first.path) == ("POST", "/querier.v1.QuerierService/LabelValues")
    assert (listing.method, listing.path, listing.query) == (
        "GET",
        "/pyroscope/label-values",
        {"label": "service_name"},
    )
    assert Counter((r.path, r.query.get("label")) for r in rest) == {
        ("/pyroscope/label-values", "__name__"): 2,
        ("/pyroscope/render", None): 16,
    }


async def test_triage_names_both_backends_when_both_are_down(tmp_path: Path) -> None:
    """No service to analyse: Prometheus is probed, so both failures are one line each."""
    prometheus, pyroscope = unused_url(), unused_url()
    config = write_config(tmp_path, prometheus, pyroscope, {})
    result = await flamebot("triage", "--config", config, cwd=tmp_path)
    assert result.code == 2
    assert result.error_lines == [
        f"triage: prometheus unreachable at {prometheus}: connection refused",
        f"triage: pyroscope unreachable at {pyroscope}: connection refused",
    ]
    assert "Traceback" not in result.stderr


async def test_triage_probes_prometheus_when_pyroscope_has_no_services(
    tmp_path: Path, empty_pyroscope: FakePyroscope
) -> None:
    """Pyroscope up but empty and no service map: a down Prometheus still means exit 2."""
    prometheus = unused_url()
    config = write_config(tmp_path, prometheus, empty_pyroscope.url, {})
    result = await flamebot("triage", "--config", config, "--json", cwd=tmp_path)
    assert (result.code, json.loads(result.stdout)["services"]) == (2, [])
    assert result.error_lines == [
        f"triage: prometheus unreachable at {prometheus}: connection refused"
    ]


async def test_triage_with_nothing_to_analyse_and_both_up_exits_0(
    tmp_path: Path, real_prometheus: RealPrometheus, empty_pyroscope: FakePyroscope
) -> None:
    """The probe answers: an empty report, nothing on stderr."""
    config = write_config(tmp_path, real_prometheus.url, empty_pyroscope.url, {})
    result = await flamebot("triage", "--config", config, "--json", cwd=tmp_path)
    assert (result.code, result.error_lines) == (0, [])
    assert json.loads(result.stdout)["services"] == []


async def test_top_does_not_ask_prometheus(tmp_path: Path, legacy_pyroscope: FakePyroscope) -> None:
    """`top` reads profiles only: a down Prometheus is not probed and not reported."""
    config = write_config(tmp_path, unused_url(), legacy_pyroscope.url, SERVICE_MAP)
    result = await flamebot(
        "top", "mutex", "order-service", "--config", config, "--json", cwd=tmp_path
    )
    assert (result.code, result.error_lines) == (0, [])
    assert [(f["function"], f["value"]) for f in json.loads(result.stdout)] == [
        ("com.example.OrderVerticle.processOrders", 713.0),
        ("com.example.OrderVerticle.updateInventory", 287.0),
    ]
