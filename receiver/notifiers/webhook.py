"""The webhook notifier: POSTs the alert group and its enrichment as JSON to a URL.

A generic forwarder for tools flamebot has no integration for. The body is
`{"id", "route", "group": <Alertmanager payload>, "enrichment": <EnrichmentResult>}`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import httpx
from pydantic import Field, SecretStr

from enrichers.clients.backend_http import USER_AGENT
from receiver.notifiers.base import NotifierSettingsBase, send
from receiver.notifiers.integration import Integration
from receiver.seams import Notification

__all__ = ["INTEGRATION", "WebhookNotifier", "WebhookNotifierSettings"]


class WebhookNotifierSettings(NotifierSettingsBase):
    """POSTs the alert group and its enrichment as JSON to `url` (a generic forwarder)."""

    secrets = ("bearer_token",)

    type: Literal["webhook"]
    url: str
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    bearer_token: SecretStr | None = None
    bearer_token_file: Path | None = None
    headers: dict[str, str] = Field(default_factory=dict)


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


INTEGRATION = Integration(WebhookNotifierSettings, lambda s, _: WebhookNotifier(s))
