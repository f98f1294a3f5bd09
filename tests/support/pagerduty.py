"""`FakePagerDuty` with a hold, as `ControlledSlack` has: the event is processed (PagerDuty has
it) but the answer is held back while `holding` is true."""

from __future__ import annotations

import asyncio

from aiohttp import web

from tests.fakes.pagerduty import FakePagerDuty

__all__ = ["ControlledPagerDuty"]


class ControlledPagerDuty(FakePagerDuty):
    def __init__(self) -> None:
        super().__init__()
        self.holding = False
        self.held = 0  # answers held back so far

    async def _enqueue(self, request: web.Request) -> web.Response:
        response = await super()._enqueue(request)
        if self.holding:
            self.held += 1
            # Released from the test's thread, where an asyncio.Event cannot be set.
            while self.holding:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        return response
