"""The record of what a simulated backend served: one entry per HTTP request."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

__all__ = ["RequestLog", "ServedRequest"]


@dataclass(frozen=True)
class ServedRequest:
    method: str
    path: str
    status: int


@dataclass
class RequestLog:
    """Every request a backend answered, in arrival order, errors included."""

    requests: list[ServedRequest] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.requests)

    def count(self, path_suffix: str) -> int:
        """How many requests went to a path ending with `path_suffix` (an RPC name)."""
        return sum(1 for r in self.requests if r.path.endswith(path_suffix))

    def middleware(self) -> Middleware:
        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                self.requests.append(ServedRequest(request.method, request.path, exc.status))
                raise
            self.requests.append(ServedRequest(request.method, request.path, response.status))
            return response

        return record
