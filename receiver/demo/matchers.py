"""Label matchers as Prometheus and Pyroscope parse them, strictly: for the simulated backends.

Both take matchers such as `service_name="bank-payment-service"` or
`instance=~"payment\\-service(:[0-9]+)?"`: a label name, an operator and a double-quoted Go
string literal (escapes `\\a \\b \\f \\n \\r \\t \\v \\\\ \\"`, `\\xHH`, `\\uHHHH`, `\\UHHHHHHHH`,
octal `\\OOO`; the bytes must be UTF-8). Regexes must compile and match fully, as in
Prometheus. `parse_selector()` reads one `{...}` selector and refuses anything else, as
Pyroscope does; `find_matchers()` collects every matcher in a PromQL query. Both raise
`MatcherError` (the backend's 400) with the position of the problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["Matcher", "MatcherError", "find_matchers", "parse_selector"]

_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_OPERATORS = ("=~", "!~", "!=", "=")
_IN_QUERY = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?=")')
_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


class MatcherError(ValueError):
    """A selector the backend would refuse; the message says where."""


class Matcher(NamedTuple):
    name: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether the label set passes; a missing label is the empty string."""
        actual = labels.get(self.name, "")
        if self.op in ("=", "!="):
            return (actual == self.value) == (self.op == "=")
        return bool(re.fullmatch(self.value, actual)) == (self.op == "=~")


def _escape(text: str, pos: int) -> tuple[bytes, int]:
    """The bytes of the Go escape sequence whose letter is at `pos`, and the position after it."""
    letter = text[pos : pos + 1]
    if letter in _SIMPLE_ESCAPES:
        return bytes([_SIMPLE_ESCAPES[letter]]), pos + 1
    if letter in _HEX_ESCAPES:
        digits = text[pos + 1 : pos + 1 + _HEX_ESCAPES[letter]]
        if len(digits) == _HEX_ESCAPES[letter] and re.fullmatch(r"[0-9a-fA-F]+", digits):
            code = int(digits, 16)
            if letter == "x":
                return bytes([code]), pos + 1 + len(digits)
            if code <= 0x10FFFF and not 0xD800 <= code < 0xE000:
                return chr(code).encode(), pos + 1 + len(digits)
    digits = text[pos : pos + 3]
    if re.fullmatch(r"[0-7]{3}", digits) and int(digits, 8) < 256:
        return bytes([int(digits, 8)]), pos + 3
    raise MatcherError(f"parse error at char {pos}: unknown escape sequence")


def _string(text: str, pos: int) -> tuple[str, int]:
    """A double-quoted Go string literal at `pos`; returns the value and the end position."""
    if text[pos : pos + 1] != '"':
        raise MatcherError(f"parse error at char {pos + 1}: expected a double-quoted string")
    opening, out, pos = pos, bytearray(), pos + 1
    while pos < len(text) and text[pos] not in '"\n':
        if text[pos] == "\\":
            escaped, pos = _escape(text, pos + 1)
            out += escaped
        else:
            out += text[pos].encode("utf-8", "surrogatepass")
            pos += 1
    if pos >= len(text) or text[pos] != '"':
        raise MatcherError(f"parse error at char {opening + 1}: unterminated quoted string")
    try:
        return out.decode("utf-8"), pos + 1
    except UnicodeDecodeError:
        raise MatcherError(f"parse error at char {pos + 1}: invalid UTF-8 in string") from None


def _matcher(name: str, op: str, value: str) -> Matcher:
    if op in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error:
            raise MatcherError(f"invalid regular expression {value!r}") from None
    return Matcher(name, op, value)


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def parse_selector(text: str) -> list[Matcher]:
    """`{name="value", other=~"re.*"}` as matchers; anything else raises MatcherError."""
    pos = _skip(text, 0)
    if text[pos : pos + 1] != "{":
        raise MatcherError(f"parse error at char {pos + 1}: expected '{{'")
    matchers: list[Matcher] = []
    pos = _skip(text, pos + 1)
    while text[pos : pos + 1] != "}":
        name = _NAME.match(text, pos)
        if name is None:
            raise MatcherError(f"parse error at char {pos + 1}: expected a label name")
        pos = _skip(text, name.end())
        op = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
        if op is None:
            raise MatcherError(f"parse error at char {pos + 1}: expected a matcher operator")
        value, pos = _string(text, _skip(text, pos + len(op)))
        matchers.append(_matcher(name.group(), op, value))
        pos = _skip(text, pos)
        if text[pos : pos + 1] == ",":
            pos = _skip(text, pos + 1)
        elif text[pos : pos + 1] != "}":
            raise MatcherError(f"parse error at char {pos + 1}: expected ',' or '}}'")
    if text[pos + 1 :].strip():
        raise MatcherError(f"parse error at char {pos + 2}: unexpected text after '}}'")
    return matchers


def find_matchers(text: str) -> list[Matcher]:
    """Every `name op "value"` matcher in a PromQL query, in order."""
    found, pos = [], 0
    while (head := _IN_QUERY.search(text, pos)) is not None:
        value, pos = _string(text, head.end())
        found.append(_matcher(head.group(1), head.group(2), value))
    return found
