"""Prometheus answers for `httpx.MockTransport`, where a real Prometheus adds nothing."""

from __future__ import annotations

import httpx


def empty_vector(request: httpx.Request) -> httpx.Response:
    """A successful instant query that matched no series."""
    body = {"status": "success", "data": {"resultType": "vector", "result": []}}
    return httpx.Response(200, json=body)
