"""PagerDuty: Events API v2 trigger/resolve, and the analysis as an incident note.

Events (reference/protocols.md §3.1): `dedup_key` is the hex sha256 of the groupKey, so all
notifications of a group land on one alert; 202 is success, 400 is permanent, 429 and 5xx
are retryable. With an API token, the analysis is added once per incident as a note
(§3.3): once the event is accepted, `notify()` leaves the note to the service's durable
note queue (`receiver.notes`), which asks `add_note()` for one attempt at a time: the
incident is looked up by `incident_key` (the Events API is asynchronous: not visible yet
means another attempt later), then `POST /incidents/{id}/notes` with the `From` header.
The fix check after a resolve is a second note on the same, by then resolved, incident.
The note adds to a page that has gone out: a failed one is logged (`pagerduty_note_failed`,
or `pagerduty_note_skipped` for an incident never found), never a reason to re-send the
event or dead-letter it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import structlog
from pydantic import Field, SecretStr, model_validator

from enrichers.clients.backend_http import USER_AGENT
from receiver.errors import FailureCode, NotifyError
from receiver.notifiers.base import NotifierSettingsBase, send
from receiver.notifiers.integration import Integration
from receiver.notifiers.pagerduty_event import dedup_key, render_event, render_note
from receiver.notifiers.templates import Templates
from receiver.seams import FollowUp, Note, NoteQueue, Notification
from receiver.store import ConversationStore

__all__ = ["INTEGRATION", "PagerDutyNotifier", "PagerDutyNotifierSettings"]

log = structlog.get_logger("flamebot.pagerduty")

REST_ACCEPT = "application/vnd.pagerduty+json;version=2"
OPEN = ("triggered", "acknowledged")


class PagerDutyNotifierSettings(NotifierSettingsBase):
    secrets = ("routing_key", "api_token")
    required_secrets = ("routing_key",)

    type: Literal["pagerduty"]
    routing_key: SecretStr | None = None
    routing_key_file: Path | None = None
    events_url: str = "https://events.pagerduty.com/v2/enqueue"
    default_severity: Literal["critical", "error", "warning", "info"] = "warning"
    api_token: SecretStr | None = None
    api_token_file: Path | None = None
    api_url: str = "https://api.pagerduty.com"
    from_email: str | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0

    @model_validator(mode="after")
    def _notes_need_a_sender(self) -> PagerDutyNotifierSettings:
        if self.api_token is not None and not self.from_email:
            raise ValueError("api_token needs from_email (PagerDuty requires a From header)")
        return self


class PagerDutyNotifier:
    def __init__(
        self,
        settings: PagerDutyNotifierSettings,
        conversations: ConversationStore,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        notes: NoteQueue | None = None,
        templates: Templates | None = None,
    ) -> None:
        assert settings.routing_key is not None  # the config validator guarantees it
        self.name = settings.name
        self._settings = settings
        self._conversations = conversations
        self._notes = notes
        self._templates = templates or Templates()
        self._client = httpx.AsyncClient(
            timeout=settings.timeout_seconds,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )

    async def _send(self, what: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await send(
            self._client, f"pagerduty {what}", method, url, detail=_error_detail, **kwargs
        )

    async def notify(self, notification: Notification) -> None:
        """The event alone; the note is left to the service's note queue (`receiver.notes`),
        once the event was accepted, so no worker waits for the incident to show."""
        settings = self._settings
        routing_key = settings.routing_key.get_secret_value() if settings.routing_key else ""
        payload, enrichment = notification.payload, notification.enrichment
        event = render_event(
            payload,
            enrichment,
            routing_key=routing_key,
            default_severity=settings.default_severity,
            summary=self._templates.render("pagerduty_summary", payload, enrichment),
        )
        await self._send("events", "POST", settings.events_url, json=event)
        key = notification.payload.group_key
        if event["event_action"] == "resolve":
            await self._conversations.set(key, None)
            if self._notes is not None and await self._notes.cancel(self.name, key):
                log.warning("pagerduty_note_skipped", reason="resolved first", group_key=key)
        elif settings.api_token is not None and not await self._noted(key):
            if self._notes is None:  # a one-shot command (gate --notify): no service to add it
                log.warning("pagerduty_note_skipped", reason="no note queue", group_key=key)
                return
            content = render_note(notification.payload, notification.enrichment)
            await self._notes.add(Note(self.name, key, content, notification.id))

    async def _noted(self, group_key: str) -> bool:
        raw = await self._conversations.get(group_key)
        return raw is not None and bool(json.loads(raw).get("noted"))

    async def add_note(self, note: Note) -> bool:
        """One attempt at the analysis note (`receiver.seams.NoteNotifier`): False while the
        group's open incident is not visible yet; True once it has the note."""
        if await self._noted(note.group_key):
            return True
        try:
            incident = await self._find_incident(dedup_key(note.group_key))
            if incident is None:
                return False
            await self._send(
                "notes",
                "POST",
                f"{self._settings.api_url.rstrip('/')}/incidents/{incident}/notes",
                json={"note": {"content": note.content}},
                headers=self._rest_headers(),
            )
        except (ValueError, KeyError, TypeError) as exc:  # a body that is not PagerDuty's
            message = f"unexpected answer ({type(exc).__name__})"
            raise NotifyError("pagerduty incidents", message, code=FailureCode.REJECTED) from None
        state = {"noted": True, "incident": incident}
        await self._conversations.set(note.group_key, json.dumps(state))
        return True

    def note_dropped(self, note: Note, error: Exception | None) -> None:
        """The note adds to a page already delivered: its failure is logged, never the
        delivery's (which would re-send the event or dead-letter a page that went out)."""
        if error is None:
            log.warning(
                "pagerduty_note_skipped", reason="incident not found", group_key=note.group_key
            )
            return
        log.warning(
            "pagerduty_note_failed",
            notifier=self.name,
            group_key=note.group_key,
            reason=str(error),
        )

    async def follow_up(self, follow_up: FollowUp) -> None:
        """A note on the group's incident, open or resolved (the fix check comes after the
        resolve); nothing without an API token, or when the incident cannot be found."""
        if self._settings.api_token is None:
            return
        key = follow_up.payload.group_key
        incident = await self._find_incident(dedup_key(key), (*OPEN, "resolved"))
        if incident is None:
            log.warning("pagerduty_note_skipped", reason="incident not found", group_key=key)
            return
        url = f"{self._settings.api_url.rstrip('/')}/incidents/{incident}/notes"
        body = {"note": {"content": "\n".join(follow_up.lines)}}
        await self._send("notes", "POST", url, json=body, headers=self._rest_headers())

    def _rest_headers(self) -> dict[str, str]:
        token = self._settings.api_token.get_secret_value() if self._settings.api_token else ""
        return {
            "Authorization": f"Token token={token}",
            "Accept": REST_ACCEPT,
            "From": self._settings.from_email or "",
        }

    async def _find_incident(
        self, incident_key: str, statuses: tuple[str, ...] = OPEN
    ) -> str | None:
        """The latest incident of the key in one of `statuses`, as PagerDuty lists it now
        (one lookup: a later attempt looks again). Open ones only for the analysis: after a
        resolve, the same key opens a new one (§3.1)."""
        url = f"{self._settings.api_url.rstrip('/')}/incidents"
        params = httpx.QueryParams(
            [
                ("incident_key", incident_key),
                ("date_range", "all"),
                *(("statuses[]", status) for status in statuses),
            ]
        )
        response = await self._send(
            "incidents", "GET", url, params=params, headers=self._rest_headers()
        )
        incidents = response.json().get("incidents") or []
        return str(incidents[-1]["id"]) if incidents else None

    async def aclose(self) -> None:
        await self._client.aclose()


def _error_detail(response: httpx.Response) -> str:
    """PagerDuty's own words for a failure (`message`/`errors`), short; never a key."""
    if response.is_success:
        return ""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(body, dict):
        return ""
    nested = body.get("error")
    error: dict[str, Any] = nested if isinstance(nested, dict) else body
    message = str(error.get("message", ""))
    errors = error.get("errors")
    if isinstance(errors, list) and errors:
        message += ": " + "; ".join(str(e) for e in errors[:3])
    return message[:200]


INTEGRATION = Integration(
    PagerDutyNotifierSettings,
    lambda s, c: PagerDutyNotifier(s, c.conversations, notes=c.notes, templates=c.templates),
)
