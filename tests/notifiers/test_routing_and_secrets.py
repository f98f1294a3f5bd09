"""Routing to several notifiers, dead letters, and secrets that never leak."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
import structlog

from receiver.app import build_app
from receiver.config import Config, secret_values
from receiver.errors import NotifyError
from receiver.logs import configure_logging
from receiver.models import WebhookPayload
from receiver.seams import Notification
from receiver.service import Service
from tests.conftest import load_payload
from tests.fakes.notifiers import FixedEnricher
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.slack import FakeSlack
from tests.support.process import check_config
from tests.support.waiting import SETTLE_SECONDS, wait_until_async

SLACK_TOKEN = "xoxb-SECRET-slack-token-4242"
ROUTING_KEY = "SECRETROUTINGKEY0000000000000042"
API_TOKEN = "SECRET-pd-api-token-77"
PASSWORD = "SECRET-basic-password-99"
BEARER = "SECRET-bearer-token-55"
SECRETS = [SLACK_TOKEN, ROUTING_KEY, API_TOKEN, PASSWORD, BEARER]


def config_data(tmp_path: Path, slack_url: str, pd_url: str) -> dict[str, Any]:
    return {
        "server": {
            "auth": {"bearer_token": BEARER, "basic": {"username": "am", "password": PASSWORD}}
        },
        "store": {"path": str(tmp_path / "flamebot.db")},
        "notifiers": [
            {
                "name": "slack",
                "type": "slack",
                "token": SLACK_TOKEN,
                "channel": "#payments",
                "api_url": slack_url,
            },
            {
                "name": "pd",
                "type": "pagerduty",
                "routing_key": ROUTING_KEY,
                "events_url": f"{pd_url}/v2/enqueue",
                "api_token": API_TOKEN,
                "api_url": pd_url,
                "from_email": "bot@example.com",
            },
        ],
        "routes": {"payments": ["slack", "pd"]},
    }


@pytest.fixture
async def fakes(aiohttp_server: Any) -> tuple[FakeSlack, FakePagerDuty, str, str]:
    slack = FakeSlack(token="xoxb-the-right-one")  # our token is refused: invalid_auth
    pd = FakePagerDuty(routing_key=ROUTING_KEY, api_token=API_TOKEN)
    slack_server = await aiohttp_server(slack.app())
    pd_server = await aiohttp_server(pd.app())
    return (
        slack,
        pd,
        str(slack_server.make_url("/api/")),
        str(pd_server.make_url("")).rstrip("/"),
    )


@pytest.fixture
def log_buffer() -> Any:
    buffer = io.StringIO()
    yield buffer
    structlog.reset_defaults()


async def test_permanent_failure_is_dead_lettered_while_the_other_delivers(
    tmp_path: Path, fakes: Any, log_buffer: io.StringIO, aiohttp_client: Any
) -> None:
    """Slack refusing the token is a dead letter, PagerDuty still pages; no secret leaks."""
    # No secret shows in logs, errors, HTTP answers or metrics.
    _, pd, slack_url, pd_url = fakes
    config = Config.model_validate(config_data(tmp_path, slack_url, pd_url))
    configure_logging(secret_values(config), stream=log_buffer)
    service = Service(config, enricher=FixedEnricher())
    await service.start()
    client = await aiohttp_client(build_app(config, service))
    seen: list[str] = []

    wrong = "Basic " + base64.b64encode(f"am:{PASSWORD}x".encode()).decode()
    refused = await client.post("/webhook/payments", data="{}", headers={"Authorization": wrong})
    seen.append(await refused.text())
    good = {"Authorization": f"Bearer {BEARER}", "Content-Type": "application/json"}
    body = json.dumps(load_payload("reference-highcpuusage.json"))
    accepted = await client.post("/webhook/payments", data=body, headers=good)
    seen.append(await accepted.text())
    assert (refused.status, accepted.status) == (401, 200)
    assert await service.dispatcher.wait_idle(SETTLE_SECONDS)

    letters = await service.store.deliveries.dead_letters()
    assert [(x.notifier, x.reason) for x in letters] == [
        ("slack", "permanent failure: slack chat.postMessage: invalid_auth")
    ]
    assert [e["event_action"] for e in pd.events] == ["trigger"]
    await wait_until_async(lambda: pd.incidents[0].notes, what="the note, added after the event")
    assert len(pd.incidents[0].notes) == 1
    seen.append(await (await client.get("/metrics")).text())
    seen.append(await (await client.get("/readyz")).text())
    seen += [x.reason for x in letters]

    payload = WebhookPayload.model_validate(load_payload("firing.json"))
    notification = Notification(9, "payments", payload, await FixedEnricher().enrich(payload))
    with pytest.raises(NotifyError) as caught:
        await service.notifiers["slack"].notify(notification)
    seen += [repr(caught.value), str(caught.value)]
    seen.append(repr(config))
    await service.stop()

    logs = log_buffer.getvalue()
    assert [json.loads(line)["event"] for line in logs.splitlines()].count("notify_failed") == 1
    seen.append(logs)
    leaks = [(secret, text[:200]) for secret in SECRETS for text in seen if secret in text]
    assert leaks == []


def test_check_config_output_never_shows_secrets(tmp_path: Path) -> None:
    """`check-config` on a broken config with secrets names keys, never their values."""
    data = config_data(tmp_path, "http://127.0.0.1:1/api/", "http://127.0.0.1:1")
    data["notifiers"][0]["token_file"] = str(tmp_path / "missing")  # both set: an error
    data["notifiers"][1]["routing_key"] = [ROUTING_KEY]  # wrong type: an error
    data["server"]["auth"]["basic"]["extra"] = PASSWORD
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(data))
    done = check_config(path)
    assert done.returncode == 1
    assert done.stderr == (
        "config error:\n"
        "  server.auth.basic.extra: Extra inputs are not permitted\n"
        "  notifiers.0.token_file: set either token or token_file, not both\n"
        "  notifiers.1.routing_key: Input should be a valid string\n"
    )
    assert [s for s in SECRETS if s in done.stdout + done.stderr] == []
