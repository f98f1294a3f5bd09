"""The console notifier: the enriched alert group as readable text on stdout."""

from __future__ import annotations

import sys
from typing import Literal, TextIO

from receiver.notifiers.base import NotifierSettingsBase
from receiver.notifiers.text import render_text
from receiver.seams import Notification

__all__ = ["ConsoleNotifier", "ConsoleNotifierSettings"]


class ConsoleNotifierSettings(NotifierSettingsBase):
    type: Literal["console"]


class ConsoleNotifier:
    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name = name
        self._stream = stream

    async def notify(self, notification: Notification) -> None:
        stream = self._stream or sys.stdout
        text = render_text(notification.payload, notification.enrichment, notification.id)
        # Labels may carry lone surrogates or other unencodable text: never fail on them.
        encoding = getattr(stream, "encoding", None) or "utf-8"
        safe = text.encode(encoding, errors="backslashreplace").decode(encoding)
        stream.write(safe + "\n")
        stream.flush()

    async def aclose(self) -> None:
        """Nothing to release: stdout stays open."""
