"""The table of integrations: one line per notifier type, after Alertmanager's `notify/`.

Each integration is one module holding its settings (the `notifiers` entries of its
`type`) beside its notifier; this table maps the type tag to both. The config's union of
notifier settings, the tags its error messages leave out of key paths, and
`build_notifiers` all come from it: a new integration is one file and one line in `MODULES`.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field

from receiver.notifiers.base import NotifierSettingsBase
from receiver.notifiers.integration import Integration, NotifierContext
from receiver.notifiers.templates import Templates
from receiver.seams import NoteQueue, Notifier
from receiver.store import ConversationStore

__all__ = ["INTEGRATIONS", "Integration", "NotifierContext", "NotifierSettings", "build_notifiers"]

# The integrations by type tag: each is the module `receiver.notifiers.<tag>`, whose
# `INTEGRATION` names its settings and builds its notifier. A new one is a line here.
MODULES = (
    "console",
    "webhook",
    "slack",
    "pagerduty",
    "teams",
)
INTEGRATIONS: dict[str, Integration[Any]] = {
    tag: importlib.import_module(f"receiver.notifiers.{tag}").INTEGRATION for tag in MODULES
}


def _ignore(outcome: str) -> None:
    return None


if TYPE_CHECKING:
    NotifierSettings = NotifierSettingsBase
else:  # one `notifiers` entry: the settings of the integration its `type` names
    NotifierSettings = Annotated[
        Union[tuple(i.settings for i in INTEGRATIONS.values())],  # noqa: UP007
        Field(discriminator="type"),
    ]


def build_notifiers(
    entries: Sequence[NotifierSettingsBase],
    conversations: Callable[[str], ConversationStore],
    *,
    uploads: Callable[[str], None] = _ignore,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    templates: Templates | None = None,
    notes: NoteQueue | None = None,
) -> dict[str, Notifier]:
    """One notifier per `notifiers` entry, by name; each sees only its own conversations."""
    return {
        entry.name: INTEGRATIONS[entry.type].build(
            entry,
            NotifierContext(
                conversations(entry.name), uploads, sleep, templates or Templates(), notes
            ),
        )
        for entry in entries
    }
