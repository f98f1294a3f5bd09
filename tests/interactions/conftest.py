"""A flamebot service whose Slack messages carry buttons, a fake Slack that clicks them, and
a real Alertmanager (the Debian binary in .tools/bin) that takes the silences."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestClient

from enrichers.result import EnrichmentResult, Hotspot
from receiver.app import build_app
from receiver.config import Config
from receiver.models import WebhookPayload
from receiver.service import Service
from tests.fakes.clock import FakeTime
from tests.fakes.slack import FakeSlack, Message
from tests.fakes.slack_interactions import signed_request
from tests.notifiers.samples import SHA256, load_payload, reference_enrichment
from tests.support.alertmanager import Alertmanager, running_alertmanager
from tests.support.waiting import SETTLE_SECONDS

SECRET = "8f742231b10e8888abcd99b1c2d3e4f5"
# Only the API is used: no route ever notifies anyone.
AM_CONFIG = {"route": {"receiver": "nobody"}, "receivers": [{"name": "nobody"}]}


class SecondOpinion:
    """The enricher: the reference analysis (CPU-BOUND, sha256 at 34.2%) on delivery, and
    sha256 at 41.0% for every analysis after it; `gate`, when set, holds those."""

    def __init__(self) -> None:
        self.calls: list[WebhookPayload] = []
        self.gate: asyncio.Event | None = None

    def start(self) -> None:
        return None

    async def enrich(self, payload: WebhookPayload) -> EnrichmentResult:
        self.calls.append(payload)
        first = reference_enrichment(payload)
        if len(self.calls) == 1:
            return first
        if self.gate is not None:
            await self.gate.wait()
        return fresh_enrichment(payload)

    async def aclose(self) -> None:
        return None


def fresh_enrichment(payload: WebhookPayload) -> EnrichmentResult:
    """What a second analysis of the group finds: the hotspot grew to 41.0%."""
    first = reference_enrichment(payload)
    hotspot = Hotspot(
        function=SHA256, profile="cpu", self_pct=41.0, baseline_pct=5.1, culprit=SHA256
    )
    service = first.services[0].model_copy(update={"hotspot": hotspot})
    return first.model_copy(update={"services": [service]})


@dataclass
class World:
    """The service, its HTTP app, Slack, Alertmanager, the clock and the enricher."""

    service: Service
    client: TestClient[Any, Any]
    slack: FakeSlack
    alertmanager: Alertmanager
    time: FakeTime
    enricher: SecondOpinion
    payload: WebhookPayload

    async def alert_message(self) -> Message:
        """Deliver the reference alert group; its Slack message."""
        await self.service.accept("default", self.payload)
        assert await self.service.dispatcher.wait_idle(SETTLE_SECONDS)
        [message] = self.slack.top_level()
        return message

    async def send(
        self, payload: dict[str, Any], *, at: int | None = None, secret: str = SECRET
    ) -> Any:
        """POST `payload` as Slack signs it (at `at`, default now)."""
        body, headers = signed_request(payload, secret, int(self.time.now) if at is None else at)
        return await self.client.post("/slack/interactions", data=body, headers=headers)

    def silences(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(
            f"{self.alertmanager.url}/api/v2/silences", timeout=5
        ).json()
        return found


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    """One real Alertmanager for the module's tests, stopped (by pid) at the end."""
    with running_alertmanager(tmp_path_factory.mktemp("am"), AM_CONFIG) as am:
        yield am


def world_config(tmp_path: Path, slack_url: str, am_url: str | None) -> Config:
    alertmanager = {} if am_url is None else {"alertmanager": {"url": am_url, "timeout_seconds": 5}}
    return Config.model_validate(
        {
            "store": {"path": str(tmp_path / "flamebot.db")},
            "slack": {"signing_secret": SECRET},
            **alertmanager,
            "notifiers": [
                {
                    "name": "slack",
                    "type": "slack",
                    "token": "xoxb-test-token",
                    "channel": "#payments",
                    "api_url": slack_url,
                    "flamegraph": False,
                }
            ],
        }
    )


@pytest.fixture
async def make_world(
    tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any, alertmanager: Alertmanager
) -> AsyncIterator[Callable[..., Awaitable[World]]]:
    """Start a service against the fakes, with `alertmanager.url` = `am_url` (default the
    real Alertmanager; None: no `alertmanager` block); every one is stopped after the test."""
    started: list[Service] = []

    async def make(am_url: str | None = alertmanager.url) -> World:
        slack = FakeSlack()
        slack_server = await aiohttp_server(slack.app())
        config = world_config(tmp_path, str(slack_server.make_url("/api/")), am_url)
        time, enricher = FakeTime(), SecondOpinion()
        service = Service(config, enricher=enricher, clock=time.clock, sleep=time.sleep)
        await service.start()
        started.append(service)
        assert service.slack_endpoint is not None
        client = await aiohttp_client(
            build_app(config, service, interactions=service.slack_endpoint.handle)
        )
        # The reference alert, from the Alertmanager that takes the silences.
        payload = load_payload("reference-highcpuusage.json").model_copy(
            update={"external_url": alertmanager.url}
        )
        return World(service, client, slack, alertmanager, time, enricher, payload)

    yield make
    for service in started:
        if service.store.is_open:  # not stopped by the test itself
            await service.stop()


@pytest.fixture
async def world(make_world: Callable[..., Awaitable[World]]) -> World:
    """The service with the real Alertmanager."""
    return await make_world()
