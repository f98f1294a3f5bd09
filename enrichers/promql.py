"""Building PromQL from untrusted label values, pure.

A label value that reaches a query (the host part of an alert's `instance`, a `namespace`)
is data, never syntax: `quote()` makes it a PromQL string literal (PromQL follows Go's
escaping) and `regex_escape()` makes it match literally inside `=~` (RE2). A selector built
by `instance_selector()` therefore survives values such as `evil"} or vector(1) #(.*)`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["instance_selector", "label_selector", "quote", "regex_escape", "render_query"]

_SHORT_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}
_REGEX_META = frozenset(".+*?()|[]{}^$\\")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_NO_LABELS: Mapping[str, str] = MappingProxyType({})
_REPLACEMENT = "\ufffd"
PORT_SUFFIX = "(:[0-9]+)?"


def _escape_char(char: str) -> str:
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0xD800 <= code < 0xE000:
        # A lone surrogate has no UTF-8 form; it stands for an invalid character.
        return "\\ufffd"
    if char == _REPLACEMENT or not char.isprintable():
        # The PromQL lexer rejects a literal U+FFFD as an invalid UTF-8 rune.
        return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return char


def quote(value: str) -> str:
    """`value` as a double-quoted PromQL string literal, escaped as Go's strconv.Quote does."""
    return '"' + "".join(_escape_char(char) for char in value) + '"'


def regex_escape(value: str) -> str:
    """`value` with RE2 metacharacters escaped, so `=~` matches it literally (Go's QuoteMeta)."""
    return "".join("\\" + char if char in _REGEX_META else char for char in value)


def instance_selector(host: str, extra: Mapping[str, str]) -> str:
    """The matchers (no braces) for every target of `host`, on any port, plus `extra` labels.

    `instance=~"<host>(:[0-9]+)?"` matches `host`, `host:9404` and `host:8080` (PromQL
    regexes are fully anchored). Extra labels come sorted by name; a name that is not a
    valid Prometheus label name is skipped.
    """
    matchers = [f"instance=~{quote(regex_escape(host) + PORT_SUFFIX)}"]
    for name in sorted(extra):
        if _LABEL_NAME.fullmatch(name):
            matchers.append(f"{name}={quote(extra[name])}")
    return ", ".join(matchers)


def render_query(template: str, selector: str) -> str:
    """`template` with every `{selector}` replaced; other braces are PromQL and left alone."""
    return template.replace("{selector}", selector)


def label_selector(service_name: str, extra: Mapping[str, str] = _NO_LABELS) -> str:
    """`{service_name="…", namespace="…"}`: values become PromQL string literals, so a hostile
    value stays one value (Pyroscope parses selectors with the Prometheus parser)."""
    labels = {"service_name": service_name}
    for name, value in extra.items():
        if not _LABEL_NAME.fullmatch(name) or name in labels:
            raise ValueError(f"not a usable label name: {name!r}")
        labels[name] = value
    return "{" + ", ".join(f"{name}={quote(value)}" for name, value in labels.items()) + "}"
