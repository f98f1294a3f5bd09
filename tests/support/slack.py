"""`FakeSlack` with the knobs the reliability tests need, without touching the fake itself.

- `holding`: a `chat.postMessage`/`chat.update` is carried out (the message exists in
  Slack), but its answer is held back while `holding` is true: the caller cannot know
  whether it went through, exactly like a crash between a send and its record.
- `delay_seconds`: every call waits this long before Slack looks at it.
- `arrivals`: (monotonic time, method) of every call, to check backoffs and Retry-After.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from tests.fakes.slack import FakeSlack
from tests.support.misbehaving import HeldAnswers

__all__ = ["ControlledSlack"]


class ControlledSlack(HeldAnswers, FakeSlack):
    def __init__(self) -> None:
        super().__init__()
        self.delay_seconds = 0.0
        self.arrivals: list[tuple[float, str]] = []

    async def _handle(self, request: web.Request) -> web.Response:
        self.arrivals.append((time.monotonic(), request.match_info["method"]))
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        response = await super()._handle(request)
        await self.hold_answer()
        return response
