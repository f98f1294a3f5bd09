"""A fake PagerDuty: Events API v2 and the REST calls for incident notes.

Wire facts (reference/protocols.md §3): `POST /v2/enqueue` answers 202
`{"status":"success","message":"Event processed","dedup_key":…}` or 400 `{status, message,
errors[]}`; a trigger needs `payload.summary` (<= 1024), `source` and a `severity` in
critical|error|warning|info; `dedup_key` <= 255. The REST API needs
`Authorization: Token token=…` and the v2 `Accept` header; notes need a `From` header.
A trigger opens an incident keyed by dedup_key; a resolve closes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SEVERITIES = {"critical", "error", "warning", "info"}
ACCEPT = "application/vnd.pagerduty+json;version=2"


@dataclass
class Incident:
    id: str
    incident_key: str
    status: str
    notes: list[dict[str, str]] = field(default_factory=list)


class FakePagerDuty:
    def __init__(self, routing_key: str = "R" * 32, api_token: str = "pd-api-token") -> None:
        self.routing_key = routing_key
        self.api_token = api_token
        self.events: list[dict[str, Any]] = []
        self.incidents: list[Incident] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers
        self.script: list[int] = []  # statuses to answer the next event posts with
        self.notes_script: list[int] = []  # statuses to answer the next note posts with
        self.lookups_before_visible = 0  # the REST API lags the Events API

    def _errors(self, event: Any) -> list[str]:
        if not isinstance(event, dict):
            return ["Event object is invalid"]
        errors = []
        if event.get("routing_key") != self.routing_key:
            errors.append("Invalid routing key")
        if event.get("event_action") not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        if len(str(event.get("dedup_key", ""))) > 255:
            errors.append("'dedup_key' is too long")
        if event.get("event_action") == "trigger":
            payload = event.get("payload") or {}
            if not payload.get("summary") or len(payload["summary"]) > 1024:
                errors.append("'payload.summary' is missing or too long")
            if not payload.get("source"):
                errors.append("'payload.source' is missing")
            if payload.get("severity") not in SEVERITIES:
                errors.append("'payload.severity' is invalid")
        return errors

    async def _enqueue(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", request.path, dict(request.headers)))
        if self.script:
            status = self.script.pop(0)
            return web.json_response({"status": "error", "message": "scripted"}, status=status)
        event = await request.json()
        errors = self._errors(event)
        if errors:
            body = {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": errors,
            }
            return web.json_response(body, status=400)
        self.events.append(event)
        key = event["dedup_key"]
        open_incident = next(
            (i for i in self.incidents if i.incident_key == key and i.status != "resolved"), None
        )
        if event["event_action"] == "trigger" and open_incident is None:
            self.incidents.append(Incident(f"P{len(self.incidents) + 1:06d}", key, "triggered"))
        elif event["event_action"] == "resolve" and open_incident is not None:
            open_incident.status = "resolved"
        body = {"status": "success", "message": "Event processed", "dedup_key": key}
        return web.json_response(body, status=202)

    def _rest_refusal(self, request: web.Request) -> web.Response | None:
        self.requests.append((request.method, request.path, dict(request.headers)))
        if request.headers.get("Authorization") != f"Token token={self.api_token}":
            return web.json_response(
                {"error": {"message": "Unauthorized", "code": 2006}}, status=401
            )
        if request.headers.get("Accept") != ACCEPT:
            return web.json_response({"error": {"message": "Not Acceptable"}}, status=406)
        return None

    async def _incidents(self, request: web.Request) -> web.Response:
        refusal = self._rest_refusal(request)
        if refusal is not None:
            return refusal
        if self.lookups_before_visible > 0:
            self.lookups_before_visible -= 1
            return web.json_response({"incidents": [], "more": False})
        key = request.query.get("incident_key")
        statuses = request.query.getall("statuses[]", [])
        found = [
            i
            for i in self.incidents
            if (key is None or i.incident_key == key) and (not statuses or i.status in statuses)
        ]
        rows = [{"id": i.id, "incident_key": i.incident_key, "status": i.status} for i in found]
        return web.json_response({"incidents": rows, "more": False})

    async def _notes(self, request: web.Request) -> web.Response:
        refusal = self._rest_refusal(request)
        if refusal is not None:
            return refusal
        if self.notes_script:
            status = self.notes_script.pop(0)
            return web.json_response({"error": {"message": "scripted"}}, status=status)
        if "@" not in request.headers.get("From", ""):
            body = {
                "error": {
                    "message": "Invalid Input Provided",
                    "errors": ["Requester User Not Found"],
                }
            }
            return web.json_response(body, status=400)
        incident = next((i for i in self.incidents if i.id == request.match_info["id"]), None)
        if incident is None:
            return web.json_response({"error": {"message": "Not Found"}}, status=404)
        note = (await request.json()).get("note", {})
        content = note.get("content") if isinstance(note, dict) else None
        if not isinstance(content, str) or not content:
            return web.json_response({"error": {"message": "Invalid Input Provided"}}, status=400)
        incident.notes.append({"content": content, "from": request.headers["From"]})
        return web.json_response(
            {"note": {"id": f"N{len(incident.notes)}", "content": content}}, status=201
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v2/enqueue", self._enqueue)
        app.router.add_get("/incidents", self._incidents)
        app.router.add_post("/incidents/{id}/notes", self._notes)
        return app
