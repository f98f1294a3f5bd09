"""Prometheus answers for `httpx.MockTransport`, where a real Prometheus adds nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from enrichers.analysis import GroupEnricher
from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient
from enrichers.settings import (
    EnrichmentSettings,
    GrafanaSettings,
    PrometheusSettings,
    PyroscopeSettings,
)


def empty_vector(request: httpx.Request) -> httpx.Response:
    """A successful instant query that matched no series."""
    body = {"status": "success", "data": {"resultType": "vector", "result": []}}
    return httpx.Response(200, json=body)


def pyroscope_only(
    pyroscope_url: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> GroupEnricher:
    """An enricher reading profiles from `pyroscope_url`, its Prometheus without any series."""
    prometheus = PrometheusClient(
        PrometheusSettings(url="http://prometheus.invalid"),
        transport=httpx.MockTransport(empty_vector),
    )
    pyroscope = PyroscopeClient(PyroscopeSettings(url=pyroscope_url))
    return GroupEnricher(
        EnrichmentSettings(), GrafanaSettings(), prometheus, pyroscope, clock=clock
    )
