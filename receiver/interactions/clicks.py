"""A Slack `block_actions` payload as the clicks flamebot understands, pure.

The request body is a form with one field, `payload`, holding JSON
(docs.slack.dev/reference/interaction-payloads/block_actions-payload): `type`
("block_actions"), `user` {`id`, `username`, `name`}, `channel` {`id`}, `container`
{`message_ts`, `channel_id`}, and `actions`, each with `action_id`, `block_id` and, for a
button, `value`, for a static select, `selected_option` {`value`}. Clicks on elements that
are not flamebot's (another app's, or a link button) are left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from receiver.notifiers.slack_actions import FEEDBACK, RERUN, SILENCE, parse_feedback, parse_ref

__all__ = ["Click", "parse_clicks"]


@dataclass(frozen=True, slots=True)
class Click:
    """One click on a flamebot button of the message `message_ts` in `channel`."""

    action: str  # SILENCE, RERUN or FEEDBACK
    notification_id: int
    user_id: str
    user_name: str
    channel: str
    message_ts: str
    shown: str | None = None  # FEEDBACK: the verdict the message showed
    actual: str | None = None  # FEEDBACK: the verdict the user chose


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")
    return value


def _document(body: bytes) -> dict[str, Any]:
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        return _object(json.loads(form["payload"][0]), "payload")
    except (UnicodeDecodeError, KeyError, IndexError) as exc:
        raise ValueError(f"not a form with a payload field ({type(exc).__name__})") from None


def _click(action: dict[str, Any], base: dict[str, str]) -> Click | None:
    kind = action.get("action_id")
    if kind in (SILENCE, RERUN):
        return Click(str(kind), parse_ref(str(action.get("value", ""))), **base)
    if kind == FEEDBACK:
        option = _object(action.get("selected_option"), "actions[].selected_option")
        nid, shown, actual = parse_feedback(str(option.get("value", "")))
        return Click(FEEDBACK, nid, **base, shown=shown, actual=actual)
    return None


def parse_clicks(body: bytes) -> list[Click]:
    """The flamebot clicks of an interaction request body; ValueError if it is not one."""
    doc = _document(body)
    if doc.get("type") != "block_actions":
        return []
    user = _object(doc.get("user"), "user")
    container = _object(doc.get("container"), "container")
    channel = _object(doc.get("channel") or {"id": container.get("channel_id")}, "channel")
    base = {
        "user_id": str(user.get("id", "")),
        "user_name": str(user.get("username") or user.get("name") or user.get("id", "")),
        "channel": str(channel.get("id") or ""),
        "message_ts": str(container.get("message_ts") or ""),
    }
    if not base["user_id"] or not base["channel"] or not base["message_ts"]:
        raise ValueError("user, channel and container.message_ts are required")
    actions = doc.get("actions")
    if not isinstance(actions, list):
        raise ValueError("actions: expected a list")
    found = [_click(_object(a, "actions[]"), base) for a in actions]
    return [c for c in found if c is not None]
