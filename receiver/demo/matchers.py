"""Label matchers as the simulated backends read them from PromQL and Pyroscope selectors.

Both backends take matchers such as `service_name="bank-payment-service"` or
`instance=~"payment\\-service(:[0-9]+)?"`: a label name, an operator and a double-quoted Go
string literal. `find_matchers()` collects every matcher in a text (a whole PromQL query or
a `{...}` selector); regexes are fully anchored, as in Prometheus.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Matcher", "MatcherError", "find_matchers", "unquote"]

_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


class MatcherError(ValueError):
    """A matcher the backend would reject: a bad escape or an invalid regex."""


def unquote(body: str) -> str:
    """The value of a Go string literal's body (without its quotes)."""
    out, pos = [], 0
    while pos < len(body):
        char = body[pos]
        if char != "\\":
            out.append(char)
            pos += 1
            continue
        letter = body[pos + 1 : pos + 2]
        if letter in _SIMPLE:
            out.append(_SIMPLE[letter])
            pos += 2
        elif letter in ('"', "\\", "'"):
            out.append(letter)
            pos += 2
        elif letter in _HEX_DIGITS:
            digits = body[pos + 2 : pos + 2 + _HEX_DIGITS[letter]]
            if len(digits) != _HEX_DIGITS[letter] or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise MatcherError(f"invalid escape \\{letter}{digits}")
            out.append(chr(int(digits, 16)))
            pos += 2 + len(digits)
        else:
            raise MatcherError(f"unknown escape sequence \\{letter}")
    return "".join(out)


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether the label set passes; a missing label is the empty string."""
        actual = labels.get(self.name, "")
        if self.op in ("=", "!="):
            return (actual == self.value) == (self.op == "=")
        try:
            found = re.fullmatch(self.value, actual) is not None
        except re.error as exc:
            raise MatcherError(f"invalid regular expression {self.value!r}: {exc}") from None
        return found == (self.op == "=~")


def find_matchers(text: str) -> list[Matcher]:
    """Every `name op "value"` matcher in `text`, in order."""
    return [Matcher(name, op, unquote(body)) for name, op, body in _MATCHER.findall(text)]
