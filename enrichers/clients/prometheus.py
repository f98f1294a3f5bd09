"""Prometheus instant queries: one number per health metric.

`PrometheusClient.query()` asks `/api/v1/query` for one expression at one time and returns
the largest finite value of the result (a vector or a scalar), or None when nothing finite
came back. Failures are classified into `BackendError` / `BackendTimeoutError`
(enrichers/errors.py); the retry and deadline policy belong to the caller.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from enrichers.clients.backend_http import backend_client
from enrichers.errors import BackendError, BackendTimeoutError
from enrichers.settings import PrometheusSettings

__all__ = ["PrometheusClient", "parse_query_response"]

BACKEND = "prometheus"
_MAX_REASON = 200

Observe = Callable[[str, str], None]


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
        outcome = "error"
        try:
            result = await self._query(promql, at)
            outcome = "ok"
            return result
        except BackendTimeoutError:
            outcome = "timeout"
            raise
        finally:
            if self._observe is not None:
                self._observe(BACKEND, outcome)

    async def _query(self, promql: str, at: datetime) -> float | None:
        form = {"query": promql, "time": _unix_seconds(at)}
        try:
            response = await self._client.post("/api/v1/query", data=form)
        except httpx.TimeoutException:
            raise BackendTimeoutError(BACKEND, f"timed out after {self._timeout:g}s") from None
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
        return parse_query_response(body)

    async def aclose(self) -> None:
        await self._client.aclose()
