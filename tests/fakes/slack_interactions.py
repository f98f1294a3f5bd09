"""Slack's side of interactivity: a user clicking a button of a message the fake holds,
sent to the app's request URL the way Slack sends it.

Wire facts (docs.slack.dev/reference/interaction-payloads/block_actions-payload and
docs.slack.dev/authentication/verifying-requests-from-slack): a POST with
`Content-Type: application/x-www-form-urlencoded` and one form field, `payload`, holding
the JSON; headers `X-Slack-Request-Timestamp` (epoch seconds) and `X-Slack-Signature`
(`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` with the app's signing secret). Only
elements that are in the message can be clicked, and a select sends the option chosen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

from tests.fakes.slack import Message

__all__ = ["ALICE", "click_payload", "sign", "signed_request"]

ALICE = {"id": "U0ALICE", "username": "alice", "name": "alice", "team_id": "T0ACME"}


def _element(message: Message, action_id: str) -> tuple[str, dict[str, Any]]:
    for block in message.blocks:
        if block.get("type") != "actions":
            continue
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(block["block_id"]), element
    raise AssertionError(f"no element {action_id!r} in the message {message.ts}")


def click_payload(
    message: Message,
    action_id: str,
    *,
    option: str | None = None,
    user: dict[str, str] = ALICE,
) -> dict[str, Any]:
    """The `block_actions` payload of `user` clicking `action_id` in `message` (for a
    select, choosing the option whose text is `option`)."""
    block_id, element = _element(message, action_id)
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": element["type"],
        "action_ts": "1700000100.000200",
    }
    if element["type"] == "button":
        action.update(text=element["text"], value=element["value"])
    else:
        chosen = [o for o in element["options"] if o["text"]["text"] == option]
        assert len(chosen) == 1, f"no option {option!r}"
        action.update(selected_option=chosen[0], placeholder=element["placeholder"])
    return {
        "type": "block_actions",
        "user": user,
        "api_app_id": "A0FLAMEBOT",
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": False,
        },
        "trigger_id": "1700000100.1.abc",
        "team": {"id": "T0ACME", "domain": "acme"},
        "channel": {"id": message.channel, "name": "payments"},
        "message": {"type": "message", "ts": message.ts, "text": message.text},
        "response_url": "https://hooks.slack.com/actions/T0ACME/1/xyz",
        "actions": [action],
    }


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_request(
    payload: dict[str, Any], secret: str, timestamp: int
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Slack sends for `payload` at `timestamp`."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(secret, timestamp, body),
    }
    return body, headers
