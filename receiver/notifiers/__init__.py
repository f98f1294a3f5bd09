"""Notifiers, one file per integration, added to flamebot by one line in `build_notifiers`."""

from __future__ import annotations

from receiver.config import (
    Config,
    ConsoleNotifierSettings,
    PagerDutyNotifierSettings,
    SlackNotifierSettings,
    WebhookNotifierSettings,
)
from receiver.notifiers.console import ConsoleNotifier
from receiver.notifiers.pagerduty import PagerDutyNotifier
from receiver.notifiers.slack import SlackNotifier
from receiver.notifiers.webhook import WebhookNotifier
from receiver.seams import Notification, Notifier
from receiver.store.conversations import Conversations

__all__ = ["Notification", "Notifier", "build_notifiers"]


def build_notifiers(config: Config, conversations: Conversations) -> dict[str, Notifier]:
    """One notifier per `notifiers` entry, by name; each sees only its own conversations."""
    built: dict[str, Notifier] = {}
    for settings in config.notifiers:
        notifier: Notifier
        if isinstance(settings, ConsoleNotifierSettings):
            notifier = ConsoleNotifier(settings.name)
        elif isinstance(settings, WebhookNotifierSettings):
            notifier = WebhookNotifier(settings)
        elif isinstance(settings, SlackNotifierSettings):
            notifier = SlackNotifier(settings, conversations.of(settings.name))
        elif isinstance(settings, PagerDutyNotifierSettings):
            notifier = PagerDutyNotifier(settings, conversations.of(settings.name))
        else:
            raise TypeError(f"no notifier for type {settings.type!r}")
        built[settings.name] = notifier
    return built
