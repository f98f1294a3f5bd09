"""What an integration module declares: its settings and how to build its notifier.

Each notifier module ends with `INTEGRATION = Integration(Settings, build)`; the registry
(`receiver.notifiers.registry`) lists the modules by type tag.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from receiver.notifiers.base import NotifierSettingsBase
from receiver.notifiers.templates import Templates
from receiver.seams import NoteQueue, Notifier
from receiver.store import ConversationStore

__all__ = ["Integration", "NotifierContext"]

S = TypeVar("S", bound=NotifierSettingsBase)


def _ignore(outcome: str) -> None:
    return None


@dataclass(frozen=True)
class NotifierContext:
    """What the service hands a notifier beside its settings: its own conversations (the
    state it keeps per group), the counter of picture uploads (by outcome), the
    pipeline's `sleep` for a notifier that waits (tests drive time through it), the
    `templates:` for the headlines it renders, and the service's note queue for a
    notifier that adds a note to the incident its event opened (None in one-shot
    commands)."""

    conversations: ConversationStore
    uploads: Callable[[str], None] = _ignore
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    templates: Templates = field(default_factory=Templates)
    notes: NoteQueue | None = None


@dataclass(frozen=True)
class Integration(Generic[S]):
    settings: type[S]
    build: Callable[[S, NotifierContext], Notifier]
