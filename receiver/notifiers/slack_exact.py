"""Slack posts made exactly once in effect (PRODUCT.md §7.4): every post carries message
metadata naming its delivery, and a send that may have happened already (a retry, or a
delivery found in flight after a crash or a lost replica) first looks for it.

The metadata is `{"event_type": "flamebot_notification", "event_payload": {"delivery":
"<notification id>:<notifier>", "part": "message" | "reply"}}`. The look-up reads
`conversations.history` (a new message) or `conversations.replies` (a thread reply) with
`include_all_metadata=true`, from a minute before the first send of the delivery started
(clocks differ), page by page; only a message whose metadata names this delivery and part
counts. `conversations.history` needs the channel *ID*: the notifier remembers the ID each
post returns, and finds it by name (`conversations.list`) when a crash came before any
post returned; a channel configured by ID needs neither.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = [
    "CHANNEL_ID_KEY",
    "EVENT_TYPE",
    "find_channel_id",
    "find_sent",
    "is_channel_id",
    "metadata",
]

EVENT_TYPE = "flamebot_notification"
CLOCK_MARGIN_SECONDS = 60.0  # look from this long before the first send started
PAGE = 200
MAX_PAGES = 20  # a busy channel: 4,000 messages since the send is plenty
CHANNEL_ID_KEY = "flamebot:channel-id"  # the conversation key the channel's ID is kept under

Call = Callable[..., Awaitable[dict[str, Any]]]


def metadata(delivery_id: str, part: str) -> dict[str, Any]:
    """The metadata of a post of `delivery_id` (`part`: the message or its thread reply)."""
    return {"event_type": EVENT_TYPE, "event_payload": {"delivery": delivery_id, "part": part}}


def is_channel_id(channel: str) -> bool:
    return re.fullmatch(r"[CGD][A-Z0-9]{6,}", channel) is not None


def _names(message: dict[str, Any], delivery_id: str, part: str) -> bool:
    found = message.get("metadata")
    if not isinstance(found, dict) or found.get("event_type") != EVENT_TYPE:
        return False
    payload = found.get("event_payload")
    return (
        isinstance(payload, dict)
        and payload.get("delivery") == delivery_id
        and payload.get("part") == part
    )


async def find_sent(
    call: Call, method: str, delivery_id: str, part: str, since: float, **where: Any
) -> str | None:
    """The ts of the message an earlier send of `delivery_id` posted, or None."""
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        data = await call(
            method,
            oldest=f"{since - CLOCK_MARGIN_SECONDS:.6f}",
            include_all_metadata=True,
            limit=PAGE,
            cursor=cursor,
            **where,
        )
        for message in data.get("messages") or []:
            if isinstance(message, dict) and _names(message, delivery_id, part):
                return str(message.get("ts", ""))
        cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor or not data.get("has_more"):
            return None
    return None


async def find_channel_id(call: Call, channel: str) -> str | None:
    """The ID of the channel named `channel` (`#name` or `name`), or None."""
    name = channel.removeprefix("#")
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        data = await call(
            "conversations.list",
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=PAGE,
            cursor=cursor,
        )
        for found in data.get("channels") or []:
            if isinstance(found, dict) and found.get("name") == name:
                return str(found.get("id"))
        cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
    return None
