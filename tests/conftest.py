"""Shared test fixtures: real Alertmanager payloads, free ports, an in-process service."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from receiver.app import build_app
from receiver.config import Config
from receiver.service import Service
from tests.fakes.notifiers import FixedEnricher, RecordingNotifier

# The real Prometheus (session-scoped, started once for every module that asks for it).
pytest_plugins = ["tests.support.prometheus", "tests.support.postgres", "tests.support.stores"]

DATA = Path(__file__).parent / "data"
ALERTMANAGER = DATA / "alertmanager"
REPO = Path(__file__).resolve().parents[1]


def load_payload(name: str) -> dict[str, Any]:
    """A webhook body exactly as a real Alertmanager delivered it."""
    document: dict[str, Any] = json.loads((ALERTMANAGER / name).read_text())
    return document


def payload_files() -> list[str]:
    """Every captured webhook body (the timing records and headers are not payloads)."""
    names = []
    for path in sorted(ALERTMANAGER.glob("*.json")):
        if "groupKey" in json.loads(path.read_text()):
            names.append(path.name)
    return names


def make_config(tmp_path: Path, **sections: Any) -> Config:
    """A config on a fresh store in tmp_path, notifiers `a` and `b` on route default."""
    data: dict[str, Any] = {
        "store": {"path": str(tmp_path / "flamebot.db")},
        "notifiers": [{"name": "a", "type": "console"}, {"name": "b", "type": "console"}],
        "routes": {"default": ["a"], "both": ["a", "b"]},
    }
    data.update(sections)
    return Config.model_validate(data)


class Harness:
    """A started Service with recording notifiers, and an HTTP client on its app."""

    def __init__(
        self, service: Service, client: TestClient, notifiers: dict[str, RecordingNotifier]
    ):
        self.service = service
        self.client = client
        self.notifiers = notifiers

    async def post(self, body: Any, path: str = "/webhook", **kwargs: Any) -> tuple[int, Any]:
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        headers = kwargs.pop("headers", {"Content-Type": "application/json"})
        response = await self.client.post(path, data=data, headers=headers, **kwargs)
        return response.status, await response.json()


@pytest.fixture
async def harness_factory(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Callable[..., Any]]:
    services: list[Service] = []

    async def build(
        config: Config | None = None, *, sections: dict[str, Any] | None = None, **kwargs: Any
    ) -> Harness:
        """A started service on `config` (or `make_config` with `sections`); `kwargs` go to
        `Service` (clock, sleep, enricher, notifiers to replace the recording ones)."""
        config = config or make_config(tmp_path, **(sections or {}))
        notifiers = {n.name: RecordingNotifier(n.name) for n in config.notifiers}
        notifiers.update(kwargs.pop("notifiers", {}))
        service = Service(
            config, enricher=kwargs.pop("enricher", FixedEnricher()), notifiers=notifiers, **kwargs
        )
        await service.start()
        services.append(service)
        client = await aiohttp_client(build_app(config, service))
        return Harness(service, client, notifiers)

    yield build
    for service in services:
        if service.store.is_open:  # a test may have stopped it already (a restart)
            await service.stop()
