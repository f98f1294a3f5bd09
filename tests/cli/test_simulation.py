"""The demo's simulated Prometheus and Pyroscope speak the real wire formats and count requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest

from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient, ServiceProfiles
from enrichers.flamegraph import parse_connect, top_functions
from enrichers.presets import JVM
from enrichers.promql import instance_selector, label_selector, render_query
from enrichers.settings import PrometheusSettings, PyroscopeSettings
from receiver.demo.fleet import DEFAULT_SCENARIO, NOW
from receiver.demo.record import ServedRequest
from receiver.demo.simulation import Simulation

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
ALLOC = "memory:alloc_in_new_tlab_bytes:bytes:space:bytes"
MUTEX = "mutex:contentions:count:mutex:count"
WALL = "wall:wall:nanoseconds:wall:nanoseconds"
CPU_QUERY = 'rate(process_cpu_seconds_total{instance=~"payment-service(:[0-9]+)?"}[2m])'


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
async def sim() -> AsyncIterator[Simulation]:
    """The default fleet with the scenario's fixed clock."""
    async with Simulation(DEFAULT_SCENARIO, clock=NOW.timestamp) as running:
        yield running


async def test_prometheus_answers_an_instant_query_like_prometheus(sim: Simulation) -> None:
    """GET and form POST both get the instant-vector JSON of the matching target."""
    assert render_query(JVM.queries["cpu"], instance_selector("payment-service", {})) == CPU_QUERY
    expected = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {
                    "metric": {
                        "group": "vertx",
                        "instance": "payment-service:9404",
                        "job": "jvm",
                        "verticle": "payment",
                    },
                    "value": [1795627590.5, "0.82"],
                }
            ],
        },
    }
    params = {"query": CPU_QUERY, "time": "1795627590.5"}
    async with httpx.AsyncClient(base_url=sim.prometheus_url) as client:
        got = await client.get("/api/v1/query", params=params)
        posted = await client.post("/api/v1/query", data=params)
    assert (got.status_code, got.json()) == (200, expected)
    assert (posted.status_code, posted.json()) == (200, expected)


async def test_prometheus_serves_every_jvm_preset_query_of_the_scenario(sim: Simulation) -> None:
    """Through flamebot's own client, each preset query returns the scenario's number."""
    client = PrometheusClient(PrometheusSettings(url=sim.prometheus_url))
    try:
        for host, service in DEFAULT_SCENARIO.services.items():
            selector = instance_selector(host, {})
            got = {
                name: await client.query(render_query(template, selector), NOW)
                for name, template in JVM.queries.items()
            }
            assert got == service.health.model_dump(), host
        outside = instance_selector("payment-service", {"namespace": "prod"})
        assert await client.query(render_query(JVM.queries["cpu"], outside), NOW) is None
    finally:
        await client.aclose()


async def test_prometheus_rejects_a_request_without_a_query(sim: Simulation) -> None:
    """No `query` parameter is a 400 `bad_data`, as Prometheus answers."""
    async with httpx.AsyncClient(base_url=sim.prometheus_url) as client:
        response = await client.post("/api/v1/query", data={"time": "1795627590"})
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "errorType": "bad_data",
        "error": 'invalid parameter "query": no query given',
    }


async def test_pyroscope_lists_services_profile_types_and_window_graphs(sim: Simulation) -> None:
    """LabelValues, Series and SelectMergeStacktraces; the baseline window has other stacks."""
    client = PyroscopeClient(PyroscopeSettings(url=sim.pyroscope_url))
    end = NOW
    start = end - timedelta(minutes=15)
    try:
        assert await client.services(ms(start), ms(end)) == sorted(
            s.pyroscope_service for s in DEFAULT_SCENARIO.services.values()
        )
        java = frozenset({"javaspy"})
        assert await client.profile_types(
            "bank-payment-service", ms(start), ms(end)
        ) == ServiceProfiles(frozenset({CPU, ALLOC, WALL}), java)
        assert await client.profile_types(
            "bank-order-service", ms(start), ms(end)
        ) == ServiceProfiles(frozenset({CPU, ALLOC, MUTEX, WALL}), java)
        selector = label_selector("bank-payment-service")
        hour = timedelta(hours=1)
        incident = await client.flamegraph(CPU, selector, ms(start), ms(end))
        baseline = await client.flamegraph(CPU, selector, ms(start - hour), ms(end - hour))
    finally:
        await client.aclose()
    leaders = [
        top_functions(graph, n=1, unit="seconds", unit_scale=1e-9, frames=JVM.frames)
        for graph in (incident, baseline)
    ]
    assert [(t.functions[0].function, round(t.functions[0].self_pct, 1)) for t in leaders] == [
        ("com.example.PaymentVerticle.sha256", 34.2),
        ("io.netty.channel.AbstractChannelHandlerContext.write", 23.0),
    ]
    assert (incident.total, baseline.total) == (738_000_000_000, 270_000_000_000)


async def test_pyroscope_answers_connect_errors(sim: Simulation) -> None:
    """An unknown RPC is 404 `unimplemented`; an empty selection is `{}`."""
    async with httpx.AsyncClient(base_url=sim.pyroscope_url) as client:
        unknown = await client.post("/querier.v1.QuerierService/SelectMergeProfile", json={})
        nothing = await client.post(
            "/querier.v1.QuerierService/SelectMergeStacktraces",
            json={
                "profileTypeID": CPU,
                "labelSelector": '{service_name="nobody"}',
                "start": "1795626690000",
                "end": "1795627590000",
            },
        )
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"code": "unimplemented", "message": "SelectMergeProfile is not implemented"},
    )
    assert (nothing.status_code, nothing.json()) == (200, {})
    assert parse_connect(nothing.json()).total == 0


async def test_simulation_records_every_request_it_served(sim: Simulation) -> None:
    """Each backend logs method, path and status; `report()` counts them."""
    async with httpx.AsyncClient() as client:
        await client.get(f"{sim.prometheus_url}/api/v1/query", params={"query": CPU_QUERY})
        await client.post(f"{sim.prometheus_url}/api/v1/query")
        await client.get(f"{sim.prometheus_url}/api/v1/labels")
        await client.post(f"{sim.pyroscope_url}/querier.v1.QuerierService/ProfileTypes", json={})
    assert sim.prometheus.log.requests == [
        ServedRequest("GET", "/api/v1/query", 200),
        ServedRequest("POST", "/api/v1/query", 400),
        ServedRequest("GET", "/api/v1/labels", 404),
    ]
    assert sim.pyroscope.log.requests == [
        ServedRequest("POST", "/querier.v1.QuerierService/ProfileTypes", 400)
    ]
    assert sim.served() == {"prometheus": 3, "pyroscope": 1}
    assert sim.report() == "simulation served 3 Prometheus and 1 Pyroscope requests"
