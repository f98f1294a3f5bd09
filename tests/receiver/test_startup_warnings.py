"""`serve` warns at start about each backend it cannot reach (with the URL) and about auth
being off on a non-loopback address (PRODUCT.md §7.6), as structured events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from receiver.config import Config
from receiver.service import serve
from receiver.startup_checks import auth_is_open, check_backends, startup_warnings
from tests.conftest import make_config
from tests.support.process import free_port
from tests.support.waiting import wait_until_async


def warnings(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The warnings, sorted by backend (the checks run concurrently)."""
    found = [entry for entry in logs if entry["log_level"] == "warning"]
    return sorted(found, key=lambda entry: str(entry.get("backend", "")))


async def warned(check: Callable[[Config], Awaitable[object]], config: Config) -> list[Any]:
    """The warnings `check(config)` logs, sorted by backend."""
    with capture_logs() as logs:
        await check(config)
    return warnings(logs)


def unreachable(backend: str, url: str) -> dict[str, str]:
    """The warning about a backend that refused the connection."""
    return {
        "event": "backend_unreachable",
        "log_level": "warning",
        "backend": backend,
        "url": url,
        "reason": "connection refused",
    }


async def answering(aiohttp_server: Any) -> str:
    """A backend that answers 404 to everything: reachable, whatever its API."""
    server = await aiohttp_server(web.Application())
    return f"http://127.0.0.1:{server.port}"


async def test_each_unreachable_backend_is_warned_about_once_with_its_url(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    """Pyroscope and Alertmanager refuse: two warnings naming URL and reason; Prometheus answers."""
    closed, also_closed = free_port(), free_port()
    config = make_config(
        tmp_path,
        prometheus={"url": await answering(aiohttp_server)},
        pyroscope={"url": f"http://127.0.0.1:{closed}"},
        alertmanager={"url": f"http://127.0.0.1:{also_closed}/am"},
    )
    assert await warned(check_backends, config) == [
        unreachable("alertmanager", f"http://127.0.0.1:{also_closed}/am"),
        unreachable("pyroscope", f"http://127.0.0.1:{closed}"),
    ]


async def test_a_backend_that_never_answers_is_warned_about_after_its_timeout(
    tmp_path: Path,
) -> None:
    """A server that accepts and stays silent is unreachable after the backend's timeout."""
    held: list[asyncio.StreamWriter] = []
    silent = await asyncio.start_server(lambda _, writer: held.append(writer), "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    config = make_config(
        tmp_path,
        prometheus={"url": f"http://127.0.0.1:{port}", "timeout_seconds": 0.2},
        pyroscope={"url": f"http://127.0.0.1:{port}", "timeout_seconds": 0.3},
    )
    try:
        with capture_logs() as logs:
            await check_backends(config)
    finally:
        for writer in held:
            writer.close()
        silent.close()
        await silent.wait_closed()
    assert [(e["backend"], e["reason"]) for e in warnings(logs)] == [
        ("prometheus", "no answer within 0.2 s"),
        ("pyroscope", "no answer within 0.3 s"),
    ]


@pytest.mark.parametrize(
    ("host", "auth", "open_"),
    [
        ("0.0.0.0", None, True),
        ("10.1.2.3", None, True),
        ("flamebot.internal", None, True),
        ("::", None, True),
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("localhost", None, False),
        ("0.0.0.0", {"bearer_token": "t0ken"}, False),
    ],
)
def test_auth_is_open_only_without_auth_beyond_loopback(
    host: str, auth: dict[str, str] | None, open_: bool, tmp_path: Path
) -> None:
    """Auth off counts as open on every address but loopback; any auth closes it."""
    config = make_config(tmp_path, server={"host": host, "auth": auth})
    assert auth_is_open(config) is open_


async def test_auth_off_on_a_non_loopback_address_is_one_warning(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    """Listening on 0.0.0.0 without server.auth: exactly one auth_disabled warning."""
    url = await answering(aiohttp_server)
    config = make_config(
        tmp_path, server={"host": "0.0.0.0"}, prometheus={"url": url}, pyroscope={"url": url}
    )
    assert await warned(startup_warnings, config) == [
        {
            "event": "auth_disabled",
            "log_level": "warning",
            "host": "0.0.0.0",
            "hint": "anyone who reaches this address can post alerts: set server.auth",
        }
    ]


async def test_serve_logs_the_backend_warnings_after_it_started(tmp_path: Path) -> None:
    """`serve` starts listening, then warns about its unreachable Prometheus and Pyroscope."""
    closed = free_port()
    config = make_config(
        tmp_path,
        server={"host": "127.0.0.1", "port": free_port()},
        prometheus={"url": f"http://127.0.0.1:{closed}"},
        pyroscope={"url": f"http://127.0.0.1:{closed}/pyroscope"},
    )
    stop = asyncio.Event()
    with capture_logs() as logs:
        running = asyncio.create_task(serve(config, stop=stop))
        try:
            await wait_until_async(lambda: len(warnings(logs)) == 2)
        finally:
            stop.set()
            await running
    names = [entry["event"] for entry in logs]
    assert names.index("service_started") < names.index("backend_unreachable")
    assert [(e["backend"], e["url"], e["reason"]) for e in warnings(logs)] == [
        ("prometheus", f"http://127.0.0.1:{closed}", "connection refused"),
        ("pyroscope", f"http://127.0.0.1:{closed}/pyroscope", "connection refused"),
    ]
