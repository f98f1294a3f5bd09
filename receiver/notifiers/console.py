"""The console notifier: the enriched alert group as readable text on stdout."""

from __future__ import annotations

import sys
from typing import Literal, TextIO

from receiver.notifiers.base import NotifierSettingsBase
from receiver.notifiers.integration import Integration
from receiver.notifiers.summary import alert_name
from receiver.notifiers.templates import Templates
from receiver.notifiers.text import render_text
from receiver.seams import FollowUp, Notification

__all__ = ["INTEGRATION", "ConsoleNotifier", "ConsoleNotifierSettings"]


class ConsoleNotifierSettings(NotifierSettingsBase):
    type: Literal["console"]


class ConsoleNotifier:
    def __init__(
        self, name: str, stream: TextIO | None = None, *, templates: Templates | None = None
    ) -> None:
        self.name = name
        self._stream = stream
        self._templates = templates or Templates()

    async def notify(self, notification: Notification) -> None:
        payload, enrichment = notification.payload, notification.enrichment
        headline = self._templates.render("console_headline", payload, enrichment)
        self._write(render_text(payload, enrichment, notification.id, headline=headline))

    async def follow_up(self, follow_up: FollowUp) -> None:
        """`[FIX CHECK] HighCpuUsage (#12)` and the lines, indented."""
        head = f"[FIX CHECK] {alert_name(follow_up.payload)}  (#{follow_up.id})"
        self._write("\n".join([head, *(f"  {line}" for line in follow_up.lines)]))

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stdout
        # Labels may carry lone surrogates or other unencodable text: never fail on them.
        encoding = getattr(stream, "encoding", None) or "utf-8"
        safe = text.encode(encoding, errors="backslashreplace").decode(encoding)
        stream.write(safe + "\n")
        stream.flush()

    async def aclose(self) -> None:
        """Nothing to release: stdout stays open."""


INTEGRATION = Integration(
    ConsoleNotifierSettings, lambda s, c: ConsoleNotifier(s.name, templates=c.templates)
)
