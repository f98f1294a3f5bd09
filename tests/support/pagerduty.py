"""`FakePagerDuty` with a hold, as `ControlledSlack` has: the event is processed (PagerDuty has
it) but the answer is held back while `holding` is true."""

from __future__ import annotations

from aiohttp import web

from tests.fakes.pagerduty import FakePagerDuty
from tests.support.misbehaving import HeldAnswers

__all__ = ["ControlledPagerDuty"]


class ControlledPagerDuty(HeldAnswers, FakePagerDuty):
    async def _enqueue(self, request: web.Request) -> web.Response:
        response = await super()._enqueue(request)
        await self.hold_answer()
        return response
