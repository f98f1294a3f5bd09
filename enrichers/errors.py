"""Errors of the enrichment backends, in one place.

    BackendError               a backend (Prometheus, Pyroscope) failed: `backend`, `reason`
    └── BackendTimeoutError    it did not answer within the client's timeout

Messages read `<backend>: <reason>`, say what happened, and never contain a secret: clients
name an exception's class rather than echoing its text (which may hold a URL).
"""

from __future__ import annotations

__all__ = ["BackendError", "BackendTimeoutError"]


class BackendError(Exception):
    """A backend answered with an error, garbage, or not at all."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend}: {reason}")
        self.backend = backend
        self.reason = reason

    def __reduce__(self) -> tuple[type[BackendError], tuple[str, str]]:
        return type(self), (self.backend, self.reason)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.backend!r}, {self.reason!r})"


class BackendTimeoutError(BackendError):
    """A backend did not answer within the client's timeout."""
