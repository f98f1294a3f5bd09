"""The service's two seams, in one place: what enriches an alert group and what delivers it.

`Enricher` is implemented by `enrichers.analysis.GroupEnricher` (and by fakes in the tests);
`Notifier` by one class per integration in `receiver.notifiers`. Both are one-method
protocols (plus their lifecycle), after Alertmanager's `notify.Notifier`. A notifier that
can add to a group's conversation later (the fix check after a resolve) also implements
`FollowUpNotifier`. A notifier whose delivery leaves a second step for later (PagerDuty's
note on the incident its event opened) hands it to a `NoteQueue` and implements
`NoteNotifier`: the service then makes one attempt at a time, and retries. A notifier
whose first delivery would pay a one-time cost (imports, a font) implements
`WarmingNotifier`: the service pays it at start-up, before it listens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from enrichers.result import EnrichmentResult
from receiver.models import WebhookPayload

__all__ = [
    "Enricher",
    "FollowUp",
    "FollowUpNotifier",
    "Note",
    "NoteNotifier",
    "NoteQueue",
    "Notification",
    "Notifier",
    "WarmingNotifier",
]


@dataclass(frozen=True, slots=True)
class Notification:
    """One accepted webhook, enriched, on its way to one notifier."""

    id: int
    route: str
    payload: WebhookPayload
    enrichment: EnrichmentResult
    # Which delivery this is (`<notification id>:<notifier>`), and, when an earlier send of
    # it was cut off by a crash or a lost replica, when its first send started: the
    # notifier may then look for what that send did before it sends again.
    delivery_id: str = ""
    resumed_since: float | None = None


class Enricher(Protocol):
    def start(self) -> None:
        """Begin the enricher's background work; called once when the service starts."""

    async def enrich(self, payload: WebhookPayload) -> EnrichmentResult:
        """Analyse an alert group; never raises for a failed backend (it says so instead)."""

    async def aclose(self) -> None:
        """Release the backend clients; called once at shutdown."""


class Notifier(Protocol):
    name: str

    async def notify(self, notification: Notification) -> None:
        """Deliver, or raise NotifyError saying whether a retry may help."""

    async def aclose(self) -> None:
        """Release connections; called once at shutdown."""


@dataclass(frozen=True, slots=True)
class FollowUp:
    """Lines added to a group's conversation after its notification `id` (e.g. the fix
    check after the resolve): a Slack thread reply, a PagerDuty note, console text."""

    id: int
    route: str
    payload: WebhookPayload
    lines: list[str]


@runtime_checkable
class FollowUpNotifier(Protocol):
    name: str

    async def follow_up(self, follow_up: FollowUp) -> None:
        """Add the lines to the group's conversation, or raise NotifyError (retryable or not);
        a notifier with nowhere to add them (no message of that group) does nothing."""


@dataclass(frozen=True, slots=True)
class Note:
    """The analysis a notifier adds to the far end's incident after its event went out
    (PagerDuty's incident note): durable work of the service, not of the delivery."""

    notifier: str
    group_key: str
    content: str
    notification_id: int = 0


class NoteQueue(Protocol):
    async def add(self, note: Note) -> bool:
        """Keep the note to be added (durably, before this returns); False when one for
        the notifier and group is already waiting (it stays: one note per incident)."""

    async def cancel(self, notifier: str, group_key: str) -> bool:
        """Drop the note waiting for the notifier and group; True when there was one."""


@runtime_checkable
class NoteNotifier(Protocol):
    name: str

    async def add_note(self, note: Note) -> bool:
        """One attempt: True when the note is there (added now or before), False when it
        cannot be added yet (the incident is not visible yet); or raise NotifyError."""

    def note_dropped(self, note: Note, error: Exception | None) -> None:
        """Say that the note will not be added: `error` the last failure, None when the
        incident never became visible in the retry budget."""


@runtime_checkable
class WarmingNotifier(Protocol):
    name: str

    async def warm(self) -> None:
        """Pay now, once, what the first delivery would pay; never raises (a failure here
        is the first delivery's to report)."""
