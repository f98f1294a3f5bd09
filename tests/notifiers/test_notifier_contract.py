"""The contract every integration of the table keeps: one classification of far-end answers.

Each notifier that sends is pointed at one loopback far end that answers a given HTTP status
(and, for APIs that name their errors, a given error name); each must raise the same
FailureCode for the same answer, so the pipeline's one retry stage treats them alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from receiver.errors import FailureCode, NotifyError
from receiver.models import WebhookPayload
from receiver.notifiers import INTEGRATIONS
from receiver.notifiers.base import API_ERRORS, failure_code
from receiver.notifiers.registry import NotifierContext
from receiver.seams import Notification
from tests.conftest import load_payload
from tests.fakes.notifiers import FixedEnricher, MemoryConversations

# Settings pointing each sending integration at `{far}` (the answering server).
POINTED: dict[str, dict[str, Any]] = {
    "webhook": {"url": "{far}/in"},
    "slack": {"token": "xoxb-test", "channel": "#c", "api_url": "{far}/api/", "flamegraph": False},
    "pagerduty": {"routing_key": "R" * 32, "events_url": "{far}/v2/enqueue"},
    "teams": {"url": "{far}/workflows/f/triggers/manual/paths/invoke?sig=s"},
}

# Each shared code and the HTTP statuses of the far end that mean it (None: delivered).
STATUSES_OF: dict[FailureCode | None, tuple[int, ...]] = {
    None: (200, 202),
    FailureCode.REJECTED: (400, 401, 403, 404, 422),
    FailureCode.GONE: (410,),
    FailureCode.TOO_LARGE: (413,),
    FailureCode.RATE_LIMITED: (429,),
    FailureCode.UNAVAILABLE: (500, 502, 503, 504),
}
STATUS_CODES: list[tuple[int, FailureCode | None]] = sorted(
    ((status, code) for code, statuses in STATUSES_OF.items() for status in statuses),
    key=lambda case: case[0],
)

# A 200 answer naming an error (Slack's `ok: false`): the names of the shared table, and others.
API_ERROR_CODES: list[tuple[str, FailureCode]] = [
    *sorted(API_ERRORS.items()),
    ("invalid_blocks", FailureCode.REJECTED),
    ("not_in_channel", FailureCode.REJECTED),
]
NAMING_ERRORS = ("slack",)  # the integrations whose far end names its errors in a 200


def test_every_sending_integration_is_under_contract() -> None:
    """Only the console writes locally; every other integration of the table is tested here."""
    assert sorted(POINTED) == sorted(set(INTEGRATIONS) - {"console"})


def _far(status: int, error: str | None) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        body: dict[str, Any] = {"ok": error is None and status < 300, "channel": "C1", "ts": "1.5"}
        if error is not None:
            body["error"] = error
        return web.json_response(body, status=status, headers={"Retry-After": "7"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


async def _outcome(tag: str, aiohttp_server: Any, status: int, error: str | None = None) -> Any:
    server = await aiohttp_server(_far(status, error))
    far = str(server.make_url("")).rstrip("/")
    fields = {
        k: v.replace("{far}", far) if isinstance(v, str) else v for k, v in POINTED[tag].items()
    }
    settings = INTEGRATIONS[tag].settings(name="mine", type=tag, **fields)
    notifier = INTEGRATIONS[tag].build(settings, NotifierContext(MemoryConversations()))
    payload = WebhookPayload.model_validate(load_payload("firing.json"))
    enrichment = await FixedEnricher().enrich(payload)
    try:
        await notifier.notify(Notification(1, "default", payload, enrichment))
    except NotifyError as exc:
        return exc.code, exc.retryable, exc.retry_after
    finally:
        await notifier.aclose()
    return None


@pytest.mark.parametrize("tag", sorted(POINTED))
@pytest.mark.parametrize(("status", "code"), STATUS_CODES)
async def test_each_integration_maps_each_status_to_the_shared_code(
    tag: str, status: int, code: FailureCode | None, aiohttp_server: Any
) -> None:
    """The same HTTP status is the same FailureCode, retry decision and Retry-After everywhere."""
    expected = None if code is None else (code, code.retryable, 7.0 if code.retryable else None)
    assert failure_code(status) is code
    assert await _outcome(tag, aiohttp_server, status) == expected


@pytest.mark.parametrize("tag", NAMING_ERRORS)
@pytest.mark.parametrize(("error", "code"), API_ERROR_CODES)
async def test_named_errors_in_a_200_go_through_the_same_table(
    tag: str, error: str, code: FailureCode, aiohttp_server: Any
) -> None:
    """`ok: false` with an error name is classified by the shared table, not by its text."""
    expected = (code, code.retryable, 7.0 if code.retryable else None)
    assert failure_code(200, error) is code
    assert await _outcome(tag, aiohttp_server, 200, error) == expected


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (429, "ratelimited", FailureCode.RATE_LIMITED),
        (503, "message_not_found", FailureCode.UNAVAILABLE),
        (404, "message_not_found", FailureCode.GONE),
        (404, "invalid_auth", FailureCode.REJECTED),
        (413, "invalid_auth", FailureCode.TOO_LARGE),
    ],
)
def test_a_retryable_status_outranks_an_error_name(
    status: int, error: str, code: FailureCode
) -> None:
    """429/5xx decide first; then a known error name; then the status."""
    assert failure_code(status, error) is code


def test_the_code_alone_decides_the_retry() -> None:
    """Exactly the rate-limited, unavailable and transport codes are retryable."""
    retryable = sorted(c.value for c in FailureCode if c.retryable)
    assert retryable == ["rate_limited", "transport", "unavailable"]
    with pytest.raises(ValueError, match="gone is not retryable"):
        NotifyError("x", "y", code=FailureCode.GONE, retryable=True)
