"""In-process test doubles for the pipeline's seams: a recording notifier, a fixed enricher."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from enrichers.result import EnrichmentResult
from receiver.errors import NotifyError
from receiver.models import WebhookPayload
from receiver.seams import Notification


class RecordingNotifier:
    """Records what it is asked to deliver; `failures` scripts errors for the next attempts."""

    def __init__(self, name: str, failures: list[NotifyError] | None = None) -> None:
        self.name = name
        self.failures = list(failures or [])
        self.attempts: list[Notification] = []
        self.delivered: list[Notification] = []
        self.gate: asyncio.Event | None = None  # when set, deliveries wait for it
        self.closed = False

    async def notify(self, notification: Notification) -> None:
        self.attempts.append(notification)
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(notification)

    async def aclose(self) -> None:
        self.closed = True


class FixedEnricher:
    """Returns the same (empty) enrichment for every group and counts the calls."""

    def __init__(self, make: Callable[[WebhookPayload], EnrichmentResult] | None = None) -> None:
        self.calls: list[WebhookPayload] = []
        self._make = make
        self.started = False

    def start(self) -> None:
        self.started = True

    async def enrich(self, payload: WebhookPayload) -> EnrichmentResult:
        self.calls.append(payload)
        if self._make is not None:
            return self._make(payload)
        return EnrichmentResult(enriched_at=datetime(2026, 11, 25, 17, 30, tzinfo=UTC))

    async def aclose(self) -> None:
        return None


class MemoryConversations:
    """A notifier's conversation store (`receiver.store.ConversationStore`) in a dict."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}

    async def get(self, group_key: str) -> str | None:
        return self.states.get(group_key)

    async def set(self, group_key: str, state: str | None) -> None:
        if state is None:
            self.states.pop(group_key, None)
        else:
            self.states[group_key] = state
