"""`POST /slack/interactions`: Slack's signed button clicks, acknowledged at once.

Checks in order: size (413, `server.max_body_bytes`), signature (401 `unauthorized`:
missing, stale, bad or replayed; `receiver.interactions.signature`), payload (400
`invalid_payload`). Then the clicks are handed to `Interactions` and Slack gets its empty
200 right away (Slack wants it within 3 seconds); the work happens after.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from receiver.app import error, read_limited
from receiver.interactions.clicks import parse_clicks
from receiver.interactions.signature import SignatureCheck
from receiver.interactions.work import Interactions

__all__ = ["InteractionEndpoint"]

log = structlog.get_logger("flamebot.interactions")


class InteractionEndpoint:
    def __init__(self, check: SignatureCheck, interactions: Interactions, max_body: int) -> None:
        self._check = check
        self._interactions = interactions
        self._max_body = max_body

    async def handle(self, request: web.Request) -> web.Response:
        body = await read_limited(request, self._max_body)
        if body is None:
            return error(413, "payload_too_large", f"the limit is {self._max_body} bytes")
        refusal = self._check.refusal(
            body,
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"),
        )
        if refusal is not None:
            log.warning("slack_interaction_refused", reason=refusal, remote=request.remote)
            return error(401, "unauthorized", f"Slack signature {refusal}")
        try:
            clicks = parse_clicks(body)
        except ValueError as exc:
            return error(400, "invalid_payload", str(exc))
        self._interactions.submit(clicks)
        log.info("slack_interaction_accepted", clicks=len(clicks))
        return web.Response(status=200)
