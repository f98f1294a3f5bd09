"""The whole enrichment of the reference alert against a Pyroscope without the Connect API.

A real Prometheus and the strict fake Pyroscope serving only the legacy HTTP API
(`/pyroscope/label-values`, `/pyroscope/render`): after one Connect 404, profile types and
flame graphs come from the legacy routes, and the alert is still CPU-BOUND on sha256.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from tests.enrichers.test_enrichment_real import (
    ALLOC,
    CPU,
    MUTEX,
    WALL,
    make_enricher,
    ms,
    pyroscope_fake,
    reference_alert,
)
from tests.fakes.pyroscope import FakePyroscope
from tests.support.harness import PAYMENT_HOTSPOT
from tests.support.prometheus import RealPrometheus


@pytest.fixture
async def enriched(real_prometheus: RealPrometheus) -> AsyncIterator[tuple[Any, FakePyroscope]]:
    """The reference alert enriched two minutes after it fired, on the legacy-only fake."""
    now = real_prometheus.evaluated_at
    async with pyroscope_fake(ms(now), connect=False, legacy_render=True) as fake:
        enricher = await make_enricher(real_prometheus.url, fake.url, now, [])
        try:
            result = await enricher.enrich(reference_alert(now - timedelta(minutes=2)))
        finally:
            await enricher.aclose()
        yield result, fake


async def test_reference_alert_keeps_its_cpu_hotspot(enriched: Any) -> None:
    """CPU-BOUND, sha256 at 34.2% of CPU self-time (5.1% before), no Pyroscope error."""
    result, _ = enriched
    [analysis] = result.services
    assert (analysis.verdict, analysis.severity, analysis.errors) == ("CPU-BOUND", "critical", [])
    assert analysis.notes == []
    assert analysis.hotspot is not None
    assert analysis.hotspot.model_dump() == pytest.approx(PAYMENT_HOTSPOT)
    assert analysis.profile_types == {"cpu": CPU, "alloc": ALLOC, "mutex": MUTEX, "wall": WALL}
    assert [f.function for f in analysis.top["cpu"]] == [
        "com.example.PaymentVerticle.sha256",
        "com.example.PaymentVerticle.formatHex",
        "java.security.MessageDigest.getInstance",
    ]


async def test_only_legacy_routes_are_asked_after_the_first_404(enriched: Any) -> None:
    """One Connect Series (404), then one profile-type listing and 8 legacy renders."""
    result, fake = enriched
    [analysis] = result.services
    paths = [r.path for r in fake.requests]
    assert paths == [
        "/querier.v1.QuerierService/Series",
        "/pyroscope/label-values",
        *["/pyroscope/render"] * 8,
    ]
    assert fake.requests[1].query == {"label": "__name__"}
    assert {r.headers["X-Scope-OrgID"] for r in fake.requests} == {"bank"}
    renders = [r.query for r in fake.requests[2:]]
    windows = {(int(q["from"]), int(q["until"])) for q in renders}
    assert windows == {
        (ms(analysis.window.start), ms(analysis.window.end)),
        (ms(analysis.baseline_window.start), ms(analysis.baseline_window.end)),
    }
    assert sorted({q["query"] for q in renders}) == [
        f'{ptype}{{service_name="bank-payment-service"}}'
        for ptype in sorted((CPU, ALLOC, MUTEX, WALL))
    ]
