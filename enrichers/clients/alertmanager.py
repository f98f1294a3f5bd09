"""Alertmanager's API v2: the `alertmanager` config block and the client that reads alerts.

    alertmanager: {url: http://alertmanager:9093, timeout_seconds: 5,
                   basic: {username, password | password_file}, bearer_token | bearer_token_file,
                   headers: {...}}

`alerts()` is `GET /api/v2/alerts?active=true&silenced=false&inhibited=false` (the alerts
that are firing and notifying now; reference/protocols.md §1), each reduced to what a report
shows. `create_silence(body)` is `POST /api/v2/silences` (a `PostableSilence`) and returns
the new silence's ID (Slack's "Silence 1h" button, `receiver.interactions`). Failures are
`BackendError("alertmanager", reason)` without a credential in them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from enrichers.clients.backend_http import backend_client, credentials
from enrichers.errors import BackendError, BackendTimeoutError
from enrichers.settings import BackendAuth, PositiveSeconds

__all__ = ["AlertmanagerClient", "AlertmanagerSettings", "FiringAlert", "parse_alerts"]

BACKEND = "alertmanager"
ALERTS = "/api/v2/alerts"
SILENCES = "/api/v2/silences"


class AlertmanagerSettings(BackendAuth):
    url: str = "http://127.0.0.1:9093"
    timeout_seconds: PositiveSeconds = 5.0


@dataclass(frozen=True)
class FiringAlert:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: str
    state: str
    fingerprint: str

    def as_json(self) -> dict[str, Any]:
        return {
            "alertname": self.labels.get("alertname", ""),
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": self.starts_at,
            "state": self.state,
            "fingerprint": self.fingerprint,
        }


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"{where}: expected a map of strings")
    return dict(value)


def parse_alerts(doc: Any) -> list[FiringAlert]:
    """A `GettableAlerts` answer (a JSON array) as alerts."""
    if not isinstance(doc, list):
        raise ValueError("expected a JSON array of alerts")
    found = []
    for index, alert in enumerate(doc):
        if not isinstance(alert, Mapping):
            raise ValueError(f"[{index}]: expected an object")
        raw_status = alert.get("status")
        status: Mapping[str, Any] = raw_status if isinstance(raw_status, Mapping) else {}
        found.append(
            FiringAlert(
                labels=_strings(alert.get("labels", {}), f"[{index}].labels"),
                annotations=_strings(alert.get("annotations", {}), f"[{index}].annotations"),
                starts_at=str(alert.get("startsAt", "")),
                state=str(status.get("state", "")),
                fingerprint=str(alert.get("fingerprint", "")),
            )
        )
    return found


class AlertmanagerClient:
    def __init__(
        self, settings: AlertmanagerSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._secrets = credentials(settings)
        self._client = backend_client(settings, transport=transport)

    async def _request(
        self, what: str, method: str, path: str, *, detail: bool = False, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise BackendTimeoutError(
                BACKEND, f"{what} timed out after {self._settings.timeout_seconds:g}s"
            ) from None
        except httpx.TransportError as exc:
            raise BackendError(BACKEND, f"connection failed: {type(exc).__name__}") from None
        if not response.is_success:
            # Alertmanager says why it refused a silence in the body (e.g. a bad matcher).
            said = self._scrub(response.text.strip()[:200]) if detail else ""
            reason = f"{what}: HTTP {response.status_code}" + (f": {said}" if said else "")
            raise BackendError(BACKEND, reason)
        return response

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    async def alerts(self) -> list[FiringAlert]:
        params = {"active": "true", "silenced": "false", "inhibited": "false"}
        response = await self._request("alerts", "GET", ALERTS, params=params)
        try:
            return parse_alerts(response.json())
        except ValueError as exc:
            raise BackendError(
                BACKEND, self._scrub(f"invalid response: alerts: {str(exc)[:200]}")
            ) from None

    async def create_silence(self, silence: Mapping[str, Any]) -> str:
        """Create a silence (a `PostableSilence`); its ID."""
        response = await self._request(
            "silences", "POST", SILENCES, detail=True, json=dict(silence)
        )
        try:
            silence_id = response.json()["silenceID"]
        except (ValueError, KeyError, TypeError):
            raise BackendError(BACKEND, "invalid response: silences: no silenceID") from None
        if not isinstance(silence_id, str) or not silence_id:
            raise BackendError(BACKEND, "invalid response: silences: no silenceID")
        return silence_id

    async def aclose(self) -> None:
        await self._client.aclose()
