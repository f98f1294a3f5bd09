"""The real flamebot receiver as the demo runs it: `Service` + `build_app` on loopback.

Only two things differ from `flamebot serve`: the enricher's clock is the scenario's (so the
windows, links and messages are the same on every run; so is how long an enrichment took,
which is timed on that clock too, never on the machine's) and the console notifier writes
into a buffer per notification, which the demo prints once the delivery is recorded, so the
output comes in a fixed order.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from aiohttp import web

from enrichers.analysis import GroupEnricher
from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient
from enrichers.result import EnrichmentResult
from receiver.app import build_app
from receiver.config import Config
from receiver.errors import FlamebotError
from receiver.models import WebhookPayload
from receiver.notifiers.console import ConsoleNotifier
from receiver.seams import Notification
from receiver.service import Service

__all__ = ["DeliveredAlert", "DemoError", "DemoReceiver", "OnCallConsole", "ScenarioTimedEnricher"]

DELIVERY_TIMEOUT_SECONDS = 30.0
SHUTDOWN_GRACE_SECONDS = 5.0


class DemoError(FlamebotError):
    """The demo could not complete a step; the message says which."""


@dataclass(frozen=True)
class DeliveredAlert:
    answer: dict[str, Any]  # the receiver's HTTP answer, e.g. {"status": "accepted", "id": 1}
    notification: Notification
    console_text: str  # what the console notifier wrote


class OnCallConsole:
    """The console notifier, writing each notification to its own buffer, kept by id."""

    def __init__(self, name: str = "console") -> None:
        self.name = name
        self._delivered: dict[int, asyncio.Future[tuple[Notification, str]]] = {}

    def _future(self, nid: int) -> asyncio.Future[tuple[Notification, str]]:
        return self._delivered.setdefault(nid, asyncio.get_running_loop().create_future())

    async def notify(self, notification: Notification) -> None:
        buffer = io.StringIO()
        await ConsoleNotifier(self.name, buffer).notify(notification)
        future = self._future(notification.id)
        if not future.done():
            future.set_result((notification, buffer.getvalue()))

    async def delivered(self, nid: int) -> tuple[Notification, str]:
        return await self._future(nid)

    async def aclose(self) -> None:
        """Nothing to release."""


class ScenarioTimedEnricher:
    """The demo's enricher, timed on the scenario's clock like everything else it prints.

    The enricher measures its duration on the machine's monotonic clock, which a busy
    machine stretches (`enriched in 0.1 s` on one run, `0.0 s` on the next); the demo's
    clock is fixed, so on it an enrichment takes the same time on every run.
    """

    def __init__(self, enricher: GroupEnricher, clock: Callable[[], datetime]) -> None:
        self.enricher = enricher
        self._clock = clock

    def start(self) -> None:
        self.enricher.start()

    async def listed(self) -> None:
        await self.enricher.listed()

    async def enrich(self, payload: WebhookPayload) -> EnrichmentResult:
        began = self._clock()
        result = await self.enricher.enrich(payload)
        took = (self._clock() - began).total_seconds()
        return result.model_copy(update={"duration_seconds": round(took, 3)})

    async def aclose(self) -> None:
        await self.enricher.aclose()


class DemoReceiver:
    """`async with DemoReceiver(config, clock) as receiver: await receiver.fire(body)`."""

    def __init__(self, config: Config, clock: Callable[[], datetime]) -> None:
        self.console = OnCallConsole()
        enricher = GroupEnricher(
            config.enrichment,
            config.grafana,
            PrometheusClient(config.prometheus),
            PyroscopeClient(config.pyroscope),
            clock=clock,
        )
        self._enricher = ScenarioTimedEnricher(enricher, clock)
        self.service = Service(config, enricher=self._enricher, notifiers={"console": self.console})
        self._config = config
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.url = ""

    async def __aenter__(self) -> DemoReceiver:
        await self.service.start()
        await self._enricher.listed()  # deterministic: every alert finds the listing done
        self._runner = web.AppRunner(build_app(self._config, self.service), access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await self._site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._site is not None:
            await self._site.stop()
        await self.service.stop(SHUTDOWN_GRACE_SECONDS)
        if self._runner is not None:
            await self._runner.cleanup()

    async def fire(self, body: dict[str, Any]) -> DeliveredAlert:
        """POST the webhook over HTTP and wait until the console notifier delivered it."""
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                response = await client.post(f"{self.url}/webhook", json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DemoError(f"posting the webhook failed: {type(exc).__name__}") from None
        if response.status_code != 200 or answer.get("status") != "accepted":
            raise DemoError(f"the receiver answered {response.status_code}: {answer}")
        try:
            notification, text = await asyncio.wait_for(
                self.console.delivered(answer["id"]), DELIVERY_TIMEOUT_SECONDS
            )
        except TimeoutError:
            raise DemoError(
                f"notification {answer['id']} was not delivered within"
                f" {DELIVERY_TIMEOUT_SECONDS:g} s"
            ) from None
        return DeliveredAlert(answer, notification, text)
