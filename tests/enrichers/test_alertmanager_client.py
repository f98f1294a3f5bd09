"""The `alertmanager` config block and the API v2 alerts client."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from enrichers.clients.alertmanager import AlertmanagerClient, AlertmanagerSettings, parse_alerts
from enrichers.errors import BackendError
from receiver.config import ConfigError, load_config

ALERT = {
    "labels": {"alertname": "HighCpuUsage", "instance": "payment-service:9404"},
    "annotations": {"summary": "High CPU"},
    "startsAt": "2026-11-25T17:25:32.000Z",
    "endsAt": "2026-11-25T17:45:32.000Z",
    "fingerprint": "4f1c0b8e2a7d9c31",
    "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
    "receivers": [{"name": "flamebot"}],
    "updatedAt": "2026-11-25T17:25:32.000Z",
}


def test_the_block_takes_secret_files_and_refuses_unknown_keys(tmp_path: Path) -> None:
    """`password_file` and `bearer_token_file` are read once; typos are config errors."""
    secret = tmp_path / "am"
    secret.write_text("s3cret\n")
    path = tmp_path / "flamebot.yml"
    basic = f"{{username: fb, password_file: {secret}}}"
    path.write_text(f"alertmanager: {{url: 'http://am:9093', basic: {basic}}}\n")
    config = load_config(path, environ={})
    assert config.alertmanager is not None
    assert config.alertmanager.basic is not None
    assert config.alertmanager.basic.password is not None
    assert config.alertmanager.basic.password.get_secret_value() == "s3cret"
    assert load_config(None, environ={}).alertmanager is None
    path.write_text("alertmanager: {url: 'http://am:9093', tokn: x}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert error.value.problems == ["alertmanager.tokn: Extra inputs are not permitted"]


async def test_alerts_are_the_active_unsilenced_ones_with_auth() -> None:
    """`GET /api/v2/alerts?active=true&silenced=false&inhibited=false` with basic auth."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[ALERT])

    settings = AlertmanagerSettings.model_validate(
        {"url": "http://am:9093", "basic": {"username": "fb", "password": "pw"}}
    )
    client = AlertmanagerClient(settings, transport=httpx.MockTransport(answer))
    try:
        [alert] = await client.alerts()
    finally:
        await client.aclose()
    assert alert.as_json() == {
        "alertname": "HighCpuUsage",
        "labels": ALERT["labels"],
        "annotations": {"summary": "High CPU"},
        "startsAt": "2026-11-25T17:25:32.000Z",
        "state": "active",
        "fingerprint": "4f1c0b8e2a7d9c31",
    }
    [request] = seen
    assert (request.url.path, dict(request.url.params)) == (
        "/api/v2/alerts",
        {"active": "true", "silenced": "false", "inhibited": "false"},
    )
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"fb:pw").decode()


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(500, text="boom"), "alerts: HTTP 500"),
        (httpx.Response(200, json={"not": "a list"}), "expected a JSON array of alerts"),
        (httpx.Response(200, json=[{"labels": {"a": 1}}]), "[0].labels: expected a map of strings"),
    ],
)  # fmt: skip
async def test_failures_are_backend_errors(response: httpx.Response, reason: str) -> None:
    """A bad status or body is a BackendError("alertmanager", reason)."""
    client = AlertmanagerClient(
        AlertmanagerSettings(url="http://am:9093"),
        transport=httpx.MockTransport(lambda request: response),
    )
    try:
        with pytest.raises(BackendError) as error:
            await client.alerts()
    finally:
        await client.aclose()
    invalid = "invalid response: alerts: "
    expected = reason if reason.startswith("alerts") else invalid + reason
    assert (error.value.backend, error.value.reason) == ("alertmanager", expected)
    assert parse_alerts([]) == []
