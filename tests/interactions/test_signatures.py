"""`POST /slack/interactions` believes only Slack: every request without a valid, fresh,
first-time v0 signature is answered 401, and nothing happens (no Slack call, no silence in
the real Alertmanager)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from receiver.notifiers.slack_actions import SILENCE
from tests.fakes.slack_interactions import click_payload, sign, signed_request
from tests.interactions.conftest import SECRET, World

Request = tuple[bytes, dict[str, str]]


def _without(header: str) -> Callable[[bytes, dict[str, str], int], list[Request]]:
    def make(body: bytes, headers: dict[str, str], now: int) -> list[Request]:
        return [(body, {k: v for k, v in headers.items() if k != header})]

    return make


def _with(**changes: str) -> Callable[[bytes, dict[str, str], int], list[Request]]:
    def make(body: bytes, headers: dict[str, str], now: int) -> list[Request]:
        return [(body, {**headers, **changes})]

    return make


def _signed(at: Callable[[int], int], secret: str = SECRET) -> Callable[..., list[Request]]:
    def make(body: bytes, headers: dict[str, str], now: int) -> list[Request]:
        ts = at(now)
        return [(body, {**headers, "X-Slack-Request-Timestamp": str(ts), **_sig(secret, ts, body)})]

    return make


def _sig(secret: str, ts: int, body: bytes) -> dict[str, str]:
    return {"X-Slack-Signature": sign(secret, ts, body)}


def _tampered(body: bytes, headers: dict[str, str], now: int) -> list[Request]:
    return [(body.replace(b"alice", b"mallory"), headers)]  # signed before it was changed


def _retimed(body: bytes, headers: dict[str, str], now: int) -> list[Request]:
    # An old request's signature with a fresh timestamp: the timestamp is signed too.
    return [(body, {**headers, "X-Slack-Request-Timestamp": str(now + 1)})]


def _replayed(body: bytes, headers: dict[str, str], now: int) -> list[Request]:
    return [(body, headers), (body, headers)]  # the first is Slack's, the second a replay


CASES: dict[str, tuple[Callable[[bytes, dict[str, str], int], list[Request]], str]] = {
    "missing: no signature": (_without("X-Slack-Signature"), "missing"),
    "missing: no timestamp": (_without("X-Slack-Request-Timestamp"), "missing"),
    "missing: both": (
        lambda b, h, n: [(b, {"Content-Type": "application/x-www-form-urlencoded"})],
        "missing",
    ),
    "missing: empty signature": (_with(**{"X-Slack-Signature": ""}), "missing"),
    "bad: another secret": (_signed(lambda now: now, "another-apps-secret"), "bad"),
    "bad: body changed after signing": (_tampered, "bad"),
    "bad: signature of another timestamp": (_retimed, "bad"),
    "bad: not v0": (_with(**{"X-Slack-Signature": "v1=" + "0" * 64}), "bad"),
    "bad: timestamp not a number": (_with(**{"X-Slack-Request-Timestamp": "17e8"}), "bad"),
    "stale: 5 min 1 s old": (_signed(lambda now: now - 301), "stale"),
    "stale: 5 min 1 s ahead": (_signed(lambda now: now + 301), "stale"),
    "replayed: the same request again": (_replayed, "replayed"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_unsigned_requests_get_401_and_do_nothing(world: World, case: str) -> None:
    """A request Slack did not sign, signed long ago or already sent gets 401 and does nothing."""
    make, reason = CASES[case]
    message = await world.alert_message()
    now = int(world.time.now)
    body, headers = signed_request(click_payload(message, SILENCE), SECRET, now)
    *earlier, (bad_body, bad_headers) = make(body, headers, now)
    for first_body, first_headers in earlier:  # the genuine request of a replay
        ok = await world.client.post("/slack/interactions", data=first_body, headers=first_headers)
        assert ok.status == 200
    await world.service.interactions.idle()
    calls, silences = list(world.slack.calls), world.silences()

    response = await world.client.post("/slack/interactions", data=bad_body, headers=bad_headers)
    assert response.status == 401
    assert await response.json() == {
        "error": "unauthorized",
        "detail": f"Slack signature {reason}",
    }
    await world.service.interactions.idle()
    assert world.slack.calls == calls
    assert world.silences() == silences
    assert len(world.slack.replies(message.ts)) == len(earlier)


async def test_a_valid_signature_is_accepted_at_the_edge_of_the_window(world: World) -> None:
    """Exactly 5 minutes old is still fresh (Slack's rule is "more than five minutes")."""
    world.time.now = float(int(world.time.now))  # a whole second: exactly 300 s apart
    message = await world.alert_message()
    response = await world.send(click_payload(message, SILENCE), at=int(world.time.now) - 300)
    assert response.status == 200


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"payload=%7Bnot+json", "Expecting property name enclosed in double quotes"),
        (b"text=hello", "not a form with a payload field (KeyError)"),
        (b"payload=%5B%5D", "payload: expected an object"),
    ],
)
async def test_signed_nonsense_is_a_400(world: World, body: bytes, detail: str) -> None:
    """A signed body that is not an interaction payload: 400 invalid_payload, nothing done."""
    now = int(world.time.now)
    headers: dict[str, Any] = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(now),
        "X-Slack-Signature": sign(SECRET, now, body),
    }
    response = await world.client.post("/slack/interactions", data=body, headers=headers)
    assert response.status == 400
    answer = await response.json()
    assert answer["error"] == "invalid_payload"
    assert answer["detail"].startswith(detail)
    assert world.slack.calls == []
