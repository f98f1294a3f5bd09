"""The table of integrations: one line per notifier type, after Alertmanager's `notify/`.

Each integration is one module holding its settings (the `notifiers` entries of its
`type`) beside its notifier; this table maps the type tag to both. The config's union of
notifier settings, the tags its error messages leave out of key paths, and
`build_notifiers` all come from it: a new integration is one file and one line here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar, Union

from pydantic import Field

from receiver.notifiers.base import NotifierSettingsBase
from receiver.notifiers.console import ConsoleNotifier, ConsoleNotifierSettings
from receiver.notifiers.pagerduty import PagerDutyNotifier, PagerDutyNotifierSettings
from receiver.notifiers.slack import SlackNotifier, SlackNotifierSettings
from receiver.notifiers.teams import TeamsNotifier, TeamsNotifierSettings
from receiver.notifiers.templates import Templates
from receiver.notifiers.webhook import WebhookNotifier, WebhookNotifierSettings
from receiver.seams import Notifier
from receiver.store import ConversationStore

__all__ = ["INTEGRATIONS", "Integration", "NotifierContext", "NotifierSettings", "build_notifiers"]

S = TypeVar("S", bound=NotifierSettingsBase)


def _ignore(outcome: str) -> None:
    return None


@dataclass(frozen=True)
class NotifierContext:
    """What the service hands a notifier beside its settings: its own conversations (the
    state it keeps per group), the counter of picture uploads (by outcome), the
    pipeline's `sleep` for a notifier that waits (tests drive time through it), and the
    `templates:` for the headlines it renders."""

    conversations: ConversationStore
    uploads: Callable[[str], None] = _ignore
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    templates: Templates = field(default_factory=Templates)


@dataclass(frozen=True)
class Integration(Generic[S]):
    settings: type[S]
    build: Callable[[S, NotifierContext], Notifier]


INTEGRATIONS: dict[str, Integration[Any]] = {
    "console": Integration(
        ConsoleNotifierSettings, lambda s, c: ConsoleNotifier(s.name, templates=c.templates)
    ),
    "webhook": Integration(WebhookNotifierSettings, lambda s, _: WebhookNotifier(s)),
    "slack": Integration(
        SlackNotifierSettings,
        lambda s, c: SlackNotifier(s, c.conversations, uploads=c.uploads, templates=c.templates),
    ),
    "pagerduty": Integration(
        PagerDutyNotifierSettings,
        lambda s, c: PagerDutyNotifier(s, c.conversations, sleep=c.sleep, templates=c.templates),
    ),
    "teams": Integration(TeamsNotifierSettings, lambda s, _: TeamsNotifier(s)),
}

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
) -> dict[str, Notifier]:
    """One notifier per `notifiers` entry, by name; each sees only its own conversations."""
    return {
        entry.name: INTEGRATIONS[entry.type].build(
            entry,
            NotifierContext(conversations(entry.name), uploads, sleep, templates or Templates()),
        )
        for entry in entries
    }
