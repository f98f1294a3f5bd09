"""Grafana Pyroscope client: profile types, services and flame graphs over the Connect API.

Thin I/O around pure parsers (`enrichers.flamegraph`). One `httpx.AsyncClient` per client,
JSON over `POST /querier.v1.QuerierService/<Method>` with times in milliseconds. The first
404 on a Connect route means the server has no Connect API; from then on every query uses
the legacy HTTP API (pyroscope-api.md §1.1-1.2): `GET /pyroscope/render` for flame graphs,
`GET /pyroscope/label-values?label=service_name` for services and `label=__name__` for
profile types. That route takes no matchers and no window, so the profile types are the
server's, not the service's: a graph of a type the service lacks simply comes back empty.
Every failure is a `BackendError("pyroscope", reason)` whose reason never holds the tenant
or a credential.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import httpx

from enrichers.clients.backend_http import backend_client, credentials, transport_reason
from enrichers.errors import BackendError, BackendTimeoutError
from enrichers.flamegraph import FlameGraph, parse_connect, parse_render
from enrichers.promql import label_selector
from enrichers.settings import PyroscopeSettings

__all__ = [
    "PyroscopeClient",
    "ServiceProfiles",
    "label_selector",
    "parse_label_values",
    "parse_legacy_label_values",
    "parse_profile_types",
    "parse_series_points",
    "parse_service_profile_types",
]

BACKEND = "pyroscope"
QUERIER = "/querier.v1.QuerierService/"
RENDER = "/pyroscope/render"
LABEL_VALUES = "/pyroscope/label-values"
PROFILE_TYPE_LABEL = "__profile_type__"
SPY_LABEL = "pyroscope_spy"
SERIES_LABELS = ["service_name", PROFILE_TYPE_LABEL, SPY_LABEL]
LEGACY_PROFILE_TYPES = "__name__"  # the legacy label-values answers profile type IDs for it
_MAX_MESSAGE = 200
T = TypeVar("T")


def _labels(doc: Any, key: str) -> list[Any]:
    value = doc.get(key, []) if isinstance(doc, Mapping) else None
    if not isinstance(value, list):
        raise ValueError(f"{key}: expected a list")
    return value


@dataclass(frozen=True)
class ServiceProfiles:
    """What Pyroscope has for one service: its profile type IDs and the `pyroscope_spy`
    values its agents wrote (how `enrichers.detection` tells the runtime)."""

    types: frozenset[str] = frozenset()
    spies: frozenset[str] = frozenset()


def _label_sets(doc: Any) -> list[dict[str, str]]:
    """The label sets of a Connect `Series` response (§1.4) as dicts."""
    found = []
    for labels_set in _labels(doc, "labelsSet"):
        pairs = {}
        for label in _labels(labels_set, "labels"):
            pair = (
                (label.get("name", ""), label.get("value", ""))
                if isinstance(label, Mapping)
                else ()
            )
            if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
                raise ValueError("labels: expected name/value strings")
            name, value = pair
            pairs[name] = value
        found.append(pairs)
    return found


def _profiles(label_sets: list[dict[str, str]]) -> ServiceProfiles:
    types = {labels[PROFILE_TYPE_LABEL] for labels in label_sets if labels.get(PROFILE_TYPE_LABEL)}
    spies = {labels[SPY_LABEL] for labels in label_sets if labels.get(SPY_LABEL)}
    return ServiceProfiles(frozenset(types), frozenset(spies))


def parse_profile_types(doc: Mapping[str, Any]) -> ServiceProfiles:
    """The `__profile_type__` and `pyroscope_spy` values of a Connect `Series` response."""
    return _profiles(_label_sets(doc))


def parse_service_profile_types(doc: Mapping[str, Any]) -> dict[str, ServiceProfiles]:
    """Per `service_name`, its profile types and spies, from a `Series` response that asked
    for those label names (§1.4); a label set without a service name is skipped."""
    by_service: dict[str, list[dict[str, str]]] = {}
    for labels in _label_sets(doc):
        if labels.get("service_name") and labels.get(PROFILE_TYPE_LABEL):
            by_service.setdefault(labels["service_name"], []).append(labels)
    return {service: _profiles(sets) for service, sets in by_service.items()}


def parse_label_values(doc: Mapping[str, Any]) -> list[str]:
    """The sorted values of a Connect `LabelValues` response."""
    names = _labels(doc, "names")
    if not all(isinstance(name, str) for name in names):
        raise ValueError("names: expected a list of strings")
    return sorted(names)


def parse_legacy_label_values(doc: Any) -> list[str]:
    """The sorted values of a legacy `/pyroscope/label-values` answer: a JSON array of
    strings, or `null` (Go's encoding of an empty list)."""
    if doc is None:
        return []
    if not isinstance(doc, list) or not all(isinstance(value, str) for value in doc):
        raise ValueError("expected a JSON array of strings")
    return sorted(set(doc))


def parse_series_points(doc: Mapping[str, Any]) -> list[list[tuple[int, float]]]:
    """Per series of a Connect `SelectSeries` response, its (timestamp ms, value) points."""
    series = []
    for one in _labels(doc, "series"):
        points = []
        for point in _labels(one, "points"):
            timestamp = point.get("timestamp", "0") if isinstance(point, Mapping) else None
            value = point.get("value", 0.0) if isinstance(point, Mapping) else None
            if not isinstance(timestamp, str | int) or not str(timestamp).isdigit():
                raise ValueError("points.timestamp: expected an int64")
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError("points.value: expected a number")
            points.append((int(timestamp), float(value)))
        series.append(points)
    return series


async def _no_fleet_listing() -> dict[str, ServiceProfiles]:
    raise BackendError(BACKEND, "the legacy API lists no profile types per service")


class _NotFoundError(BackendError):
    """A Connect route answered 404: the server predates the Connect API."""


def _connect_message(response: httpx.Response) -> str:
    """The `message` of a Connect error body, or empty when the body is something else."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return message[:_MAX_MESSAGE] if isinstance(message, str) else ""


class PyroscopeClient:
    """Queries one Pyroscope (or a Grafana datasource proxy in front of it)."""

    def __init__(
        self,
        settings: PyroscopeSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        observe: Callable[[str, str], None] | None = None,
    ) -> None:
        # Multi-tenant servers need the tenant on every request (§1.5).
        tenant = {"X-Scope-OrgID": settings.tenant} if settings.tenant else {}
        self._secrets = [s for s in (settings.tenant, *credentials(settings)) if s]
        self._settings = settings
        self._observe = observe
        self._legacy = False  # set once the Connect route answered 404
        self._client = backend_client(settings, transport=transport, overrides=tenant)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def profile_types(self, service_name: str, start_ms: int, end_ms: int) -> ServiceProfiles:
        """The profile type IDs (and spies) the service has in the window, via `Series`
        (§1.4); every profile type of the server when only the legacy API is there."""
        body = {
            "matchers": [label_selector(service_name)],
            "labelNames": SERIES_LABELS,
            "start": start_ms,
            "end": end_ms,
        }
        return await self._query("Series", body, parse_profile_types, self._legacy_profile_types)

    async def fleet_profile_types(self, start_ms: int, end_ms: int) -> dict[str, ServiceProfiles]:
        """Every service with data in the window and its profile type IDs, in one `Series`
        call with no matcher (§1.4: an empty matcher list selects every series). The legacy
        API has no per-service listing: there this raises without asking the server."""
        body = {
            "matchers": [],
            "labelNames": SERIES_LABELS,
            "start": start_ms,
            "end": end_ms,
        }
        return await self._query("Series", body, parse_service_profile_types, _no_fleet_listing)

    async def services(self, start_ms: int, end_ms: int) -> list[str]:
        """Every `service_name` with data in the window, sorted."""
        body = {"name": "service_name", "matchers": [], "start": start_ms, "end": end_ms}
        legacy = partial(self._legacy_label_values, "service_name")
        return await self._query("LabelValues", body, parse_label_values, legacy)

    async def flamegraph(
        self, profile_type: str, label_selector: str, start_ms: int, end_ms: int
    ) -> FlameGraph:
        """The merged flame graph of the selection in the window, at most `max_nodes` nodes."""
        body = {
            "profileTypeID": profile_type,
            "labelSelector": label_selector,
            "start": start_ms,
            "end": end_ms,
            "maxNodes": self._settings.max_nodes,
        }
        params = {
            "query": profile_type + label_selector,
            "from": str(start_ms),
            "until": str(end_ms),
            "format": "json",
            "max-nodes": str(self._settings.max_nodes),
        }
        legacy = partial(self._request, "GET", RENDER, parse_render, params=params)
        return await self._query("SelectMergeStacktraces", body, parse_connect, legacy)

    async def _query(
        self,
        method: str,
        body: dict[str, Any],
        parse: Callable[[Any], T],
        legacy: Callable[[], Awaitable[T]],
    ) -> T:
        """Connect `method`; `legacy()` once the server showed it has no Connect API (404)."""
        if not self._legacy:
            try:
                return await self._connect(method, body, parse)
            except _NotFoundError:
                self._legacy = True
        return await legacy()

    async def _legacy_label_values(self, label: str) -> list[str]:
        params = {"label": label}
        return await self._request("GET", LABEL_VALUES, parse_legacy_label_values, params=params)

    async def _legacy_profile_types(self) -> ServiceProfiles:
        return ServiceProfiles(frozenset(await self._legacy_label_values(LEGACY_PROFILE_TYPES)))

    async def _connect(self, method: str, body: dict[str, Any], parse: Callable[[Any], T]) -> T:
        return await self._request("POST", QUERIER + method, parse, json=body)

    async def _request(self, verb: str, path: str, parse: Callable[[Any], T], **kwargs: Any) -> T:
        """One HTTP request, observed once: ok, error or timeout."""
        name = path.rsplit("/", 1)[-1]
        try:
            response = await self._client.request(verb, path, **kwargs)
        except httpx.TimeoutException:
            self._report("timeout")
            timeout = self._settings.timeout_seconds
            raise BackendTimeoutError(BACKEND, f"{name} timed out after {timeout:g}s") from None
        except httpx.TransportError as exc:
            self._report("error")
            raise BackendError(BACKEND, transport_reason(exc)) from None
        if not response.is_success:
            self._report("error")
            if response.status_code == 404 and path.startswith(QUERIER):
                raise _NotFoundError(BACKEND, f"{name}: HTTP 404")
            message = _connect_message(response)
            reason = f"{name}: HTTP {response.status_code}" + (f": {message}" if message else "")
            raise BackendError(BACKEND, self._redact(reason))
        try:
            result = parse(response.json())
        except ValueError as exc:  # JSONDecodeError, FlameGraphError and parser errors
            self._report("error")
            reason = f"invalid response: {name}: {str(exc)[:_MAX_MESSAGE]}"
            raise BackendError(BACKEND, self._redact(reason)) from None
        self._report("ok")
        return result

    def _report(self, outcome: str) -> None:
        if self._observe is not None:
            self._observe(BACKEND, outcome)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text
