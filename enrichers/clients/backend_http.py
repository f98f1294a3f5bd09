"""The one way a backend client is built: base URL, timeout, User-Agent, headers and auth."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping

import httpx

from enrichers.settings import BackendAuth

__all__ = ["USER_AGENT", "backend_client", "credentials", "transport_reason"]

USER_AGENT = "flamebot/0.1"
_NONE: Mapping[str, str] = {}


def credentials(settings: BackendAuth) -> list[str]:
    """The secret values of the settings (for scrubbing error messages)."""
    found = []
    if settings.basic is not None and settings.basic.password is not None:
        found.append(settings.basic.password.get_secret_value())
    if settings.bearer_token is not None:
        found.append(settings.bearer_token.get_secret_value())
    return [value for value in found if value]


def backend_client(
    settings: BackendAuth,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    defaults: Mapping[str, str] = _NONE,
    overrides: Mapping[str, str] = _NONE,
) -> httpx.AsyncClient:
    """An AsyncClient for `settings.url`: `defaults` may be replaced by `settings.headers`,
    `overrides` may not; basic auth or a bearer token from the settings."""
    headers = {"User-Agent": USER_AGENT, **defaults, **settings.headers, **overrides}
    auth: httpx.Auth | None = None
    if settings.basic is not None and settings.basic.password is not None:
        auth = httpx.BasicAuth(settings.basic.username, settings.basic.password.get_secret_value())
    elif settings.bearer_token is not None:
        headers["Authorization"] = f"Bearer {settings.bearer_token.get_secret_value()}"
    return httpx.AsyncClient(
        base_url=settings.url,
        timeout=httpx.Timeout(settings.timeout_seconds),
        headers=headers,
        auth=auth,
        transport=transport,
    )


_OS_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "connection reset"),
    (socket.gaierror, "name not resolved"),
    (ssl.SSLError, "TLS handshake failed"),
)


def transport_reason(exc: httpx.TransportError) -> str:
    """Why a request never got an answer, from the OS error behind it: `connection refused`,
    `name not resolved`, ...; else `connection failed: <exception class>`. The messages of
    the exceptions themselves are not used: they may hold the URL."""
    seen: BaseException | None = exc
    for _ in range(8):  # httpx -> httpcore -> anyio -> the OS error
        if seen is None:
            break
        for kind, reason in _OS_REASONS:
            if isinstance(seen, kind):
                return reason
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed without an answer"
    return f"connection failed: {type(exc).__name__}"
