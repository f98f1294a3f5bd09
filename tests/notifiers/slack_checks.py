"""Slack message checks: slack-sdk's Block Kit validation plus the limits it does not check."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
MAX_FIELDS = 10
MAX_FIELD_CHARS = 2000
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_BLOCKS_JSON = 12_000
MAX_VALUE_CHARS = 2000  # a button's value
MAX_OPTION_VALUE_CHARS = 150  # a menu option's value
# Alert-derived text that must never reach Slack unescaped.
INJECTIONS = ("<!channel>", "<http://x|y>", "<!here>", "<@")


def check_slack_message(message: dict[str, Any]) -> None:
    """Raise AssertionError (or SlackObjectFormationError) if Slack would reject `message`."""
    assert set(message) == {"text", "blocks"}
    assert message["text"].strip()
    blocks = message["blocks"]
    assert 0 < len(blocks) <= MAX_BLOCKS
    assert len(json.dumps(blocks, ensure_ascii=False)) <= MAX_BLOCKS_JSON
    block_ids = [b.get("block_id") for b in blocks]
    assert len(block_ids) == len(set(block_ids)), block_ids
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None
        assert parsed.to_dict() == raw
        _check_limits(raw)
    serialised = json.dumps(message, ensure_ascii=False)
    for injection in INJECTIONS:
        assert injection not in serialised, injection


def _check_limits(block: dict[str, Any]) -> None:
    if block["type"] == "header":
        assert len(block["text"]["text"]) <= MAX_HEADER_CHARS
    if block["type"] == "section":
        assert 0 < len(block["text"]["text"]) <= MAX_SECTION_CHARS
        fields = block.get("fields", [])
        assert len(fields) <= MAX_FIELDS
        assert all(0 < len(f["text"]) <= MAX_FIELD_CHARS for f in fields)
    if block["type"] == "actions":
        action_ids = [e["action_id"] for e in block["elements"]]
        assert len(action_ids) == len(set(action_ids))
        for element in block["elements"]:
            if "url" not in element:  # an interactive element: Slack sends its value back
                values = [element.get("value", "")]
                values += [o["value"] for o in element.get("options", [])]
                assert all(0 < len(v) <= MAX_OPTION_VALUE_CHARS for v in values[1:])
                assert len(values[0]) <= MAX_VALUE_CHARS
                continue
            assert element["url"].startswith(("http://", "https://"))
            assert not any(c in element["url"] for c in "|<> ")
