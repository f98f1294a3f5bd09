"""How the strict Pyroscope fake checks a request, as the real server does (reference/
pyroscope-api.md §1.4): times in milliseconds, 5-part profile type IDs, strict selectors;
a refusal is a Connect error (`{"code", "message"}` with its HTTP status)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from receiver.demo.matchers import Matcher, MatcherError, parse_selector

__all__ = [
    "FIELDS",
    "QUERIER",
    "RECORD",
    "RecordedRequest",
    "RejectError",
    "check_profile_type",
    "check_selector",
    "check_window",
    "connect_error",
    "invalid",
]


class RejectError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def invalid(message: str) -> RejectError:
    return RejectError(400, "invalid_argument", message)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: CIMultiDict[str]
    query: dict[str, str]
    body: Any = None
    matchers: list[Matcher] = field(default_factory=list)


QUERIER = "/querier.v1.QuerierService/"
# The fields each Connect method takes: any other is refused, as the real server does.
FIELDS = {
    "ProfileTypes": {"start", "end"},
    "LabelValues": {"name", "matchers", "start", "end"},
    "Series": {"matchers", "labelNames", "start", "end"},
    "SelectMergeStacktraces": {
        "profileTypeID",
        "labelSelector",
        "start",
        "end",
        "maxNodes",
        "format",
        "stackTraceSelector",
        "profileIdSelector",
    },
}
RECORD = web.RequestKey("record", RecordedRequest)


def _millis(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key, 0)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(f"{key}: expected an int64")
    if not 1e11 <= value <= 1e14:
        raise invalid(f"{key}: {value} is not in milliseconds (seconds or nanoseconds given)")
    return value


def check_window(body: Mapping[str, Any]) -> tuple[int, int]:
    start, end = _millis(body, "start"), _millis(body, "end")
    if start >= end:
        raise invalid("start must be before end")
    return start, end


def check_profile_type(value: Any) -> str:
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) != 5 or not all(parts[:3]):
        raise invalid(
            f"profile-type selection must be of the form <name>:<sample-type>:"
            f"<sample-unit>:<period-type>:<period-unit>, got {value!r}"
        )
    return str(value)


def check_selector(text: str) -> list[Matcher]:
    try:
        return parse_selector(text)
    except MatcherError as exc:
        raise invalid(str(exc)) from None


async def read_connect_body(request: web.Request) -> dict[str, Any]:
    """A Connect unary request's JSON object body, or the 415 / 400 a real server answers."""
    if request.content_type != "application/json":
        raise RejectError(415, "unknown", f"invalid content-type: {request.content_type}")
    try:
        body = json.loads(await request.read())
    except ValueError:
        raise invalid("request body is not JSON") from None
    if not isinstance(body, dict):
        raise invalid("request body is not a JSON object")
    return body


def connect_error(reject: RejectError) -> web.Response:
    """A Connect error: the status and `{"code", "message"}` (§1.4)."""
    body = {"code": reject.code, "message": reject.message}
    return web.json_response(body, status=reject.status)
