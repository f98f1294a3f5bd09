"""A simulated Grafana Pyroscope: the Connect querier routes flamebot uses, from a Scenario.

`POST /querier.v1.QuerierService/<Method>` with a JSON body, for `ProfileTypes`,
`LabelValues`, `Series` and `SelectMergeStacktraces`; answers are proto3 JSON (int64 as
strings, zero values omitted) and errors are Connect errors (`{"code", "message"}`).
Flame graphs are encoded by `enrichers.flamegraph.encode_flamegraph` from the scenario's
folded stacks: a window that ends more than `BASELINE_BEFORE` before the simulation's clock
gets the baseline stacks, any later window the incident stacks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiohttp import web

from receiver.demo.folded import encode_flamegraph
from receiver.demo.matchers import Matcher, MatcherError, find_matchers
from receiver.demo.record import RequestLog
from receiver.demo.scenario import PROFILE_TYPES, Scenario

__all__ = ["BASELINE_BEFORE", "QUERIER", "SimulatedPyroscope"]

QUERIER = "/querier.v1.QuerierService/"
BASELINE_BEFORE = timedelta(minutes=30)
Series = dict[str, str]


class _ConnectError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _invalid(message: str) -> _ConnectError:
    return _ConnectError(400, "invalid_argument", message)


def _millis(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _invalid(f"{key}: expected an int64 in milliseconds")


def _window(body: dict[str, Any]) -> tuple[int, int]:
    start, end = _millis(body, "start"), _millis(body, "end")
    if start >= end:
        raise _invalid("start must be before end")
    return start, end


def _selectors(raw: Any) -> list[list[Matcher]]:
    if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
        raise _invalid("matchers: expected a list of strings")
    return [find_matchers(text) for text in raw] or [[]]


class SimulatedPyroscope:
    def __init__(self, scenario: Scenario, clock: Callable[[], float] = time.time) -> None:
        self.scenario = scenario
        self.log = RequestLog()
        self._clock = clock

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.log.middleware()])
        app.router.add_post(QUERIER + "{method}", self._handle)
        return app

    def series(self) -> list[Series]:
        """One label set per (service, profile type) with samples in some window."""
        found = []
        for service in self.scenario.services.values():
            for kind, profile in service.profiles.items():
                if profile.stacks(incident=True) or profile.stacks(incident=False):
                    ptype = PROFILE_TYPES[kind]
                    found.append(
                        {
                            "__name__": ptype.split(":")[0],
                            "__profile_type__": ptype,
                            "service_name": service.pyroscope_service,
                        }
                    )
        return found

    async def _handle(self, request: web.Request) -> web.Response:
        handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "ProfileTypes": self._profile_types,
            "LabelValues": self._label_values,
            "Series": self._series,
            "SelectMergeStacktraces": self._select_merge_stacktraces,
        }
        method = request.match_info["method"]
        try:
            if method not in handlers:
                raise _ConnectError(404, "unimplemented", f"{method} is not implemented")
            try:
                body = json.loads(await request.read())
            except ValueError:
                raise _invalid("request body is not JSON") from None
            if not isinstance(body, dict):
                raise _invalid("request body is not a JSON object")
            return web.json_response(handlers[method](body))
        except MatcherError as exc:
            return web.json_response({"code": "invalid_argument", "message": str(exc)}, status=400)
        except _ConnectError as exc:
            return web.json_response({"code": exc.code, "message": exc.message}, status=exc.status)

    def _matching(self, selectors: list[list[Matcher]]) -> list[Series]:
        return [
            s for s in self.series() if any(all(m.matches(s) for m in sel) for sel in selectors)
        ]

    def _profile_types(self, body: dict[str, Any]) -> dict[str, Any]:
        _window(body)
        ids = sorted({s["__profile_type__"] for s in self.series()})
        return {"profileTypes": [{"ID": ptype} for ptype in ids]} if ids else {}

    def _label_values(self, body: dict[str, Any]) -> dict[str, Any]:
        _window(body)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise _invalid("name: a label name is required")
        values = {
            s[name] for s in self._matching(_selectors(body.get("matchers", []))) if name in s
        }
        return {"names": sorted(values)} if values else {}

    def _series(self, body: dict[str, Any]) -> dict[str, Any]:
        _window(body)
        wanted = body.get("labelNames") or []
        sets: list[list[dict[str, str]]] = []
        for series in self._matching(_selectors(body.get("matchers", []))):
            labels = [
                {"name": k, "value": v}
                for k, v in sorted(series.items())
                if k in wanted or not wanted
            ]
            if labels not in sets:
                sets.append(labels)
        return {"labelsSet": [{"labels": labels} for labels in sets]} if sets else {}

    def _select_merge_stacktraces(self, body: dict[str, Any]) -> dict[str, Any]:
        _, end = _window(body)
        ptype = body.get("profileTypeID")
        if not isinstance(ptype, str) or len(ptype.split(":")) != 5:
            raise _invalid(f"profile-type selection must have 5 parts, got {ptype!r}")
        selector = body.get("labelSelector")
        if not isinstance(selector, str):
            raise _invalid("labelSelector: expected a string")
        names = {s["service_name"] for s in self._matching([find_matchers(selector)])}
        incident = end > (self._clock() - BASELINE_BEFORE.total_seconds()) * 1000
        merged: dict[tuple[str, ...], int] = {}
        for service in self.scenario.services.values():
            kind = next((k for k, p in PROFILE_TYPES.items() if p == ptype), None)
            profile = service.profiles.get(kind) if kind is not None else None
            if service.pyroscope_service in names and profile is not None:
                for stack, value in profile.stacks(incident).items():
                    merged[stack] = merged.get(stack, 0) + value
        graph = encode_flamegraph(merged)
        return {"flamegraph": graph} if graph else {}
