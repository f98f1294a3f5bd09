"""A mixed fleet under one config with no preset set: JVM, Go, Python, Node, .NET and Ruby
services in one alert group, a real Prometheus with each client's default metric names
(tests/support/runtime_fleet.py), the strict Pyroscope fake with each agent's profile types.

Each service gets its runtime (from its agent's `pyroscope_spy`, from a profile type only its
agent writes, or from its metric names), the verdict its numbers call for in its runtime's
units, and a hotspot and culprit named as that runtime writes them.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from enrichers.analysis import GroupEnricher
from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient
from enrichers.result import ServiceAnalysis
from enrichers.settings import (
    EnrichmentSettings,
    GrafanaSettings,
    PrometheusSettings,
    PyroscopeSettings,
)
from receiver.models import WebhookPayload
from tests.fakes.pyroscope import FakePyroscope
from tests.support.prometheus import RealPrometheus
from tests.support.runtimes import FRAMES

IDLE_NODE = ("(root)", "(idle)")


def hot(runtime: str) -> dict[tuple[str, ...], int]:
    """70% of the profile in the runtime leaf under the application function."""
    frames = FRAMES[runtime]
    return {frames.stack(frames.leaf): 70, frames.stack(): 30}


def calm(runtime: str, prefix: str) -> dict[tuple[str, ...], int]:
    """25 functions at 4% each: nothing stands out (a mutex profile below `mutex_pct`)."""
    frames = FRAMES[runtime]
    return {(frames.entry, f"{frames.app}{prefix}{i:02d}"): 4 for i in range(25)}


FLEET: dict[str, tuple[str, dict[str, Any]]] = {
    "ledger": ("jvm", {"cpu": calm("jvm", "x"), "mutex": hot("jvm"), "wall": calm("jvm", "w")}),
    "rides": ("go", {"cpu": hot("go"), "alloc": calm("go", "a"), "mutex": calm("go", "m")}),
    "pricing": ("python", {"cpu": hot("python")}),
    # Node's CPU profile is V8's wall-clock sampler: the idle event loop is most of it.
    "web": ("nodejs", {"cpu": {**hot("nodejs"), IDLE_NODE: 233}, "alloc": calm("nodejs", "h")}),
    "billing": ("dotnet", {"cpu": calm("dotnet", "c"), "alloc": hot("dotnet")}),
    "shop": ("ruby", {"cpu": calm("ruby", "c")}),
}
# (verdict, severity, runtime, what told it, hotspot (leaf, culprit) or None)
EXPECTED = {
    "ledger": ("LOCK-BOUND", "warning", "jvm", "pyroscope_spy=javaspy", "jvm"),
    "rides": (
        "CPU-BOUND",
        "critical",
        "go",
        "profile type memory:alloc_space:bytes:space:bytes",
        "go",
    ),
    "pricing": ("CPU-BOUND", "warning", "python", "metric python_gc_collections_total", "python"),
    "web": ("CPU-BOUND", "warning", "nodejs", "pyroscope_spy=nodespy", "nodejs"),
    "billing": ("GC-BOUND", "warning", "dotnet", "pyroscope_spy=dotnetspy", "dotnet"),
    "shop": ("HEALTHY", "ok", "ruby", "pyroscope_spy=rbspy", None),
}


def pyroscope() -> FakePyroscope:
    """Every service as its agent writes it; two without a `pyroscope_spy` label (an older Go
    agent: its profile types tell; a Python agent behind Alloy: only Prometheus tells)."""
    fake = FakePyroscope.of_agents(FLEET)
    del fake.labels["rides"], fake.labels["pricing"]
    return fake


def group(starts: Any) -> WebhookPayload:
    """One Alertmanager group with an alert about every service of the fleet."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "SloBurn", "instance": f"{host}:9100"},
            "annotations": {},
            "startsAt": starts.isoformat(),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": f"{index:016x}",
        }
        for index, host in enumerate(FLEET)
    ]
    alerts[0]["labels"]["instance"] = "ledger:9404"  # the JMX exporter's port
    return WebhookPayload.model_validate(
        {
            "version": "4",
            "groupKey": '{}:{alertname="SloBurn"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "flamebot",
            "groupLabels": {"alertname": "SloBurn"},
            "commonLabels": {"alertname": "SloBurn"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093",
            "alerts": alerts,
        }
    )


@pytest.fixture
async def analyses(real_prometheus: RealPrometheus) -> dict[str, ServiceAnalysis]:
    """The group enriched as `serve` does: the fleet listed at start, then the alert."""
    now = real_prometheus.evaluated_at
    async with pyroscope() as fake:
        enricher = GroupEnricher(
            EnrichmentSettings(),  # no preset, no app_prefixes: the defaults
            GrafanaSettings(),
            PrometheusClient(PrometheusSettings(url=real_prometheus.url)),
            PyroscopeClient(PyroscopeSettings(url=fake.url)),
            clock=lambda: now,
        )
        enricher.start()
        await asyncio.wait_for(enricher.listed(), 10)
        try:
            result = await enricher.enrich(group(now - timedelta(minutes=3)))
        finally:
            await enricher.aclose()
    return {analysis.service: analysis for analysis in result.services}


def test_every_runtime_gets_its_verdict_and_hotspot(analyses: dict[str, ServiceAnalysis]) -> None:
    """Each service gets its preset, verdict, hotspot and culprit as its runtime writes them."""
    found = {}
    for service, analysis in analyses.items():
        spot = analysis.hotspot
        found[service] = (
            analysis.verdict,
            analysis.severity,
            analysis.runtime,
            analysis.runtime_from,
            None if spot is None else (spot.function, spot.culprit),
        )
        assert (analysis.errors, analysis.unseen) == ([], [])
    assert found == {
        service: (
            verdict,
            severity,
            runtime,
            told,
            None if frames is None else (FRAMES[frames].shown_leaf, FRAMES[frames].shown_app),
        )
        for service, (verdict, severity, runtime, told, frames) in EXPECTED.items()
    }


def test_metrics_are_read_in_each_runtimes_units(analyses: dict[str, ServiceAnalysis]) -> None:
    """Each client's default names give the numbers of the history; units follow the runtime."""
    rows = {
        service: (a.metrics.cpu, a.metrics.heap_ratio, a.metrics.gc, a.metrics.threads)
        for service, a in analyses.items()
    }
    assert rows == {
        "ledger": pytest.approx((0.2, 0.4, 0.006, 40)),
        "rides": pytest.approx((0.9, 0.5, 0.001, 1500)),
        "pricing": pytest.approx((0.5, 0.2, 0.2, None)),
        "web": pytest.approx((0.4, 0.6, 0.002, 200)),
        "billing": pytest.approx((0.1, None, 2.0, 60)),
        "shop": pytest.approx((0.05, None, None, None)),
    }
    assert {s: a.metrics.latency_ms for s, a in analyses.items()} == pytest.approx(
        {"ledger": 900, "rides": 35, "pricing": 120, "web": 60, "billing": 80, "shop": 40}
    )
    assert {s: a.units for s, a in analyses.items() if a.units} == {
        "rides": {"threads": "goroutines"},
        "pricing": {"gc": "collections/s"},
        "web": {"threads": "handles"},
        "billing": {"gc": "collections/s"},
    }
    goroutines = next(e for e in analyses["rides"].evidence if e.key == "threads")
    assert (goroutines.value, goroutines.threshold, goroutines.crossed) == (1500, 1000, True)


def test_frames_read_as_each_runtime_writes_them(analyses: dict[str, ServiceAnalysis]) -> None:
    """Top CPU names as each agent writes them; Node's idle loop listed, never the hotspot."""
    tops = {s: [(f.function, f.frame_class) for f in a.top["cpu"][:2]] for s, a in analyses.items()}
    assert tops["rides"] == [
        ("runtime.mallocgc", "runtime"),
        ("rideshare/cart.(*Cart).Checkout", "app"),
    ]
    assert tops["pricing"] == [
        ("json/encoder.py:199 - encode", "runtime"),
        ("lib/cart/cart.py:42 - checkout", "app"),
    ]
    assert tops["web"] == [("(idle)", "runtime"), ("node:internal/util:deprecate:10", "runtime")]
    assert tops["ledger"][0] == ("com.example.Cart.checkoutx00", "app")
    assert tops["billing"][0] == ("Shop!Shop.Cart.Checkout(int32)c00", "app")
    assert tops["shop"][0] == ("app/models/cart.rb:42 - checkoutc00", "app")
    assert analyses["web"].action == (
        "optimise ./lib/cart.js:checkout:42 (time is in node:internal/util:deprecate:10)"
        " or move it off the event loop (worker_threads): while it runs, no other request"
        " is served"
    )
