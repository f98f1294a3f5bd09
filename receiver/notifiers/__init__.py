"""Notifiers, one file per integration, added to flamebot by one line in `build_notifiers`."""

from __future__ import annotations

from collections.abc import Callable

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
from receiver.store import Store

__all__ = ["Notification", "Notifier", "build_notifiers"]


def _ignore(outcome: str) -> None:
    return None


def build_notifiers(
    config: Config, store: Store, *, uploads: Callable[[str], None] = _ignore
) -> dict[str, Notifier]:
    """One notifier per `notifiers` entry, by name; `uploads` counts picture uploads."""
    built: dict[str, Notifier] = {}
    for settings in config.notifiers:
        notifier: Notifier
        if isinstance(settings, ConsoleNotifierSettings):
            notifier = ConsoleNotifier(settings.name)
        elif isinstance(settings, WebhookNotifierSettings):
            notifier = WebhookNotifier(settings)
        elif isinstance(settings, SlackNotifierSettings):
            notifier = SlackNotifier(settings, store, uploads=uploads)
        elif isinstance(settings, PagerDutyNotifierSettings):
            notifier = PagerDutyNotifier(settings, store)
        else:
            raise TypeError(f"no notifier for type {settings.type!r}")
        built[settings.name] = notifier
    return built
