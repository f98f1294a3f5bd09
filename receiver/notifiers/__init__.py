"""Notifiers, one file per integration (its settings beside it), listed in one table
(`registry.INTEGRATIONS`) from which the config and `build_notifiers` are derived."""

from __future__ import annotations

from receiver.notifiers.registry import INTEGRATIONS, NotifierSettings, build_notifiers
from receiver.seams import Notification, Notifier

__all__ = ["INTEGRATIONS", "Notification", "Notifier", "NotifierSettings", "build_notifiers"]
