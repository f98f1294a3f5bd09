"""A fake Microsoft Teams Workflows webhook ("When a Teams webhook request is received") that
checks what the real one and Teams check.

Wire facts: `POST /workflows/{id}/triggers/manual/paths/invoke?api-version=…&sig=…`; the
signature in the query is the credential (a wrong one: 401); the body is JSON (else 400)
`{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
"content": <AdaptiveCard>}]}`; success is 202 with an empty body; a message above 28 KB is
refused (413); the flow's throttling answers 429 with `Retry-After`. The card is checked
against the Adaptive Card 1.4 essentials: `$schema`, `type: AdaptiveCard`, a `version` of at
most 1.4, element types of 1.4 with their required fields and enumerated values, and only
`Action.OpenUrl` actions (a webhook card has no bot to receive a Submit) with absolute URLs.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

MESSAGE_LIMIT = 28 * 1024
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSIONS = {"1.0", "1.1", "1.2", "1.3", "1.4"}
# Element type -> its required keys (Adaptive Card 1.4 schema).
ELEMENTS = {
    "TextBlock": ("text",),
    "RichTextBlock": ("inlines",),
    "Image": ("url",),
    "FactSet": ("facts",),
    "Container": ("items",),
    "ColumnSet": (),
    "ActionSet": ("actions",),
}
ENUMS = {
    "size": {"Default", "Small", "Medium", "Large", "ExtraLarge"},
    "weight": {"Default", "Lighter", "Bolder"},
    "color": {"Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"},
    "spacing": {"None", "Small", "Default", "Medium", "Large", "ExtraLarge", "Padding"},
}
BOOLEANS = ("wrap", "isSubtle", "separator")


def _action_errors(action: Any, where: str) -> list[str]:
    if not isinstance(action, dict) or action.get("type") != "Action.OpenUrl":
        return [f"{where}: only Action.OpenUrl works in a webhook card"]
    errors = []
    if not isinstance(action.get("title"), str) or not action["title"]:
        errors.append(f"{where}.title: required")
    url = action.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        errors.append(f"{where}.url: an absolute http(s) URL is required")
    return errors


def _element_errors(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict) or element.get("type") not in ELEMENTS:
        kind = element.get("type") if isinstance(element, dict) else type(element).__name__
        return [f"{where}: unknown element type {kind!r}"]
    errors = [f"{where}.{key}: required" for key in ELEMENTS[element["type"]] if key not in element]
    for key, allowed in ENUMS.items():
        if key in element and element[key] not in allowed:
            errors.append(f"{where}.{key}: {element[key]!r} is not one of {sorted(allowed)}")
    errors += [
        f"{where}.{k}: not a boolean"
        for k in BOOLEANS
        if k in element and not isinstance(element[k], bool)
    ]
    kind = element["type"]
    if kind == "TextBlock" and not isinstance(element.get("text"), str):
        errors.append(f"{where}.text: not a string")
    if kind == "FactSet":
        for n, fact in enumerate(element.get("facts") or []):
            if not (
                isinstance(fact, dict) and {type(fact.get(k)) for k in ("title", "value")} == {str}
            ):
                errors.append(f"{where}.facts[{n}]: title and value strings are required")
    if kind == "Container":
        for n, item in enumerate(element.get("items") or []):
            errors += _element_errors(item, f"{where}.items[{n}]")
    if kind == "ActionSet":
        for n, action in enumerate(element.get("actions") or []):
            errors += _action_errors(action, f"{where}.actions[{n}]")
    return errors


def card_errors(card: Any) -> list[str]:
    """What Teams would refuse in this Adaptive Card (empty when it renders)."""
    if not isinstance(card, dict):
        return ["content: not an object"]
    errors = []
    if card.get("$schema") != SCHEMA:
        errors.append("content.$schema: missing or not the Adaptive Card schema")
    if card.get("type") != "AdaptiveCard":
        errors.append("content.type: must be AdaptiveCard")
    if card.get("version") not in VERSIONS:
        errors.append(f"content.version: {card.get('version')!r} is not 1.0-1.4")
    body = card.get("body")
    if not isinstance(body, list) or not body:
        errors.append("content.body: a non-empty list is required")
    for n, element in enumerate(body if isinstance(body, list) else []):
        errors += _element_errors(element, f"content.body[{n}]")
    for n, action in enumerate(card.get("actions") or []):
        errors += _action_errors(action, f"content.actions[{n}]")
    return errors


def envelope_errors(message: Any) -> list[str]:
    if not isinstance(message, dict) or message.get("type") != "message":
        return ["type: must be message"]
    attachments = message.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        return ["attachments: exactly one card is expected"]
    (attachment,) = attachments
    if not isinstance(attachment, dict) or attachment.get("contentType") != CARD_TYPE:
        return [f"attachments[0].contentType: must be {CARD_TYPE}"]
    return card_errors(attachment.get("content"))


class FakeTeams:
    """The Workflows trigger of one flow; `cards` holds what it accepted, in order."""

    def __init__(self, flow: str = "f1a2b3", sig: str = "s3cr3t-sig") -> None:
        self.flow = flow
        self.sig = sig
        self.cards: list[dict[str, Any]] = []
        self.sizes: list[int] = []
        self.script: list[int] = []  # statuses to answer the next posts with (then 202)
        self.attempts = 0

    @property
    def path(self) -> str:
        return f"/workflows/{self.flow}/triggers/manual/paths/invoke"

    def url(self, base: str) -> str:
        query = f"api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={self.sig}"
        return f"{base}{self.path}?{query}"

    async def _invoke(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if request.query.get("sig") != self.sig:
            return web.json_response(
                {"error": {"code": "DirectApiAuthorizationRequired"}}, status=401
            )
        body = await request.read()
        if self.script:
            status = self.script.pop(0)
            headers = {"Retry-After": "2"} if status == 429 else {}
            return web.json_response(
                {"error": {"code": "Scripted"}}, status=status, headers=headers
            )
        if len(body) > MESSAGE_LIMIT:
            return web.json_response({"error": {"code": "RequestEntityTooLarge"}}, status=413)
        if request.content_type != "application/json":
            return web.json_response({"error": {"code": "InvalidContentType"}}, status=400)
        try:
            message = json.loads(body)
        except ValueError:
            return web.json_response({"error": {"code": "InvalidRequestContent"}}, status=400)
        errors = envelope_errors(message)
        if errors:
            return web.json_response(
                {"error": {"code": "InvalidCard", "details": errors}}, status=400
            )
        self.cards.append(message["attachments"][0]["content"])
        self.sizes.append(len(body))
        return web.Response(status=202)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * MESSAGE_LIMIT)
        app.router.add_post(self.path, self._invoke)
        return app
