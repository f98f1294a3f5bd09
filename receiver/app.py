"""The HTTP surface (PRODUCT.md §4): `/webhook[/{route}]`, `/healthz`, `/readyz`, `/metrics`,
and `/slack/interactions` (`receiver.interactions.http`) when the `slack` block is set.

Webhook checks run in the contract's order: auth (401), route (404), content type (415),
size (413), JSON (400 invalid_json), schema (400 invalid_payload), store (503). Every error
is `{"error": code, "detail": ...}`; no answer ever carries a stack trace.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson
import structlog
from aiohttp import web
from pydantic import ValidationError

from receiver.config import DEFAULT_ROUTE, Config
from receiver.errors import StoreFullError, StoreUnavailableError
from receiver.metrics import Metrics
from receiver.models import WebhookPayload
from receiver.store import AcceptResult

__all__ = ["WEBHOOK", "Authenticator", "Intake", "build_app", "error", "read_limited"]

log = structlog.get_logger("flamebot.http")

MAX_REPORTED_ERRORS = 100  # a payload with 10,000 bad labels gets the first 100 reasons


class Intake(Protocol):
    """What the HTTP layer needs from the service behind it."""

    metrics: Metrics

    async def accept(self, route: str, payload: WebhookPayload) -> AcceptResult: ...

    async def readiness(self) -> dict[str, bool]: ...


def error(status: int, code: str, detail: Any) -> web.Response:
    return web.json_response({"error": code, "detail": detail}, status=status)


class Authenticator:
    """Bearer token or basic auth, compared in constant time; open when none is configured."""

    def __init__(self, config: Config) -> None:
        auth = config.server.auth
        self._bearer: bytes | None = None
        self._basic: bytes | None = None
        if auth is not None and auth.bearer_token is not None:
            self._bearer = auth.bearer_token.get_secret_value().encode()
        if auth is not None and auth.basic is not None and auth.basic.password is not None:
            pair = f"{auth.basic.username}:{auth.basic.password.get_secret_value()}"
            self._basic = pair.encode()
        self.enabled = self._bearer is not None or self._basic is not None

    def allows(self, header: str | None) -> bool:
        if not self.enabled:
            return True
        scheme, _, value = (header or "").strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and self._bearer is not None:
            return hmac.compare_digest(value.encode(), self._bearer)
        if scheme.lower() == "basic" and self._basic is not None:
            try:
                pair = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return False
            return hmac.compare_digest(pair, self._basic)
        return False


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return True  # Alertmanager always sends one; curl users often do not
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json"


async def read_limited(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _validation_detail(exc: ValidationError) -> list[Any]:
    errors: list[Any] = json.loads(exc.json(include_url=False, include_input=False))
    return errors[:MAX_REPORTED_ERRORS]


def _refuse_lone_surrogates(document: Any) -> None:
    """Python's parser accepts lone surrogates ("\\ud800"), which no store can take: raise
    UnicodeEncodeError for them. orjson tells in a tenth of the time; what it refuses for
    other reasons (integers past 64 bits, nesting past 254) is asked of `json` instead."""
    try:
        orjson.dumps(document)
    except orjson.JSONEncodeError:
        json.dumps(document, ensure_ascii=False).encode()


def _parse(body: bytes) -> WebhookPayload | web.Response:
    """The payload in `body`, or the 400 that says why not. pydantic's parser takes the
    common case at once; what it refuses is parsed again by Python's, so `invalid_json`
    gives the reason in the same words as ever, and what Python's takes that pydantic's
    does not (a byte-order mark, UTF-16) is still accepted."""
    try:
        return WebhookPayload.model_validate_json(body)
    except ValidationError:
        pass
    try:
        document = json.loads(body)
        _refuse_lone_surrogates(document)
    except UnicodeEncodeError:
        return error(400, "invalid_json", "a string holds a lone surrogate (not Unicode)")
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return error(400, "invalid_json", reason)
    try:
        return WebhookPayload.model_validate(document)
    except ValidationError as exc:
        return error(400, "invalid_payload", _validation_detail(exc))


class WebhookHandler:
    def __init__(self, config: Config, intake: Intake) -> None:
        self._auth = Authenticator(config)
        self._routes = set(config.route_table())
        self._max_body = config.server.max_body_bytes
        self._intake = intake
        self.accepting = True

    async def handle(self, request: web.Request) -> web.Response:
        route = request.match_info.get("route") or DEFAULT_ROUTE
        label = route if route in self._routes else "unknown"
        response = await self._handle(request, route)
        self._intake.metrics.webhooks.labels(route=label, code=str(response.status)).inc()
        return response

    async def _handle(self, request: web.Request, route: str) -> web.Response:
        if not self._auth.allows(request.headers.get("Authorization")):
            log.warning("webhook_unauthorized", route=route, remote=request.remote)
            return web.json_response(
                {"error": "unauthorized", "detail": "missing or wrong credentials"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="flamebot"'},
            )
        if route not in self._routes:
            return error(404, "unknown_route", f"no route named {route!r}")
        if not _is_json(request.headers.get("Content-Type")):
            return error(415, "unsupported_media_type", "send application/json")
        body = await read_limited(request, self._max_body)
        if body is None:
            return error(413, "payload_too_large", f"the limit is {self._max_body} bytes")
        payload = _parse(body)
        if isinstance(payload, web.Response):
            return payload
        if not self.accepting:
            return error(503, "unavailable", "shutting down")
        return await self._store(route, payload)

    async def _store(self, route: str, payload: WebhookPayload) -> web.Response:
        group = {"route": route, "group_key": payload.group_key, "receiver": payload.receiver}
        try:
            result = await self._intake.accept(route, payload)
        except StoreFullError as exc:
            log.warning("webhook_refused", **group, reason=str(exc))
            return error(503, "unavailable", "queue full")
        except StoreUnavailableError as exc:
            log.error("webhook_refused", **group, reason=str(exc))
            return error(503, "unavailable", "store unavailable")
        if result.duplicate:
            self._intake.metrics.duplicates.inc()
            log.info("webhook_duplicate", **group, id=result.id)
            return _answer(b'{"status": "duplicate", "id": %d}' % result.id)
        log.info("webhook_accepted", **group, id=result.id, alerts=len(payload.alerts))
        return _answer(b'{"status": "accepted", "id": %d}' % result.id)


def _answer(body: bytes) -> web.Response:
    """A 200 with a JSON body made here (json_response encodes a dict every time)."""
    return web.Response(body=body, content_type="application/json", charset="utf-8")


WEBHOOK = web.AppKey("webhook", WebhookHandler)


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Unknown paths and methods get JSON errors; anything unexpected a bare 500."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "http_error")
        return error(exc.status, code, exc.reason)
    except Exception:
        log.exception("request_failed", path=request.path)
        return error(500, "internal", "internal error")
    return response


def build_app(
    config: Config,
    intake: Intake,
    *,
    interactions: Callable[[web.Request], Awaitable[web.Response]] | None = None,
) -> web.Application:
    """The routes; `interactions` serves `POST /slack/interactions` (only when given)."""
    # The webhook reads its body itself, against server.max_body_bytes.
    app = web.Application(middlewares=[json_errors], client_max_size=config.server.max_body_bytes)
    webhook = WebhookHandler(config, intake)
    app[WEBHOOK] = webhook

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await intake.readiness()
        if all(checks.values()):
            return web.json_response({"status": "ready", "checks": checks})
        return error(503, "unavailable", checks)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=intake.metrics.render(),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )

    app.router.add_post("/webhook", webhook.handle)
    # Any route name, newlines (%0A) included: an unknown one is answered by the handler
    # (auth first, then 404 unknown_route, counted as route="unknown").
    app.router.add_post("/webhook/{route:[\\s\\S]*}", webhook.handle)
    if interactions is not None:
        app.router.add_post("/slack/interactions", interactions)  # signed, not /webhook auth
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app
