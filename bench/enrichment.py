"""How long enrichment takes against backends that answer in L ms, and what a storm costs.

Run by hand: `.venv/bin/python bench/enrichment.py [--latency-ms 50] [--storm 200]`.

Every backend request (Prometheus query, Pyroscope Series / SelectMergeStacktraces) sleeps
L ms before answering. The baseline measured in the same run is one such request alone;
the report prints each case as a ratio to it:
  - cold alert: profile-type discovery, then every query at once -> about 2 round trips;
  - warm alert (same service, same 30 s): served from the cache -> close to 0;
  - a storm of N alerts about 8 services at once: requests per service, not per alert.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx

from enrichers.analysis import GroupEnricher
from enrichers.folded import encode_flamegraph
from enrichers.prometheus import PrometheusClient
from enrichers.pyroscope import PyroscopeClient
from enrichers.settings import (
    EnrichmentSettings,
    GrafanaSettings,
    PrometheusSettings,
    PyroscopeSettings,
)
from receiver.models import WebhookPayload

NOW = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
TYPES = [
    "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
    "memory:alloc_in_new_tlab_bytes:bytes:space:bytes",
    "mutex:contentions:count:mutex:count",
    "wall:wall:nanoseconds:wall:nanoseconds",
]
STACKS = {("java/lang/Thread.run", "com/example/App.work"): 70, ("java/lang/Thread.run",): 30}
SERVICES = [f"service-{i}" for i in range(8)]


class Backends:
    """Both backends behind httpx.MockTransport, each request delayed, each one counted."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.requests: Counter[str] = Counter()

    async def prometheus(self, request: httpx.Request) -> httpx.Response:
        self.requests["prometheus"] += 1
        await asyncio.sleep(self.latency)
        parse_qs(request.content.decode())  # a real server parses the form too
        body = {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [{"metric": {}, "value": [NOW.timestamp(), "0.1"]}],
            },
        }
        return httpx.Response(200, content=json.dumps(body))

    async def pyroscope(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[1]
        self.requests[f"pyroscope {method}"] += 1
        await asyncio.sleep(self.latency)
        if method == "Series":
            labels = [{"labels": [{"name": "__profile_type__", "value": t}]} for t in TYPES]
            return httpx.Response(200, content=json.dumps({"labelsSet": labels}))
        return httpx.Response(200, content=json.dumps({"flamegraph": encode_flamegraph(STACKS)}))


def enricher(backends: Backends) -> GroupEnricher:
    return GroupEnricher(
        EnrichmentSettings(),
        GrafanaSettings(),
        PrometheusClient(PrometheusSettings(), transport=httpx.MockTransport(backends.prometheus)),
        PyroscopeClient(PyroscopeSettings(), transport=httpx.MockTransport(backends.pyroscope)),
        clock=lambda: NOW,
    )


def alert(service: str, n: int = 0) -> WebhookPayload:
    starts = (NOW - timedelta(minutes=2)).isoformat()
    return WebhookPayload.model_validate(
        {
            "status": "firing",
            "groupKey": f'{{}}:{{alertname="HighCpuUsage", n="{n}", service="{service}"}}',
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "HighCpuUsage", "service": service, "n": str(n)},
                    "startsAt": starts,
                    "fingerprint": f"{n:016x}",
                }
            ],
        }
    )


async def timed(coro: Any) -> float:
    started = time.perf_counter()
    await coro
    return time.perf_counter() - started


async def main(latency_ms: float, storm: int) -> None:
    latency = latency_ms / 1000
    backends = Backends(latency)
    baseline = await timed(backends.prometheus(httpx.Request("POST", "http://x", content=b"")))
    backends.requests.clear()
    print(f"baseline: one backend request = {baseline * 1000:.1f} ms")

    cold_enricher = enricher(backends)
    cold = await timed(cold_enricher.enrich(alert("service-0")))
    print(
        f"cold alert:  {cold * 1000:7.1f} ms  = {cold / baseline:5.2f} x baseline"
        f"  ({sum(backends.requests.values())} requests)"
    )
    backends.requests.clear()
    warm = await timed(cold_enricher.enrich(alert("service-0", 1)))
    print(
        f"warm alert:  {warm * 1000:7.1f} ms  = {warm / baseline:5.2f} x baseline"
        f"  ({sum(backends.requests.values())} requests)"
    )
    await cold_enricher.aclose()

    storm_backends = Backends(latency)
    storm_enricher = enricher(storm_backends)
    alerts = [alert(SERVICES[i % len(SERVICES)], i) for i in range(storm)]
    took = await timed(asyncio.gather(*(storm_enricher.enrich(a) for a in alerts)))
    total = sum(storm_backends.requests.values())
    print(
        f"storm of {storm} alerts over {len(SERVICES)} services: {took * 1000:7.1f} ms"
        f" = {took / baseline:5.2f} x baseline; {total} backend requests"
        f" = {total / len(SERVICES):.1f} per service, {total / storm:.2f} per alert"
    )
    for name, count in sorted(storm_backends.requests.items()):
        print(f"  {name:40s} {count}")
    await storm_enricher.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--storm", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.latency_ms, args.storm))
