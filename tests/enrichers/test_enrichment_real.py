"""The whole enrichment of an alert: a real Prometheus, a strict fake Pyroscope.

The reference HighCpuUsage alert (instance payment-service:9404, job jvm, no service label)
must come out CPU-BOUND with `com.example.PaymentVerticle.sha256` as hotspot, its rise
from 5.1% to 34.2% of CPU self-time, the evidence, and links to the exact windows.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

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
from tests.fakes.pyroscope import FakePyroscope, by_window
from tests.support.harness import BASELINE_CPU, HANDLER, PAYMENT_HOTSPOT, RUN
from tests.support.harness import INCIDENT_CPU as REFERENCE_INCIDENT_CPU
from tests.support.prometheus import HOSTILE_HOST, RealPrometheus

REL = 1e-9
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
ALLOC = "memory:alloc_in_new_tlab_bytes:bytes:space:bytes"
MUTEX = "mutex:contentions:count:mutex:count"
WALL = "wall:wall:nanoseconds:wall:nanoseconds"

# JFR frame names, as the Pyroscope Java agent stores them (`/` separators): the reference
# incident, with fewer BigDecimal samples and sha256 calling MessageDigest.getInstance.
SHA256 = (*HANDLER, "com/example/PaymentVerticle.sha256")
INCIDENT_CPU = {
    **REFERENCE_INCIDENT_CPU,
    (*HANDLER, "java/math/BigDecimal.<init>"): 120,
    (*SHA256, "java/security/MessageDigest.getInstance"): 180,
}
# BigDecimal leads the allocations at 12.1%, as in the reference triage output.
ALLOC_STACKS = {
    (*HANDLER, "java/math/BigDecimal.<init>"): 121,
    **{(*RUN, f"com/example/Codec.buffer{i:02d}"): 79 for i in range(11)},
    (*RUN, "java/lang/String.<init>"): 10,
}
# A CPU-bound service with no lock to speak of: 25 contention sites of 4% each.
MUTEX_STACKS = {(*HANDLER, f"com/example/Ledger.append{i:02d}"): 4 for i in range(25)}
WALL_STACKS = {(*RUN, "java/net/SocketInputStream.read"): 1000}


def settings(deadline: float = 8.0) -> EnrichmentSettings:
    return EnrichmentSettings(
        deadline_seconds=deadline,
        service_map={"payment-service": "bank-payment-service"},
        app_prefixes=["com.example."],
        top_n=3,
    )


GRAFANA = GrafanaSettings(
    url="http://grafana.example:3000",
    pyroscope_datasource_uid="pyroscope-ds",
    dashboards=[
        {
            "title": "JVM overview",
            "uid": "pyroscope-java-overview",
            "vars": {"application": "{pyroscope_service}"},
        }  # type: ignore[list-item]
    ],
)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def reference_alert(starts: datetime, instance: str = "payment-service:9404") -> WebhookPayload:
    body = load_payload("reference-highcpuusage.json")
    body["alerts"][0]["startsAt"] = starts.isoformat()
    body["alerts"][0]["labels"]["instance"] = instance
    return WebhookPayload.model_validate(body)


def pyroscope_fake(incident_end_ms: int, tenant: str = "bank", **knobs: Any) -> FakePyroscope:
    baseline_before = incident_end_ms - 30 * 60 * 1000  # any end before this is the baseline
    payment = {
        CPU: by_window([(baseline_before, BASELINE_CPU), (10**14, INCIDENT_CPU)]),
        ALLOC: ALLOC_STACKS,
        MUTEX: MUTEX_STACKS,
        WALL: WALL_STACKS,
    }
    hostile = {CPU: {(*RUN, "com/example/Evil.spin"): 10}}
    return FakePyroscope(
        {"bank-payment-service": payment, HOSTILE_HOST: hostile}, tenant=tenant, **knobs
    )


@pytest.fixture
async def observed() -> list[tuple[str, str]]:
    return []


async def make_enricher(
    prometheus_url: str,
    pyroscope_url: str,
    now: datetime,
    observed: list[tuple[str, str]],
    *,
    deadline: float = 8.0,
    pyroscope_timeout: float = 5.0,
) -> GroupEnricher:
    def observe(backend: str, outcome: str) -> None:
        observed.append((backend, outcome))

    return GroupEnricher(
        settings(deadline),
        GRAFANA,
        PrometheusClient(PrometheusSettings(url=prometheus_url), observe=observe),
        PyroscopeClient(
            PyroscopeSettings(url=pyroscope_url, tenant="bank", timeout_seconds=pyroscope_timeout),
            observe=observe,
        ),
        observe=observe,
        clock=lambda: now,
    )


@asynccontextmanager
async def enricher_against(
    real_prometheus: RealPrometheus,
    observed: list[tuple[str, str]],
    prometheus_url: str | None = None,
) -> AsyncIterator[tuple[GroupEnricher, FakePyroscope, datetime]]:
    """An enricher at the real Prometheus' evaluation time, on it (or on `prometheus_url`)
    and the payment fleet's fake Pyroscope; closed on exit."""
    now = real_prometheus.evaluated_at
    async with pyroscope_fake(ms(now)) as fake:
        enricher = await make_enricher(
            prometheus_url or real_prometheus.url, fake.url, now, observed
        )
        try:
            yield enricher, fake, now
        finally:
            await enricher.aclose()


@pytest.fixture
async def enriched(
    real_prometheus: RealPrometheus, observed: list[tuple[str, str]]
) -> AsyncIterator[tuple[Any, FakePyroscope, datetime]]:
    async with enricher_against(real_prometheus, observed) as (enricher, fake, now):
        yield await enricher.enrich(reference_alert(now - timedelta(minutes=2))), fake, now


async def test_reference_alert_is_cpu_bound_with_the_sha256_hotspot(enriched: Any) -> None:
    """HighCpuUsage on payment-service:9404 -> CPU-BOUND, sha256 34.2% (5.1% before)."""
    result, _, _ = enriched
    [analysis] = result.services
    assert (analysis.service, analysis.pyroscope_service, analysis.runtime) == (
        "payment-service",
        "bank-payment-service",
        "jvm",
    )
    assert (analysis.verdict, analysis.severity, analysis.errors) == ("CPU-BOUND", "critical", [])
    assert analysis.hotspot is not None
    assert analysis.hotspot.model_dump() == pytest.approx(PAYMENT_HOTSPOT)
    assert analysis.biggest_riser is not None
    assert analysis.biggest_riser.model_dump() == {
        "function": "com.example.PaymentVerticle.sha256",
        "baseline_pct": pytest.approx(5.1),
        "incident_pct": pytest.approx(34.2),
        "delta_pp": pytest.approx(29.1),
    }
    assert analysis.action == (
        "optimise com.example.PaymentVerticle.sha256 (algorithm, caching, async offload)"
    )
    assert analysis.notes == []
    assert analysis.alerts == ["9104213f783bb988"]


async def test_metrics_and_evidence_come_from_both_jobs(enriched: Any) -> None:
    """CPU, heap, GC and threads from the jvm job, requests and latency from vertx-apps."""
    [analysis] = enriched[0].services
    m = analysis.metrics
    assert (m.cpu, m.heap_ratio, m.gc, m.threads) == pytest.approx((0.82, 0.45, 0.012, 24), rel=REL)
    assert (m.req_per_sec, m.error_ratio, m.latency_ms) == pytest.approx((50, 0, 340), rel=REL)
    rows = [
        ("cpu", "cpu", 0.82, 0.3, ">=", True),
        ("gc", "gc", 0.012, 0.03, ">=", False),
        ("heap_ratio", "heap_ratio", 0.45, 0.75, ">=", False),
        ("mutex_pct", "mutex_pct", 4.0, 5.0, ">", False),
        ("latency_ms", "latency_ms", 340, 500, ">", False),
        ("threads", "threads", 24, 60, ">", False),
        ("error_ratio", "error_ratio", 0, 0.02, ">", False),
        ("cpu", "critical_cpu", 0.82, 0.8, ">=", True),
        ("heap_ratio", "critical_heap_ratio", 0.45, 0.85, ">=", False),
        ("gc", "critical_gc", 0.012, 0.1, ">=", False),
    ]
    assert [e.model_dump() for e in analysis.evidence] == [
        {
            "metric": metric,
            "key": key,
            "value": pytest.approx(value, rel=REL, abs=1e-12),
            "threshold": threshold,
            "op": op,
            "crossed": crossed,
        }
        for metric, key, value, threshold, op, crossed in rows
    ]


async def test_top_functions_are_normalised_ranked_and_classified(enriched: Any) -> None:
    """JFR `/` frames read as Java names; top 3 by self with total %, unit and class."""
    [analysis] = enriched[0].services
    cpu = [
        (f.function, round(f.self_pct, 3), round(f.total_pct, 3), f.unit, f.frame_class)
        for f in analysis.top["cpu"]
    ]
    assert cpu == [
        ("com.example.PaymentVerticle.sha256", 34.2, 52.2, "seconds", "app"),
        ("com.example.PaymentVerticle.formatHex", 20.0, 20.0, "seconds", "app"),
        ("java.security.MessageDigest.getInstance", 18.0, 18.0, "seconds", "runtime"),
    ]
    assert analysis.top["cpu"][0].value == pytest.approx(342 * 1e-9)
    assert [(f.function, round(f.self_pct, 3)) for f in analysis.top["mutex"]] == [
        ("com.example.Ledger.append00", 4.0),
        ("com.example.Ledger.append01", 4.0),
        ("com.example.Ledger.append02", 4.0),
    ]
    assert analysis.profile_types == {"cpu": CPU, "alloc": ALLOC, "mutex": MUTEX, "wall": WALL}


async def test_links_open_the_incident_window(enriched: Any) -> None:
    """Flame graph (Explore), diff (Drilldown) and dashboard links carry the exact windows."""
    result, _, now = enriched
    [analysis] = result.services
    start, end = analysis.window.start, analysis.window.end
    assert end == now.replace(microsecond=0) - timedelta(seconds=int(now.timestamp()) % 30)
    assert start == now - timedelta(minutes=17)
    b_start, b_end = start - timedelta(hours=1), end - timedelta(hours=1)
    assert (analysis.baseline_window.start, analysis.baseline_window.end) == (b_start, b_end)
    bs, be, s0, e0 = ms(b_start), ms(b_end), ms(start), ms(end)
    assert analysis.links.diff == (
        "http://grafana.example:3000/a/grafana-pyroscope-app/explore"
        "?explorationType=diff-flame-graph&var-dataSource=pyroscope-ds"
        f"&var-serviceName=bank-payment-service&var-profileMetricId={quote(CPU, safe='')}"
        f"&from={bs}&to={e0}&from-2={bs}&to-2={e0}&from-3={bs}&to-3={e0}"
        f"&diffFrom={bs}&diffTo={be}&diffFrom-2={s0}&diffTo-2={e0}"
    )
    panes = (
        '{"prf":{"datasource":"pyroscope-ds","queries":[{"refId":"A","datasource":'
        '{"type":"grafana-pyroscope-datasource","uid":"pyroscope-ds"},"queryType":"both",'
        f'"profileTypeId":"{CPU}","labelSelector":"{{service_name=\\"bank-payment-service\\"}}",'
        f'"groupBy":[]}}],"range":{{"from":"{ms(start)}","to":"{ms(end)}"}}}}}}'
    )
    assert analysis.links.flame_graph == (
        f"http://grafana.example:3000/explore?schemaVersion=1&panes={quote(panes, safe='')}&orgId=1"
    )
    assert [(d.title, d.url) for d in analysis.links.dashboards] == [
        (
            "JVM overview",
            "http://grafana.example:3000/d/pyroscope-java-overview?orgId=1"
            f"&from={ms(start)}&to={ms(end)}&var-application=bank-payment-service",
        )
    ]
    assert result.links.silence == (
        "http://alertmanager.example:9093/#/silences/new?filter="
        + quote(
            '{alertname="HighCpuUsage", group="vertx", instance="payment-service:9404", '
            'job="jvm", severity="warning", verticle="payment"}',
            safe="",
        )
    )
    assert result.links.runbook_text == (
        "Check Pyroscope CPU flame graph for hot methods. See docs/runbook.md#high-cpu"
    )


async def test_pyroscope_requests_follow_the_connect_rules(enriched: Any) -> None:
    """Tenant header, the exact selector, ms windows: one discovery and 8 flame graphs."""
    result, fake, _ = enriched
    [analysis] = result.services
    paths = [r.path.rsplit("/", 1)[1] for r in fake.requests]
    assert paths.count("Series") == 1
    assert paths.count("SelectMergeStacktraces") == 8
    assert {r.headers["X-Scope-OrgID"] for r in fake.requests} == {"bank"}
    selects = [r.body for r in fake.requests if r.path.endswith("SelectMergeStacktraces")]
    assert {b["labelSelector"] for b in selects} == {'{service_name="bank-payment-service"}'}
    windows = {(b["start"], b["end"]) for b in selects}
    assert windows == {
        (ms(analysis.window.start), ms(analysis.window.end)),
        (ms(analysis.baseline_window.start), ms(analysis.baseline_window.end)),
    }


async def test_a_second_alert_is_served_from_the_cache(
    real_prometheus: RealPrometheus, observed: list[tuple[str, str]]
) -> None:
    """Another alert about the same service in the same 30 s costs no backend request."""
    async with enricher_against(real_prometheus, observed) as (enricher, fake, now):
        first = await enricher.enrich(reference_alert(now - timedelta(minutes=2)))
        asked = len(fake.requests)
        observed.clear()
        second = await enricher.enrich(reference_alert(now - timedelta(minutes=2)))
    assert len(fake.requests) == asked
    assert sorted(set(observed)) == [("prometheus", "cached"), ("pyroscope", "cached")]
    assert second.services[0].hotspot == first.services[0].hotspot


async def test_hostile_instance_reads_only_its_own_series(
    real_prometheus: RealPrometheus, observed: list[tuple[str, str]]
) -> None:
    """An instance built to break PromQL gets its own numbers and a literal Pyroscope selector."""
    async with enricher_against(real_prometheus, observed) as (enricher, fake, now):
        hostile = reference_alert(now - timedelta(minutes=2), f"{HOSTILE_HOST}:9404")
        result = await enricher.enrich(hostile)
    [analysis] = result.services
    expected = real_prometheus.expected(HOSTILE_HOST)
    got = analysis.metrics.model_dump()
    assert {k: pytest.approx(v, rel=REL) for k, v in expected.items()} == got
    assert (analysis.service, analysis.pyroscope_service) == (HOSTILE_HOST, HOSTILE_HOST)
    selects = [r for r in fake.requests if r.path.endswith("SelectMergeStacktraces")]
    assert {tuple(r.matchers) for r in selects} == {(("service_name", "=", HOSTILE_HOST),)}
    assert [f.function for f in analysis.top["cpu"]] == ["com.example.Evil.spin"]


async def test_prometheus_down_is_unknown_never_healthy(
    real_prometheus: RealPrometheus, observed: list[tuple[str, str]]
) -> None:
    """Prometheus down, profiles in, no row holding: UNKNOWN with the reason, never HEALTHY."""
    down = "http://127.0.0.1:9"  # nothing listens there
    async with enricher_against(real_prometheus, observed, down) as (enricher, _, now):
        result = await enricher.enrich(reference_alert(now - timedelta(minutes=2)))
    [analysis] = result.services
    assert [(e.source, e.reason) for e in analysis.errors] == [("prometheus", "connection refused")]
    assert (analysis.verdict, analysis.severity) == ("UNKNOWN", "unknown")
    assert analysis.unseen == ["prometheus unreachable (connection refused)"]
    assert analysis.notes == []
    assert analysis.top["cpu"][0].function == "com.example.PaymentVerticle.sha256"


async def test_pyroscope_down_keeps_the_metric_verdict(
    real_prometheus: RealPrometheus, observed: list[tuple[str, str]]
) -> None:
    """With Pyroscope unreachable the verdict is still CPU-BOUND, hotspot unknown, named."""
    now = real_prometheus.evaluated_at
    enricher = await make_enricher(real_prometheus.url, "http://127.0.0.1:9", now, observed)
    result = await enricher.enrich(reference_alert(now - timedelta(minutes=2)))
    await enricher.aclose()
    [analysis] = result.services
    assert (analysis.verdict, analysis.hotspot, analysis.top) == ("CPU-BOUND", None, {})
    assert [(e.source, e.reason) for e in analysis.errors] == [("pyroscope", "connection refused")]
    assert analysis.unseen == ["pyroscope unreachable (connection refused)"]
    assert analysis.notes == [
        "hotspot unknown: no profile data",
        "partial: pyroscope failed; verdict from the data that arrived",
    ]


async def test_hanging_pyroscope_costs_at_most_the_deadline(
    real_prometheus: RealPrometheus, observed: list[tuple[str, str]]
) -> None:
    """A Pyroscope that never answers is abandoned at the deadline and named in the result."""
    now = real_prometheus.evaluated_at
    async with pyroscope_fake(ms(now), delay_seconds=30) as fake:
        enricher = await make_enricher(
            real_prometheus.url, fake.url, now, observed, deadline=1.0, pyroscope_timeout=20
        )
        started = time.monotonic()
        result = await enricher.enrich(reference_alert(now - timedelta(minutes=2)))
        took = time.monotonic() - started
        await enricher.aclose()
    [analysis] = result.services
    assert took < 1.0 + 2.0  # the deadline plus a generous margin for a shared machine
    assert [(e.source, e.reason) for e in analysis.errors] == [
        ("pyroscope", "no answer within the 1 s deadline")
    ]
    assert (analysis.verdict, analysis.metrics.cpu) == ("CPU-BOUND", pytest.approx(0.82, rel=REL))
