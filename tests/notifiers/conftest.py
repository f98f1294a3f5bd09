"""A notifier against its fake far end, through the real service: the fixtures and the run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from enrichers.result import EnrichmentResult
from receiver.config import Config
from receiver.models import WebhookPayload
from receiver.service import Service
from tests.conftest import load_payload
from tests.fakes.clock import FakeTime
from tests.fakes.notifiers import FixedEnricher
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.slack import FakeSlack
from tests.support.waiting import SETTLE_SECONDS, wait_until_async

F = TypeVar("F")


@dataclass
class Far(Generic[F]):
    """A fake far end on loopback, and the notifier entry that points at it."""

    fake: F
    url: str
    store: Path
    entry: dict[str, Any]

    def config(self, **changes: Any) -> Config:
        """A config whose default route goes to this one notifier (`changes` to its entry)."""
        entry = {**self.entry, **changes}
        return Config.model_validate(
            {
                "store": {"path": str(self.store)},
                "notifiers": [entry],
                "routes": {"default": [entry["name"]]},
            }
        )


async def _serve(aiohttp_server: Any, fake: FakeSlack | FakePagerDuty) -> str:
    server = await aiohttp_server(fake.app())
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def slack(tmp_path: Path, aiohttp_server: Any) -> Far[FakeSlack]:
    """The fake Slack Web API and a Slack notifier posting to #payments there."""
    fake = FakeSlack()
    url = await _serve(aiohttp_server, fake) + "/api/"
    entry = {"name": "slack", "type": "slack", "token": "xoxb-test-token", "channel": "#payments"}
    return Far(fake, url, tmp_path / "flamebot.db", {**entry, "api_url": url})


@pytest.fixture
async def pagerduty(tmp_path: Path, aiohttp_server: Any) -> Far[FakePagerDuty]:
    """The fake PagerDuty (Events and REST API) and a notifier sending events there."""
    fake = FakePagerDuty()
    url = await _serve(aiohttp_server, fake)
    entry = {"name": "pd", "type": "pagerduty", "routing_key": "R" * 32}
    return Far(fake, url, tmp_path / "flamebot.db", {**entry, "events_url": f"{url}/v2/enqueue"})


async def _no_jobs(service: Service) -> bool:
    return await service.store.schedules.next_due() is None


async def deliver(
    config: Config,
    *bodies: str | dict[str, Any] | WebhookPayload,
    fake_time: FakeTime | None = None,
    prepare: Callable[[Service], None] | None = None,
    make: Callable[[WebhookPayload], EnrichmentResult] | None = None,
) -> Service:
    """Start a service on `config` (time driven by `fake_time`, analyses made by `make`),
    accept each webhook (a captured payload's name, a body, or a payload) in order, each
    delivered before the next, and its follow-up work (an incident note) done or dropped
    before the next; stop."""
    fake_time = fake_time or FakeTime()
    service = Service(
        config, enricher=FixedEnricher(make), clock=fake_time.clock, sleep=fake_time.sleep
    )
    if prepare is not None:
        prepare(service)
    await service.start()
    for body in bodies:
        document = load_payload(body) if isinstance(body, str) else body
        await service.accept("default", WebhookPayload.model_validate(document))
        assert await service.dispatcher.wait_idle(SETTLE_SECONDS)
        await wait_until_async(lambda: _no_jobs(service), what="follow-up work done")
    await service.stop()
    return service
