"""The buttons' block: what each element carries, within Slack's limits, valid Block Kit."""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import Block

from enrichers.result import VERDICTS
from receiver.notifiers.slack_actions import (
    OPTION_VALUE_MAX,
    VALUE_MAX,
    interactive_block,
    parse_feedback,
    parse_ref,
)
from receiver.notifiers.slack_blocks import render_slack
from tests.notifiers.samples import load_payload, reference_enrichment

PAYLOAD = load_payload("reference-highcpuusage.json")
RESOLVED = load_payload("reference-highcpuusage-resolved.json")

OTHERS = [v for v in VERDICTS if v != "CPU-BOUND"]


def test_firing_message_has_silence_rerun_and_feedback() -> None:
    """A firing group's buttons carry the notification id; the menu offers the other verdicts."""
    block = interactive_block(42, PAYLOAD, reference_enrichment(PAYLOAD))
    assert block == {
        "type": "actions",
        "block_id": "actions-42",
        "elements": [
            {
                "type": "button",
                "action_id": "flamebot_silence",
                "text": {"type": "plain_text", "text": "Silence 1h", "emoji": True},
                "value": "42",
            },
            {
                "type": "button",
                "action_id": "flamebot_rerun",
                "text": {"type": "plain_text", "text": "Re-run analysis", "emoji": True},
                "value": "42",
            },
            {
                "type": "static_select",
                "action_id": "flamebot_feedback",
                "placeholder": {"type": "plain_text", "text": "Wrong verdict?", "emoji": True},
                "options": [
                    {
                        "text": {"type": "plain_text", "text": v, "emoji": True},
                        "value": f"42:CPU-BOUND:{v}",
                    }
                    for v in OTHERS
                ],
            },
        ],
    }


def test_resolved_message_has_no_silence_button() -> None:
    """Nothing to silence once the group resolved: re-run and feedback stay."""
    block = interactive_block(7, RESOLVED, reference_enrichment(RESOLVED))
    actions = [e["action_id"] for e in block["elements"]]
    assert actions == ["flamebot_rerun", "flamebot_feedback"]


def test_values_fit_slack_limits_and_the_block_validates() -> None:
    """Even with the largest id the values fit Slack's limits and slack-sdk accepts the block."""
    nid = 2**63 - 1
    block = interactive_block(nid, PAYLOAD, reference_enrichment(PAYLOAD))
    buttons = [e for e in block["elements"] if e["type"] == "button"]
    options = block["elements"][-1]["options"]
    assert max(len(b["value"]) for b in buttons) <= VALUE_MAX
    assert max(len(o["value"]) for o in options) <= OPTION_VALUE_MAX
    assert len(block["block_id"]) <= 255
    parsed = Block.parse(block)
    assert parsed is not None
    parsed.validate_json()
    assert parse_ref(buttons[0]["value"]) == nid
    assert parse_feedback(options[0]["value"]) == (nid, "CPU-BOUND", "GC-BOUND")


def test_the_message_carries_the_block_only_with_a_notification_id() -> None:
    """render_slack adds the buttons after the links only when given a notification id."""
    enrichment = reference_enrichment(PAYLOAD)
    plain = render_slack(PAYLOAD, enrichment)["blocks"]
    with_buttons = render_slack(PAYLOAD, enrichment, notification_id=3)["blocks"]
    ids = [b["block_id"] for b in with_buttons]
    assert [b for b in with_buttons if b["block_id"] != "actions-3"] == plain
    assert ids.index("actions-3") == ids.index("links-group") + 1


@pytest.mark.parametrize(
    "value",
    ["", "x", "-1", "12:CPU-BOUND", "12:CPU-BOUND:FAST", "12:SLOW:HEALTHY", "a:HEALTHY:UNKNOWN"],
)
def test_values_that_are_not_ours_are_refused(value: str) -> None:
    """A value flamebot did not write raises ValueError (the request is then a 400)."""
    parse = parse_feedback if ":" in value else parse_ref
    with pytest.raises(ValueError, match="not a"):
        parse(value)
