"""The integrations table: each entry's settings beside its notifier, config and builder from it."""

from __future__ import annotations

import importlib
import json
import typing
from typing import Any

import pytest

from receiver.config import load_config
from receiver.notifiers import INTEGRATIONS, build_notifiers
from tests.fakes.notifiers import MemoryConversations

# The least each integration needs; a new integration is listed here too, or this fails.
MINIMAL: dict[str, dict[str, Any]] = {
    "console": {},
    "webhook": {"url": "http://hook.example/in"},
    "slack": {"token": "xoxb-test", "channel": "#payments"},
    "pagerduty": {"routing_key": "R" * 32},
    "teams": {"url": "https://flows.example/workflows/f/triggers/manual/paths/invoke?sig=s"},
}


def test_every_integration_is_listed_with_its_least_settings() -> None:
    """The table and this test's minimal settings name the same integrations."""
    assert sorted(INTEGRATIONS) == sorted(MINIMAL)


@pytest.mark.parametrize("tag", sorted(INTEGRATIONS))
def test_each_integrations_settings_live_beside_it_and_carry_its_tag(tag: str) -> None:
    """receiver/notifiers/<tag>.py defines the settings class whose `type` is the tag."""
    settings = INTEGRATIONS[tag].settings
    assert settings.__module__ == f"receiver.notifiers.{tag}"
    assert hasattr(importlib.import_module(settings.__module__), settings.__name__)
    assert typing.get_args(settings.model_fields["type"].annotation) == (tag,)


@pytest.mark.parametrize("tag", sorted(INTEGRATIONS))
async def test_each_integration_is_configured_and_built_from_the_table(tag: str) -> None:
    """A `notifiers` entry of each type parses to its settings and builds its notifier."""
    entry = {"name": "mine", "type": tag, **MINIMAL[tag]}
    config = load_config(None, environ={"FLAMEBOT__NOTIFIERS": json.dumps([entry])})
    (settings,) = config.notifiers
    assert type(settings) is INTEGRATIONS[tag].settings
    views: list[str] = []

    def conversations(name: str) -> MemoryConversations:
        views.append(name)
        return MemoryConversations()

    built = build_notifiers(config.notifiers, conversations)
    assert (list(built), built["mine"].name, views) == (["mine"], "mine", ["mine"])
    await built["mine"].aclose()
