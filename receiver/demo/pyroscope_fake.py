"""A strict fake of Grafana Pyroscope's query API: the demo's simulation, the tests' and the
benchmarks' Pyroscope. A small aiohttp app; one copy of the rules.

Requests are validated like the real server does (pyroscope-api.md §1.4): JSON bodies with
known fields only, 5-part profile type IDs, label selectors parsed by a strict matcher
parser (Go string escapes, `receiver.demo.matchers`), start/end in milliseconds, the tenant
(`X-Scope-OrgID`) when one is set. Answers are proto3 JSON: int64 as strings, zero values
omitted. A profile type the selected services lack is an empty graph, as on the real server;
one no service has at all is refused. Every request is recorded twice: in `requests` (body,
headers, matchers) and in `log` (method, path, status).

`connect=False` removes the Connect routes (404); `legacy_render=True` adds the legacy HTTP
API (§1.1-1.2): `GET /pyroscope/render` and `GET /pyroscope/label-values?label=<name>`,
where `label` is required (400, plain text), `__name__` lists every profile type ID of the
server (it cannot be filtered by service) and an empty list is `null`, as Go encodes it.

    fake = FakePyroscope({"checkout": {CPU: {("main", "work"): 90, ("main",): 10}}})
    fake = FakePyroscope.of_agents({"checkout": ("go", {"cpu": stacks})})  # as pyroscope-go
    async with fake:  # 127.0.0.1, a free port; or aiohttp_server(fake.app())
        ... fake.url ...
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict

from enrichers.result import ProfileKind
from receiver.demo.matchers import Matcher
from receiver.demo.pyroscope_checks import (
    FIELDS,
    QUERIER,
    RECORD,
    RecordedRequest,
    RejectError,
    check_profile_type,
    check_selector,
    check_window,
    connect_error,
    invalid,
    read_connect_body,
)
from receiver.demo.pyroscope_data import AGENTS, Source, flamegraph_of, render_body
from receiver.demo.pyroscope_diff import add_diff_routes
from receiver.demo.record import RequestLog

__all__ = ["QUERIER", "FakePyroscope", "RecordedRequest"]

_PARTS = ("name", "sampleType", "sampleUnit", "periodType", "periodUnit")


class FakePyroscope:
    """Services `{service_name: {profile_type_id: source}}`; `labels` adds series labels."""

    def __init__(
        self,
        services: Mapping[str, Mapping[str, Source]] | None = None,
        *,
        labels: Mapping[str, Mapping[str, str]] | None = None,
        tenant: str = "",
        delay_seconds: float = 0.0,
        fail_with: int | None = None,
        fail_message: str = "fake failure: injected by the test",
        garbage: bytes | None = None,
        connect: bool = True,
        legacy_render: bool = False,
    ) -> None:
        self.services = dict(services or {})
        self.labels = {name: dict(extra) for name, extra in (labels or {}).items()}
        self.tenant = tenant
        self.delay_seconds = delay_seconds
        self.fail_with = fail_with  # answer every request with this status and a Connect error
        self.fail_message = fail_message
        self.garbage = garbage  # answer every request 200 with these bytes
        self.connect = connect
        self.legacy_render = legacy_render
        self.requests: list[RecordedRequest] = []
        self.log = RequestLog()
        self._runner: web.AppRunner | None = None
        self.url = ""

    @classmethod
    def of_agents(
        cls,
        fleet: Mapping[str, tuple[str, Mapping[ProfileKind, Source]]],
        **knobs: Any,
    ) -> FakePyroscope:
        """Services as each runtime's agent writes them (`AGENTS`): its profile type IDs
        and its `pyroscope_spy`: `{service: (runtime, {kind: source})}`."""
        services, labels = {}, {}
        for service, (runtime, profiles) in fleet.items():
            agent = AGENTS[runtime]
            services[service] = {agent.profile_types[k]: source for k, source in profiles.items()}
            labels[service] = {"pyroscope_spy": agent.spy}
        return cls(services, labels=labels, **knobs)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.log.middleware(), self._record])
        add_diff_routes(self, app)  # Connect Diff and the legacy render-diff
        if self.connect:
            app.router.add_post(QUERIER + "{method}", self._handle_connect)
        if self.legacy_render:
            app.router.add_get("/pyroscope/render", self._handle_render)
            app.router.add_get("/pyroscope/label-values", self._handle_label_values)
        return app

    async def __aenter__(self) -> FakePyroscope:
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def series(self) -> list[dict[str, str]]:
        """Every (service, profile type) series as its label set."""
        return [
            {
                **self.labels.get(service, {}),
                "service_name": service,
                "__profile_type__": ptype,
                "__name__": ptype.split(":")[0],
            }
            for service, profiles in self.services.items()
            for ptype in profiles
        ]

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record every request, the ones without a route (404) included."""
        headers, query = CIMultiDict(request.headers), dict(request.query)
        request[RECORD] = RecordedRequest(request.method, request.path, headers, query)
        self.requests.append(request[RECORD])
        return await handler(request)

    async def _handle_connect(self, request: web.Request) -> web.Response:
        record: RecordedRequest = request[RECORD]
        method = request.match_info["method"]
        try:
            await self._gate(request)
            if method not in FIELDS:
                raise RejectError(404, "unimplemented", f"{method} is not implemented")
            record.body = await read_connect_body(request)
            if unknown := set(record.body) - FIELDS[method]:
                raise invalid(f"unknown field {sorted(unknown)[0]!r}")
            answer = getattr(self, f"_{method}")(record.body, record)
        except RejectError as reject:
            return connect_error(reject)
        if self.garbage is not None:
            return web.Response(body=self.garbage, content_type="application/json")
        return web.json_response(answer)

    async def _gate(self, request: web.Request) -> None:
        """The knobs and the tenant check, before any validation."""
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.fail_with is not None:
            raise RejectError(self.fail_with, "internal", self.fail_message)
        if self.tenant and request.headers.get("X-Scope-OrgID") != self.tenant:
            raise RejectError(401, "unauthenticated", "no org id")

    def _matching(self, matchers: Sequence[Matcher]) -> list[dict[str, str]]:
        return [s for s in self.series() if all(m.matches(s) for m in matchers)]

    def _selectors(self, body: Mapping[str, Any], record: RecordedRequest) -> list[list[Matcher]]:
        raw = body.get("matchers", [])
        if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
            raise invalid("matchers: expected a list of strings")
        selectors = [check_selector(text) for text in raw]
        record.matchers = [m for selector in selectors for m in selector]
        return selectors or [[]]

    def _ProfileTypes(self, body: Mapping[str, Any], record: RecordedRequest) -> dict[str, Any]:
        check_window(body)
        types = []
        for ptype in sorted({s["__profile_type__"] for s in self.series()}):
            parts = dict(zip(_PARTS, ptype.split(":"), strict=True))
            types.append({"ID": ptype, **{k: v for k, v in parts.items() if v}})
        return {"profileTypes": types} if types else {}

    def _LabelValues(self, body: Mapping[str, Any], record: RecordedRequest) -> dict[str, Any]:
        check_window(body)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("name: a label name is required")
        found = {
            s[name]
            for sel in self._selectors(body, record)
            for s in self._matching(sel)
            if s.get(name)
        }
        return {"names": sorted(found)} if found else {}

    def _Series(self, body: Mapping[str, Any], record: RecordedRequest) -> dict[str, Any]:
        check_window(body)
        wanted = body.get("labelNames", [])
        if not isinstance(wanted, list) or not all(isinstance(n, str) for n in wanted):
            raise invalid("labelNames: expected a list of strings")
        sets: list[list[dict[str, str]]] = []
        for selector in self._selectors(body, record):
            for series in self._matching(selector):
                labels = [
                    {"name": k, "value": v}
                    for k, v in sorted(series.items())
                    if not wanted or k in wanted
                ]
                if labels not in sets:
                    sets.append(labels)
        return {"labelsSet": [{"labels": labels} for labels in sets]} if sets else {}

    def _select(
        self, ptype: str, selector: str, window: tuple[int, int], record: RecordedRequest
    ) -> Any:
        """The flame graph object served for a query: `{}` when no selected service has it."""
        record.matchers = check_selector(selector)
        if ptype not in {s["__profile_type__"] for s in self.series()}:
            raise invalid(f"unknown profile type {ptype!r}")
        services = {s["service_name"] for s in self._matching(record.matchers)}
        for service in self.services:
            if service in services and ptype in self.services[service]:
                return flamegraph_of(self.services[service][ptype], service, ptype, window)
        return {}

    def _SelectMergeStacktraces(self, body: Mapping[str, Any], record: RecordedRequest) -> Any:
        window = check_window(body)
        ptype = check_profile_type(body.get("profileTypeID"))
        selector = body.get("labelSelector")
        if not isinstance(selector, str):
            raise invalid("labelSelector: expected a string")
        graph = self._select(ptype, selector, window, record)
        return {"flamegraph": graph} if graph else {}

    async def _handle_render(self, request: web.Request) -> web.Response:
        try:
            await self._gate(request)
            query = request.query.get("query", "")
            if "{" not in query:
                raise invalid('"query" must contain a profile-type selection')
            ptype, selector = query[: query.index("{")], query[query.index("{") :]
            window = check_window(
                {"start": request.query.get("from"), "end": request.query.get("until")}
            )
            graph = self._select(check_profile_type(ptype), selector, window, request[RECORD])
        except RejectError as reject:
            return connect_error(reject)
        return web.json_response(render_body(graph, ptype))

    async def _handle_label_values(self, request: web.Request) -> web.Response:
        """`label=__name__`: the server's profile type IDs; any other label: its values."""
        try:
            await self._gate(request)
        except RejectError as reject:
            return connect_error(reject)
        label = request.query.get("label", "")
        if not label:
            return web.Response(status=400, text="label parameter is required\n")
        key = "__profile_type__" if label == "__name__" else label
        values = sorted({s[key] for s in self.series() if s.get(key)})
        return web.json_response(values or None)
