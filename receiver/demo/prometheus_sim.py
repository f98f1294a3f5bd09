"""A simulated Prometheus: `/api/v1/query` answers the jvm preset's queries from a Scenario,
`/api/v1/label/__name__/values` the metric names a selector has (runtime detection).

Not a PromQL engine. A query is recognised by the metric it is about (the first rule of
`RULES` whose marker it contains) and its label matchers (`instance=~"<host>(:[0-9]+)?"`,
`job`, `namespace`, ...) pick the targets; each matching target answers with the scenario's
number for its service. Every service has two targets, as in the reference deployment: the
JMX exporter (`job="jvm"`, port 9404) and the Vert.x metrics (`job="vertx-apps"`, 8080).
Answers are Prometheus' instant-vector JSON; an unrecognised query is an empty vector.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from enrichers.settings import MetricName
from receiver.demo.matchers import MatcherError, find_matchers
from receiver.demo.record import RequestLog
from receiver.demo.scenario import Scenario, SimulatedService

__all__ = ["RULES", "SimulatedPrometheus"]

# (marker in the query, metric, job whose targets expose it), first match wins.
RULES: tuple[tuple[str, MetricName, str], ...] = (
    ("jvm_memory_used_bytes", "heap_ratio", "jvm"),
    ("jvm_gc_collection_seconds_sum", "gc", "jvm"),
    ("jvm_threads_current", "threads", "jvm"),
    ("process_cpu_seconds_total", "cpu", "jvm"),
    ("vertx_http_server_response_time_seconds_sum", "latency_ms", "vertx-apps"),
    ('code=~"5.."', "error_ratio", "vertx-apps"),
    ("vertx_http_server_requests_total", "req_per_sec", "vertx-apps"),
)
PORTS = {"jvm": 9404, "vertx-apps": 8080}
# The metric names of the rules, each with the job whose targets expose it.
METRIC_NAMES = tuple((marker, job) for marker, _, job in RULES if "=" not in marker)
SERIES_LABELS = frozenset({"__name__", "area", "code", "gc", "method", "route"})


def _number(value: float) -> str:
    """A sample value as Prometheus writes it: `24`, `0.82`, `NaN`."""
    if math.isnan(value):
        return "NaN"
    return str(int(value)) if value.is_integer() else repr(value)


def _error(status: int, kind: str, message: str) -> web.Response:
    body = {"status": "error", "errorType": kind, "error": message}
    return web.json_response(body, status=status)


class SimulatedPrometheus:
    def __init__(self, scenario: Scenario, clock: Callable[[], float] = time.time) -> None:
        self.scenario = scenario
        self.log = RequestLog()
        self._clock = clock

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.log.middleware()])
        app.router.add_get("/api/v1/query", self._query)
        app.router.add_post("/api/v1/query", self._query)
        app.router.add_get("/api/v1/label/__name__/values", self._metric_names)
        return app

    async def _metric_names(self, request: web.Request) -> web.Response:
        """The names of the metrics whose targets match every `match[]` selector."""
        try:
            selectors = [find_matchers(text) for text in request.query.getall("match[]", [])]
        except MatcherError as exc:
            return _error(400, "bad_data", str(exc))
        names = {
            metric
            for target, _ in self._targets()
            for metric, job in METRIC_NAMES
            if job == target["job"] and all(m.matches(target) for s in selectors for m in s)
        }
        return web.json_response({"status": "success", "data": sorted(names)})

    async def _query(self, request: web.Request) -> web.Response:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            params.update(await request.post())
        query = params.get("query")
        if not isinstance(query, str) or not query.strip():
            return _error(400, "bad_data", 'invalid parameter "query": no query given')
        try:
            at = float(params["time"]) if params.get("time") else self._clock()
        except ValueError:
            reason = f'invalid parameter "time": cannot parse {params["time"]!r}'
            return _error(400, "bad_data", reason)
        try:
            result = self.evaluate(query)
        except MatcherError as exc:
            return _error(400, "bad_data", str(exc))
        vector = [{"metric": labels, "value": [at, _number(value)]} for labels, value in result]
        return web.json_response(
            {"status": "success", "data": {"resultType": "vector", "result": vector}}
        )

    def evaluate(self, query: str) -> list[tuple[dict[str, str], float]]:
        """The (labels, value) samples of `query`, one per matching target."""
        rule = next((r for r in RULES if r[0] in query), None)
        if rule is None:
            return []
        _, metric, job = rule
        matchers = [m for m in find_matchers(query) if m.name not in SERIES_LABELS]
        samples = []
        for target, service in self._targets():
            if target["job"] == job and all(m.matches(target) for m in matchers):
                labels = {"instance": target["instance"]} if "by (instance)" in query else target
                samples.append((labels, float(getattr(service.health, metric))))
        return samples

    def _targets(self) -> list[tuple[dict[str, str], SimulatedService]]:
        """Both scrape targets of every service, as the reference deployment labels them."""
        return [
            (
                {
                    "group": "vertx",
                    "instance": f"{host}:{port}",
                    "job": job,
                    "verticle": service.verticle,
                },
                service,
            )
            for host, service in self.scenario.services.items()
            for job, port in PORTS.items()
        ]
