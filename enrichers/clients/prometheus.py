"""Prometheus instant queries: one number per health metric.

`PrometheusClient.query()` asks `/api/v1/query` for one expression at one time and returns
the largest finite value of the result (a vector or a scalar), or None when nothing finite
came back; `metric_names()` lists which metrics a selector has (runtime detection).
Failures are classified into `BackendError` / `BackendTimeoutError` (enrichers/errors.py);
the retry and deadline policy belong to the caller.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from enrichers.clients.backend_http import backend_client, transport_reason
from enrichers.errors import BackendError, BackendTimeoutError
from enrichers.settings import PrometheusSettings

__all__ = ["PrometheusClient", "parse_label_values", "parse_query_response"]

BACKEND = "prometheus"
_MAX_REASON = 200

Observe = Callable[[str, str], None]
T = TypeVar("T")


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


def _sample_value(sample: Any) -> float:
    """The number of a `[<unix time>, "<value>"]` pair; `"NaN"` and `"+Inf"` parse too."""
    if not isinstance(sample, list) or len(sample) != 2 or not isinstance(sample[1], str):
        raise BackendError(BACKEND, f"invalid response: sample {_truncate(repr(sample))}")
    try:
        return float(sample[1])
    except ValueError:
        raise BackendError(BACKEND, f"invalid response: value {sample[1]!r}") from None


def parse_query_response(body: Any) -> float | None:
    """The largest finite value of a successful `/api/v1/query` body, None if there is none."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise BackendError(BACKEND, "invalid response: no data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        values = [_sample_value(result)]
    elif kind == "vector" and isinstance(result, list):
        values = [
            _sample_value(item.get("value") if isinstance(item, dict) else item) for item in result
        ]
    else:
        raise BackendError(BACKEND, f"unexpected result type: {_truncate(str(kind))}")
    finite = [value for value in values if math.isfinite(value)]
    return max(finite) if finite else None


def parse_label_values(body: Any) -> set[str]:
    """The values of a successful `/api/v1/label/<name>/values` body."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not all(isinstance(value, str) for value in data):
        raise BackendError(BACKEND, "invalid response: label values are not a list of strings")
    return set(data)


def _api_error(response: httpx.Response) -> BackendError:
    """The error of a non-2xx answer, from Prometheus' JSON error body when it sent one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("status") == "error":
        kind, error = body.get("errorType", "unknown"), body.get("error", "")
        return BackendError(BACKEND, _truncate(f"{kind}: {error}"))
    return BackendError(BACKEND, f"HTTP {response.status_code} {response.reason_phrase}".strip())


def _unix_seconds(at: datetime) -> str:
    """`at` as unix seconds with milliseconds; a naive datetime is taken as UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return f"{at.timestamp():.3f}"


class PrometheusClient:
    """One HTTP client for one Prometheus; create once, `aclose()` on shutdown."""

    def __init__(
        self,
        settings: PrometheusSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        observe: Observe | None = None,
    ) -> None:
        self._timeout = settings.timeout_seconds
        self._observe = observe
        self._client = backend_client(
            settings, transport=transport, defaults={"Accept": "application/json"}
        )

    async def query(self, promql: str, at: datetime) -> float | None:
        """The largest finite value of `promql` evaluated at `at`; None when there is none."""
        form = {"query": promql, "time": _unix_seconds(at)}
        return await self._call("POST", "/api/v1/query", parse_query_response, data=form)

    async def metric_names(self, selector: str, start: datetime, end: datetime) -> set[str]:
        """The names of the metrics with a series matching `{selector}` between `start` and
        `end` (`/api/v1/label/__name__/values` with `match[]`)."""
        params = {
            "match[]": "{" + selector + "}",
            "start": _unix_seconds(start),
            "end": _unix_seconds(end),
        }
        path = "/api/v1/label/__name__/values"
        return await self._call("GET", path, parse_label_values, params=params)

    async def _call(self, verb: str, path: str, parse: Callable[[Any], T], **kwargs: Any) -> T:
        """One request, observed once (ok, error or timeout), its body parsed by `parse`."""
        outcome = "error"
        try:
            result = parse(await self._send(verb, path, **kwargs))
            outcome = "ok"
            return result
        except BackendTimeoutError:
            outcome = "timeout"
            raise
        finally:
            if self._observe is not None:
                self._observe(BACKEND, outcome)

    async def _send(self, verb: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._client.request(verb, path, **kwargs)
        except httpx.TimeoutException:
            raise BackendTimeoutError(BACKEND, f"timed out after {self._timeout:g}s") from None
        except httpx.TransportError as exc:
            raise BackendError(BACKEND, transport_reason(exc)) from None
        except httpx.HTTPError as exc:
            raise BackendError(BACKEND, f"connection failed: {type(exc).__name__}") from None
        if not response.is_success:
            raise _api_error(response)
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            raise BackendError(BACKEND, f"invalid response: {type(exc).__name__}") from None
        if isinstance(body, dict) and body.get("status") == "error":
            raise _api_error(response)
        return body

    async def aclose(self) -> None:
        await self._client.aclose()
