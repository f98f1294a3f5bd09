"""The service's two seams, in one place: what enriches an alert group and what delivers it.

`Enricher` is implemented by `enrichers.analysis.GroupEnricher` (and by fakes in the tests);
`Notifier` by one class per integration in `receiver.notifiers`. Both are one-method
protocols (plus their lifecycle), after Alertmanager's `notify.Notifier`. A notifier that
can add to a group's conversation later (the fix check after a resolve) also implements
`FollowUpNotifier`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from enrichers.result import EnrichmentResult
from receiver.models import WebhookPayload

__all__ = ["Enricher", "FollowUp", "FollowUpNotifier", "Notification", "Notifier"]


@dataclass(frozen=True, slots=True)
class Notification:
    """One accepted webhook, enriched, on its way to one notifier."""

    id: int
    route: str
    payload: WebhookPayload
    enrichment: EnrichmentResult


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
