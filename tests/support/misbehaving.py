"""Stand-ins for a backend that misbehaves: one that hangs, one that answers garbage.

Both answer every path and method, so they can stand in for Prometheus (or anything else
spoken to over HTTP). Serve them with `LoopThread.serve()`.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

__all__ = ["garbage_app", "hanging_app"]


def hanging_app(seconds: float = 60.0) -> web.Application:
    """Accepts the request, then says nothing for `seconds` (a stuck backend)."""

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(seconds)
        return web.json_response({"status": "success", "data": {}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    return app


def garbage_app(body: bytes) -> web.Application:
    """Answers 200 `application/json` with `body`, whatever it was asked."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app
