"""Grafana Pyroscope client: profile types, services and flame graphs over the Connect API.

Thin I/O around pure parsers (`enrichers.flamegraph`, `enrichers.clients.pyroscope_answers`).
One `httpx.AsyncClient` per client, JSON over `POST /querier.v1.QuerierService/<Method>` with
times in milliseconds. The first 404 on a Connect route means the server has no Connect API;
from then on every query uses the legacy HTTP API (pyroscope-api.md §1.1-1.2):
`GET /pyroscope/render` for flame graphs, `GET /pyroscope/label-values?label=service_name`
for services and `label=__name__` for profile types. That route takes no matchers and no
window, so the profile types are the server's, not the service's: a graph of a type the
service lacks simply comes back empty.
Every failure is a `BackendError("pyroscope", reason)` whose reason never holds the tenant
or a credential.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import httpx

from enrichers.clients.backend_http import backend_client, credentials, transport_reason
from enrichers.clients.pyroscope_answers import (
    SERIES_LABELS,
    ServiceProfiles,
    parse_label_values,
    parse_legacy_label_values,
    parse_profile_types,
    parse_series_points,
    parse_service_profile_types,
)
from enrichers.errors import BackendError, BackendTimeoutError
from enrichers.flamegraph import (
    FlameGraph,
    parse_connect,
    parse_connect_diff,
    parse_render,
    parse_render_diff,
)
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
RENDER_DIFF = "/pyroscope/render-diff"
LABEL_VALUES = "/pyroscope/label-values"
LEGACY_PROFILE_TYPES = "__name__"  # the legacy label-values answers profile type IDs for it
_MAX_MESSAGE = 200
T = TypeVar("T")


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

    async def diff(
        self,
        profile_type: str,
        label_selector: str,
        left: tuple[int, int],
        right: tuple[int, int],
    ) -> tuple[FlameGraph, FlameGraph]:
        """The (left, right) graphs of two windows (start ms, end ms) from one server-side
        diff: Connect `Diff`, or the legacy `/pyroscope/render-diff` (§1.3, §1.4)."""

        def side(window: tuple[int, int]) -> dict[str, Any]:
            start, end = window
            return {
                "profileTypeID": profile_type,
                "labelSelector": label_selector,
                "start": start,
                "end": end,
                "maxNodes": self._settings.max_nodes,
            }

        query = profile_type + label_selector
        params = {"max-nodes": str(self._settings.max_nodes)}
        for name, (start, end) in (("left", left), ("right", right)):
            params |= {f"{name}Query": query, f"{name}From": str(start), f"{name}Until": str(end)}
        legacy = partial(self._request, "GET", RENDER_DIFF, parse_render_diff, params=params)
        body = {"left": side(left), "right": side(right)}
        return await self._query("Diff", body, parse_connect_diff, legacy)

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
