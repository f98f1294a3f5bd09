"""What `serve` says once at start about a setup that will hurt later (PRODUCT.md §7.6): one
warning per backend it cannot reach (with the URL), and one when the webhook takes requests
without authentication on an address other than loopback.

A backend is reachable when it answers anything over HTTP (a 401 or 404 is an answer: the
address is right); only a request that gets no answer within the backend's timeout is
warned about. The checks run beside the service and never delay or stop its start.
"""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit, urlunsplit

import httpx
import structlog

from enrichers.clients.backend_http import backend_client, transport_reason
from enrichers.settings import BackendAuth
from receiver.config import Config

__all__ = ["auth_is_open", "check_backends", "startup_warnings"]

log = structlog.get_logger("flamebot.service")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name, or "" / "0.0.0.0"-like wildcards: reachable from outside


def auth_is_open(config: Config) -> bool:
    """True when `/webhook*` takes anyone's alerts from beyond this machine."""
    return config.server.auth is None and not _loopback(config.server.host)


def _shown(url: str) -> str:
    """The URL without any user:password part."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _backends(config: Config) -> list[tuple[str, BackendAuth]]:
    found: list[tuple[str, BackendAuth]] = [
        ("prometheus", config.prometheus),
        ("pyroscope", config.pyroscope),
    ]
    if config.alertmanager is not None:
        found.append(("alertmanager", config.alertmanager))
    return found


async def _reach(
    name: str, settings: BackendAuth, transport: httpx.AsyncBaseTransport | None
) -> None:
    async with backend_client(settings, transport=transport) as client:
        try:
            await client.get("/")
        except httpx.TimeoutException:
            reason = f"no answer within {settings.timeout_seconds:g} s"
        except httpx.TransportError as exc:
            reason = transport_reason(exc)
        else:
            return
    log.warning("backend_unreachable", backend=name, url=_shown(settings.url), reason=reason)


async def check_backends(
    config: Config, *, transport: httpx.AsyncBaseTransport | None = None
) -> None:
    """One `backend_unreachable` warning per configured backend that does not answer."""
    await asyncio.gather(*(_reach(n, s, transport) for n, s in _backends(config)))


async def startup_warnings(
    config: Config, *, transport: httpx.AsyncBaseTransport | None = None
) -> None:
    """Everything `serve` warns about at start."""
    if auth_is_open(config):
        log.warning(
            "auth_disabled",
            host=config.server.host,
            hint="anyone who reaches this address can post alerts: set server.auth",
        )
    await check_backends(config, transport=transport)
