"""The buttons of every Slack alert message, and what their values carry, pure.

One actions block (`interactive_block`): **Silence 1h** (while the group fires), **Re-run
analysis**, and **Wrong verdict?**, a static select of the other verdicts. Each element's
value names the notification the message shows (its id in the store, which holds the group
key, the payload and the enrichment), so a click needs nothing from the message itself:
buttons carry `"<id>"`, select options `"<id>:<shown verdict>:<actual verdict>"`, far within
Slack's limits (button value 2000 characters, option value 150). The block's ID carries the
id too: Slack wants a new block ID for each version of a message.

`POST /slack/interactions` (`receiver.interactions`) reads these values back with
`parse_ref` and `parse_feedback`.
"""

from __future__ import annotations

from typing import Any

from enrichers.result import VERDICTS, EnrichmentResult
from receiver.models import WebhookPayload
from receiver.notifiers.summary import primary_analysis

__all__ = [
    "ACTIONS_PREFIX",
    "FEEDBACK",
    "OPTION_VALUE_MAX",
    "RERUN",
    "SILENCE",
    "VALUE_MAX",
    "feedback_value",
    "interactive_block",
    "parse_feedback",
    "parse_ref",
]

SILENCE = "flamebot_silence"
RERUN = "flamebot_rerun"
FEEDBACK = "flamebot_feedback"
ACTIONS_PREFIX = "actions-"
VALUE_MAX = 2000  # a button's value
OPTION_VALUE_MAX = 150  # an option's value


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def feedback_value(notification_id: int, shown: str, actual: str) -> str:
    return f"{notification_id}:{shown}:{actual}"


def parse_ref(value: str) -> int:
    """The notification id a button's value names; ValueError when it names none."""
    if not value.isdigit():
        raise ValueError(f"not a notification id: {value[:40]!r}")
    return int(value)


def parse_feedback(value: str) -> tuple[int, str, str]:
    """(notification id, verdict shown, verdict the user says it was) of a select option."""
    ref, _, rest = value.partition(":")
    shown, _, actual = rest.partition(":")
    if shown not in VERDICTS or actual not in VERDICTS:
        raise ValueError(f"not a verdict feedback: {value[:60]!r}")
    return parse_ref(ref), shown, actual


def interactive_block(
    notification_id: int, payload: WebhookPayload, enrichment: EnrichmentResult
) -> dict[str, Any]:
    """The message's interactive buttons, for the notification `notification_id`."""
    ref = str(notification_id)
    lead = primary_analysis(enrichment)
    shown = lead.verdict if lead is not None else "UNKNOWN"
    elements: list[dict[str, Any]] = []
    if payload.status == "firing":
        elements.append(
            {"type": "button", "action_id": SILENCE, "text": _plain("Silence 1h"), "value": ref}
        )
    elements.append(
        {"type": "button", "action_id": RERUN, "text": _plain("Re-run analysis"), "value": ref}
    )
    options = [
        {"text": _plain(verdict), "value": feedback_value(notification_id, shown, verdict)}
        for verdict in VERDICTS
        if verdict != shown
    ]
    elements.append(
        {
            "type": "static_select",
            "action_id": FEEDBACK,
            "placeholder": _plain("Wrong verdict?"),
            "options": options,
        }
    )
    return {"type": "actions", "block_id": f"{ACTIONS_PREFIX}{ref}", "elements": elements}
