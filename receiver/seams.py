"""The service's two seams, in one place: what enriches an alert group and what delivers it.

`Enricher` is implemented by `enrichers.analysis.GroupEnricher` (and by fakes in the tests);
`Notifier` by one class per integration in `receiver.notifiers`. Both are one-method
protocols (plus their lifecycle), after Alertmanager's `notify.Notifier`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from enrichers.result import EnrichmentResult
from receiver.models import WebhookPayload

__all__ = ["Enricher", "Notification", "Notifier"]


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
