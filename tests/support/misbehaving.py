"""Stand-ins for a backend that misbehaves: one that hangs, one that answers garbage, and
a far end that carries out a request but holds its answer back.

The first two answer every path and method, so they can stand in for Prometheus (or
anything else spoken to over HTTP). Serve them with `LoopThread.serve()`.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

__all__ = ["HeldAnswers", "garbage_app", "hanging_app"]


class HeldAnswers:
    """Mixed into a fake far end: while `holding` is true, an answer is held back after the
    request was carried out, so the caller cannot know whether it went through (a crash
    between a send and its record looks exactly like that)."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = False
        self.held = 0  # answers held back so far

    async def hold_answer(self) -> None:
        if not self.holding:
            return
        self.held += 1
        # Released from the test's thread, where an asyncio.Event cannot be set.
        while self.holding:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


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
