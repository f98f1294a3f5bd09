"""The `slack` config block: the signing secret, inline or from a file, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from receiver.config import ConfigError, load_config, secret_values


def _write(tmp_path: Path, text: str, name: str = "flamebot.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_signing_secret_file_is_read_and_kept_secret(tmp_path: Path) -> None:
    """`signing_secret_file` is read once (trailing newline stripped) and scrubbed from logs."""
    secret = _write(tmp_path, "8f742231b10e8888abcd99b1c2d3e4f5\n", "signing")
    config = load_config(_write(tmp_path, f"slack: {{signing_secret_file: {secret}}}\n"), {})
    assert config.slack is not None
    assert config.slack.signing_secret is not None
    assert config.slack.signing_secret.get_secret_value() == "8f742231b10e8888abcd99b1c2d3e4f5"
    assert "8f742231" not in repr(config)
    assert "8f742231b10e8888abcd99b1c2d3e4f5" in secret_values(config)


def test_without_the_block_there_is_no_endpoint_setting(tmp_path: Path) -> None:
    """No `slack` block: `config.slack` is None (and `/slack/interactions` is not served)."""
    assert load_config(_write(tmp_path, "server: {port: 9000}\n"), {}).slack is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slack: {}\n", ["slack.signing_secret: set signing_secret or signing_secret_file"]),
        ('slack: {signing_secret: ""}\n', ["slack.signing_secret: must not be empty"]),
        (
            "slack: {signing_secret: a, signing_secret_file: /x}\n",
            [
                "slack.signing_secret_file: set either signing_secret or"
                " signing_secret_file, not both"
            ],
        ),
        ("slack: {signing_secert: a}\n", ["slack.signing_secert: Extra inputs are not permitted"]),
    ],
)
def test_bad_slack_blocks_name_the_key(tmp_path: Path, text: str, expected: list[str]) -> None:
    """Each mistake in the `slack` block is an error naming its key path."""
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text), {})
    assert caught.value.problems == expected
