"""The one way a backend client is built: base URL, timeout, User-Agent, headers and auth."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from enrichers.settings import BackendAuth

__all__ = ["USER_AGENT", "backend_client", "credentials"]

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
