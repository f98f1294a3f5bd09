"""The webhook notifier: POSTs the alert group and its enrichment as JSON to a URL.

A generic forwarder for tools flamebot has no integration for. The body is
`{"id", "route", "group": <Alertmanager payload>, "enrichment": <EnrichmentResult>}`.
"""

from __future__ import annotations

import json

import httpx

from enrichers.clients.backend_http import USER_AGENT
from receiver.config import WebhookNotifierSettings
from receiver.notifiers.base import send
from receiver.seams import Notification

__all__ = ["WebhookNotifier"]


class WebhookNotifier:
    def __init__(
        self, settings: WebhookNotifierSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.name = settings.name
        self._url = settings.url
        headers = {"User-Agent": USER_AGENT, **settings.headers}
        if settings.bearer_token is not None:
            headers["Authorization"] = f"Bearer {settings.bearer_token.get_secret_value()}"
        self._client = httpx.AsyncClient(
            headers=headers, timeout=settings.timeout_seconds, transport=transport
        )

    async def notify(self, notification: Notification) -> None:
        body = {
            "id": notification.id,
            "route": notification.route,
            "group": json.loads(notification.payload.model_dump_json(by_alias=True)),
            "enrichment": json.loads(notification.enrichment.model_dump_json()),
        }
        await send(self._client, f"webhook {self.name}", "POST", self._url, json=body)

    async def aclose(self) -> None:
        await self._client.aclose()
