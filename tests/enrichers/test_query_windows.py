"""Pyroscope query windows are `times.epoch_ms` of the window, wherever they are computed.

Enrichment, `triage` and `top` send the same milliseconds the links carry; a naive time is
UTC for both, whatever the machine's time zone (here New York, five hours behind UTC).
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import httpx
import pytest

from enrichers.analysis import GroupEnricher
from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient
from enrichers.result import Window
from enrichers.settings import (
    EnrichmentSettings,
    GrafanaSettings,
    PrometheusSettings,
    PyroscopeSettings,
)
from enrichers.targets import service_target
from receiver.commands.top import run_top
from receiver.commands.triage import run_triage
from receiver.models import WebhookPayload
from tests.conftest import load_payload
from tests.fakes.prometheus import empty_vector, pyroscope_only
from tests.fakes.pyroscope import FakePyroscope

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
NAIVE_NOW = datetime(2026, 11, 25, 17, 15)  # 17:15 UTC; 12:15 in New York
INCIDENT_MS = (1795626000000, 1795626900000)  # 17:00-17:15 UTC
BASELINE_MS = (1795622400000, 1795623300000)  # 16:00-16:15 UTC


@pytest.fixture
def new_york() -> Iterator[None]:
    """The process runs in New York time for the test, and back after it."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.fixture
async def fake() -> AsyncIterator[FakePyroscope]:
    """A Java service: the agent's `pyroscope_spy` tells its runtime."""
    stacks = {("main", "work"): 9, ("main",): 1}
    labels = {"checkout": {"pyroscope_spy": "javaspy"}}
    async with FakePyroscope({"checkout": {CPU: stacks}}, labels=labels) as fake:
        yield fake


@pytest.fixture
async def enricher(fake: FakePyroscope) -> AsyncIterator[GroupEnricher]:
    enricher = pyroscope_only(fake.url)
    yield enricher
    await enricher.aclose()


def windows(fake: FakePyroscope, method: str) -> list[tuple[int, int]]:
    bodies = [r.body for r in fake.requests if r.path.endswith("/" + method)]
    return sorted((body["start"], body["end"]) for body in bodies)


@pytest.mark.usefixtures("new_york")
async def test_enrichment_reads_a_naive_window_as_utc(
    enricher: GroupEnricher, fake: FakePyroscope
) -> None:
    """Discovery spans baseline start to incident end; each graph asks its own window."""
    incident = Window(start=NAIVE_NOW - timedelta(minutes=15), end=NAIVE_NOW)
    baseline = Window(start=incident.start - timedelta(hours=1), end=NAIVE_NOW - timedelta(hours=1))
    target = service_target("checkout", enricher.settings)
    analysis = await enricher.analyze(target, incident, baseline)
    assert analysis.errors == []
    assert windows(fake, "Series") == [(BASELINE_MS[0], INCIDENT_MS[1])]
    assert windows(fake, "SelectMergeStacktraces") == [BASELINE_MS, INCIDENT_MS]
    assert analysis.links.flame_graph is not None
    assert '"range":{"from":"1795626000000","to":"1795626900000"}' in unquote(
        analysis.links.flame_graph
    )


@pytest.mark.usefixtures("new_york")
async def test_top_reads_a_naive_now_as_utc(enricher: GroupEnricher, fake: FakePyroscope) -> None:
    """`top` asks for the last 15 minutes before 17:15 UTC."""
    result = await run_top(enricher, "cpu", "checkout", n=3, now=NAIVE_NOW)
    assert (result.failure, result.profile_type) == (None, CPU)
    assert windows(fake, "Series") == [INCIDENT_MS]
    assert windows(fake, "SelectMergeStacktraces") == [INCIDENT_MS]


@pytest.mark.usefixtures("new_york")
async def test_triage_lists_services_for_a_naive_now_in_utc(
    enricher: GroupEnricher, fake: FakePyroscope
) -> None:
    """`triage` lists the services of the last 15 minutes before 17:15 UTC."""
    triage = await run_triage(enricher, service=None, now=NAIVE_NOW)
    assert [a.service for a in triage.analyses] == ["checkout"]
    assert windows(fake, "LabelValues") == [INCIDENT_MS]


async def test_a_storm_across_a_30_s_boundary_asks_each_query_once(fake: FakePyroscope) -> None:
    """Alerts straddling :00/:30 share one window and one round of requests per service."""
    # Firing alerts about one service at 17:00:29 and 17:00:31 share one window (ending
    # 17:00:00) and one round of requests (the jvm preset's 7 queries, once the metric names
    # the runtime detection asks for); at 17:00:59, 30 s after the first, a new window
    # (17:00:30). A resolve in between keeps its own window end.
    prometheus_calls: list[str] = []

    def vector(request: httpx.Request) -> httpx.Response:
        prometheus_calls.append(request.content.decode())
        return empty_vector(request)

    now = [datetime(2026, 11, 25, 17, 0, 29, tzinfo=UTC)]
    enricher = GroupEnricher(
        EnrichmentSettings(),
        GrafanaSettings(),
        PrometheusClient(
            PrometheusSettings(url="http://prometheus.invalid"),
            transport=httpx.MockTransport(vector),
        ),
        PyroscopeClient(PyroscopeSettings(url=fake.url)),
        clock=lambda: now[0],
    )

    async def window_end(resolved_at: datetime | None = None) -> tuple[datetime, int, int]:
        body = load_payload("reference-highcpuusage.json")
        body["alerts"][0]["labels"]["service"] = "checkout"
        if resolved_at is not None:
            body["status"] = body["alerts"][0]["status"] = "resolved"
            body["alerts"][0]["endsAt"] = resolved_at.isoformat()
        result = await enricher.enrich(WebhookPayload.model_validate(body))
        (analysis,) = result.services
        return analysis.window.end, len(prometheus_calls), len(fake.requests)

    try:
        first = await window_end()
        assert first == (datetime(2026, 11, 25, 17, 0, tzinfo=UTC), 8, 3)
        now[0] += timedelta(seconds=2)
        assert await window_end() == first  # nothing asked again
        # A resolve ends its window at its endsAt (17:00:30), sticky firing window or not.
        resolved = await window_end(resolved_at=now[0])
        assert resolved == (datetime(2026, 11, 25, 17, 0, 30, tzinfo=UTC), 15, 5)
        now[0] += timedelta(seconds=28)  # 17:00:59: a firing alert's new window, cached
        assert await window_end() == resolved
    finally:
        await enricher.aclose()
