"""PromQL string literals, literal regexes and instance selectors built from label values."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrichers.promql import instance_selector, quote, regex_escape, render_query

HOSTILE = 'evil"} or vector(1) #(.*)\\'

_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_SIMPLE |= {"\\": "\\", '"': '"', "'": "'"}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


def go_unquote(literal: str) -> str:
    """Read a double-quoted literal by Go's strconv.Unquote rules, stricter like Quote's output.

    Raw characters must be printable (so no raw newline) and not U+FFFD, which the PromQL
    lexer rejects as an invalid rune.
    """
    assert literal[0] == literal[-1] == '"'
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        char = body[i]
        assert char not in '"\ufffd', f"raw {char!r} inside a literal"
        assert char.isprintable(), f"raw non-printable {char!r} inside a literal"
        if char != "\\":
            out.append(char)
            i += 1
            continue
        kind = body[i + 1]
        if kind in _SIMPLE:
            out.append(_SIMPLE[kind])
            i += 2
        elif kind in _HEX_DIGITS:
            digits = body[i + 2 : i + 2 + _HEX_DIGITS[kind]]
            assert re.fullmatch(f"[0-9a-fA-F]{{{_HEX_DIGITS[kind]}}}", digits), digits
            assert not 0xD800 <= int(digits, 16) < 0xE000, "a surrogate is not a character"
            out.append(chr(int(digits, 16)))
            i += 2 + len(digits)
        else:
            digits = body[i + 1 : i + 4]
            assert re.fullmatch(r"[0-7]{3}", digits), f"bad escape {body[i : i + 4]!r}"
            out.append(chr(int(digits, 8)))
            i += 4
    return "".join(out)


# (value, its literal as Go's strconv.Quote writes it)
GO_QUOTED = [
    ("", '""'),
    ("payment-service", '"payment-service"'),
    ('say "hi"', r'"say \"hi\""'),
    ("C:\\dir\\", r'"C:\\dir\\"'),
    ("a\nb\rc\td", r'"a\nb\rc\td"'),
    ("\a\b\f\v", r'"\a\b\f\v"'),
    ("\x00\x1b\x7f", r'"\x00\x1b\x7f"'),
    ("zahlungsdienst-ü-支付-😀", '"zahlungsdienst-ü-支付-😀"'),
    ("nbsp\u00a0ls\u2028", r'"nbsp\u00a0ls\u2028"'),
    ("\ufffd", r'"\ufffd"'),
    ("lone\ud800", r'"lone\ufffd"'),
    ("tag\U000e0001", r'"tag\U000e0001"'),
    ("it's {selector}", '"it\'s {selector}"'),
    (HOSTILE, r'"evil\"} or vector(1) #(.*)\\"'),
]
# (value, its RE2 literal as Go's regexp.QuoteMeta writes it)
QUOTE_META = [
    ("payment-service", "payment-service"),
    ("payment.service", r"payment\.service"),
    (".+*?()|[]{}^$\\", r"\.\+\*\?\(\)\|\[\]\{\}\^\$\\"),
    ("a-b_c:9404 #/=,'\"", "a-b_c:9404 #/=,'\""),
    (HOSTILE, r'evil"\} or vector\(1\) #\(\.\*\)\\'),
]


@pytest.mark.parametrize(("value", "expected"), GO_QUOTED)
def test_quote_escapes_as_go_strconv_quote(value: str, expected: str) -> None:
    """quote() escapes quotes, backslashes and control or non-printable characters like Go."""
    assert quote(value) == expected


@pytest.mark.parametrize(("value", "expected"), QUOTE_META)
def test_regex_escape_escapes_re2_metacharacters(value: str, expected: str) -> None:
    """regex_escape() backslashes exactly the RE2 metacharacters, like Go's QuoteMeta."""
    assert regex_escape(value) == expected


@pytest.mark.parametrize(
    ("host", "extra", "expected"),
    [
        ("payment-service", {}, r'instance=~"payment-service(:[0-9]+)?"'),
        ("payment.service", {}, r'instance=~"payment\\.service(:[0-9]+)?"'),
        (
            HOSTILE,
            {},
            r'instance=~"evil\"\\} or vector\\(1\\) #\\(\\.\\*\\)\\\\(:[0-9]+)?"',
        ),
        (
            "payment-service",
            {"namespace": "bank", "_team": 'pay"}', "bad-name": "x", "9lives": "y", "": "z"},
            r'instance=~"payment-service(:[0-9]+)?", _team="pay\"}", namespace="bank"',
        ),
    ],
)
def test_instance_selector_matches_every_port_of_the_host(
    host: str, extra: dict[str, str], expected: str
) -> None:
    """The selector regex-escapes then quotes the host, and adds valid extra labels sorted."""
    assert instance_selector(host, extra) == expected


def test_render_query_replaces_only_the_selector_placeholder() -> None:
    """render_query() substitutes every {selector} and leaves PromQL braces alone."""
    template = 'sum(rate(x{{selector}}[2m])) / on() y{a="{b}",{selector}} + {0} + {{}}'
    selector = instance_selector("pay", {})
    assert render_query(template, selector) == (
        'sum(rate(x{instance=~"pay(:[0-9]+)?"}[2m]))'
        ' / on() y{a="{b}",instance=~"pay(:[0-9]+)?"} + {0} + {{}}'
    )


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_quote_round_trips_through_a_go_unquoter(value: str) -> None:
    """Any text quoted by quote() reads back as itself under Go's unquoting rules."""
    assert go_unquote(quote(value)) == value


@settings(max_examples=400, deadline=None)
@given(st.text(), st.text())
def test_regex_escape_matches_only_the_literal_value(value: str, other: str) -> None:
    """An escaped value, fully anchored as PromQL anchors it, matches itself and no other."""
    pattern = re.compile(regex_escape(value), re.DOTALL)
    assert pattern.fullmatch(value) is not None
    assert (pattern.fullmatch(other) is not None) == (other == value)
