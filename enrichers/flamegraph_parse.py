"""Pyroscope flame graph documents as checked `FlameGraph`s, pure.

A `FlameGraph` holds the *single* format of the Connect API and of `/pyroscope/render`: per
level, 4 integers per node `[x_delta, total, self, name_idx]`, where `x_delta` is
delta-encoded within the level and `total`/`self` are absolute (pyroscope-api.md §1.6).
Diffs (7 integers per node) are converted to two single graphs.

Every document is checked: integers (JSON numbers, or proto3 int64 strings, §1.4) that are
not negative, whole nodes, name indices in range, every node inside a node of the level
above. A malformed one raises `FlameGraphError` saying where. Large graphs (the server sends
up to `maxNodes` nodes, §1.2) take a fast path of whole-level passes; a level it cannot vouch
for goes through the value-by-value check, which raises the error or accepts the level.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate, compress
from operator import add, sub
from typing import Any

import orjson

__all__ = [
    "FlameGraph",
    "FlameGraphError",
    "exact_level",
    "node_ends",
    "parse_connect",
    "parse_connect_diff",
    "parse_render",
    "parse_render_diff",
]

_INT = re.compile(r"-?[0-9]{1,20}")  # int64 range, and below int()'s digit limit
_DIGITS = b"0123456789"


class FlameGraphError(ValueError):
    """A flame graph document is malformed; the message says where."""


@dataclass(frozen=True)
class FlameGraph:
    """Single-format flame graph: `levels[d]` holds `[x_delta, total, self, name_idx] * k`."""

    names: list[str]
    levels: list[list[int]]
    total: int


def node_ends(level: list[int]) -> list[int]:
    """The absolute end (x + total) of each node of a single-format level.

    x is delta-encoded: a node starts at the previous node's end plus its x delta
    (pyroscope-api.md §1.6, `deltaDecoding`), so each end is a running sum of delta + total.
    """
    return list(accumulate(map(add, level[0::4], level[1::4])))


# --- values ----------------------------------------------------------------------------


def _int(value: Any, where: str) -> int:
    """A non-negative integer from a JSON number or a proto3 int64 string."""
    if isinstance(value, str) and _INT.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise FlameGraphError(f"{where}: expected an integer, got {type(value).__name__}")
    if value < 0:
        raise FlameGraphError(f"{where}: negative value {value}")
    return value


def _field(doc: Any, key: str, kind: type, where: str) -> Any:
    """`doc[key]` checked to be `kind`; a missing key is the zero value (proto3 JSON)."""
    if not isinstance(doc, Mapping):
        raise FlameGraphError(f"{where}: expected an object, got {type(doc).__name__}")
    value = doc.get(key, kind())
    if not isinstance(value, kind):
        raise FlameGraphError(
            f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}"
        )
    return value


def _names(raw: list[Any], where: str) -> list[str]:
    if not all(isinstance(name, str) for name in raw):
        raise FlameGraphError(f"{where}.names: expected a list of strings")
    return list(raw)


def _fast_values(level: list[Any]) -> list[int] | None:
    """The level's integers by whole-level passes, or None when it needs the exact check.

    Int64 strings (Connect, §1.4) are joined with commas: with the digits taken out, only the
    n - 1 commas may be left, which rules out signs, spaces, `_`, commas inside a value and
    empty strings. The joined text must then read as one JSON array of integers, which rules
    out leading zeros, so a value below 2**64 has at most the 20 digits `_INT` allows. JSON
    numbers (`/render`): exact ints only (no bool, no float), none negative.
    """
    try:
        joined = ",".join(level)
    except TypeError:  # not all strings
        if set(map(type, level)) != {int} or min(level) < 0:
            return None
        return list(level)
    try:
        text = joined.encode("ascii")
        if text.translate(None, _DIGITS) != b"," * (len(level) - 1):
            return None
        values: list[int] = orjson.loads(b"[%b]" % text)
    except ValueError:  # non-ASCII (UnicodeEncodeError), not JSON (orjson.JSONDecodeError)
        return None
    # orjson reads an integer above 2**64 - 1 as a float, and one float makes the sum a float.
    return values if isinstance(sum(values), int) else None


def exact_level(level: Any, names: list[str], width: int, at: str) -> list[int]:
    """One level checked value by value: `width` values per node, the name index (last
    value) in range; the error names the first wrong value."""
    if not isinstance(level, list):
        raise FlameGraphError(f"{at}: expected a list, got {type(level).__name__}")
    if len(level) % width:
        raise FlameGraphError(f"{at}: {len(level)} values is not a multiple of {width}")
    values = [_int(value, f"{at}[{i}]") for i, value in enumerate(level)]
    for i in range(width - 1, len(values), width):
        if values[i] >= len(names):
            raise FlameGraphError(
                f"{at}[{i}]: name index {values[i]} out of range ({len(names)} names)"
            )
    return values


def _levels(raw: list[Any], names: list[str], width: int, where: str) -> list[list[int]]:
    """Integer levels of `width` values per node, the name index (last value) in range."""
    levels = []
    for depth, level in enumerate(raw):
        at = f"{where}.levels[{depth}]"
        shaped = isinstance(level, list) and not len(level) % width
        values = _fast_values(level) if shaped else None
        # When the fast path gives up or anything is wrong, the exact check says what (or
        # accepts the level as it is).
        if values is None or (values and max(values[width - 1 :: width]) >= len(names)):
            values = exact_level(level, names, width, at)
        levels.append(values)
    return levels


# --- nesting ---------------------------------------------------------------------------


def _outside(levels: list[list[int]]) -> tuple[int, int, int] | None:
    """(depth, node, x) of the first node with a total that lies inside no node one level up.

    Nodes of a level are disjoint and in x order (the deltas are not negative), so one merge
    walk per level finds, for each node, the only node above that can hold it. A node
    without a total is drawn nowhere and holds nothing, so it is not checked.
    """
    upper_starts: list[int] = []
    upper_ends: list[int] = []
    for depth, level in enumerate(levels):
        totals = level[1::4]
        ends = node_ends(level)
        starts = list(map(sub, ends, totals))
        if depth and ends:
            stop = ends[-1] + 1  # a sentinel node above, after every node here
            above_starts, above_ends = [*upper_starts, stop], [*upper_ends, stop]
            j = 0
            for start, end in compress(zip(starts, ends, strict=True), totals):
                while above_ends[j] <= start:
                    j += 1
                if above_starts[j] > start or end > above_ends[j]:
                    node = next(k for k, x in enumerate(starts) if x == start and totals[k])
                    return depth, node, start
        upper_starts, upper_ends = starts, ends
    return None


def _checked(graph: FlameGraph) -> FlameGraph:
    outside = _outside(graph.levels)
    if outside is not None:
        depth, node, x = outside
        raise FlameGraphError(
            f"levels[{depth}]: node {node} at x={x} lies outside every node of the level above"
        )
    return graph


# --- documents -------------------------------------------------------------------------


def parse_connect(doc: Mapping[str, Any]) -> FlameGraph:
    """A Connect `SelectMergeStacktraces` response; `{}` is an empty graph (zero values omitted)."""
    flamegraph = _field(doc, "flamegraph", dict, "response")
    names = _names(_field(flamegraph, "names", list, "flamegraph"), "flamegraph")
    raw = [
        _field(level, "values", list, f"flamegraph.levels[{depth}]")
        for depth, level in enumerate(_field(flamegraph, "levels", list, "flamegraph"))
    ]
    total = _int(flamegraph.get("total", 0), "flamegraph.total")
    return _checked(FlameGraph(names, _levels(raw, names, 4, "flamegraph"), total))


def parse_render(doc: Mapping[str, Any]) -> FlameGraph:
    """A legacy `/pyroscope/render` response (`flamebearer` with number levels, `numTicks`)."""
    bearer = _field(doc, "flamebearer", dict, "response")
    if _field(doc, "metadata", dict, "response").get("format") == "double":
        raise FlameGraphError("response: a diff (format double); use parse_render_diff")
    names = _names(_field(bearer, "names", list, "flamebearer"), "flamebearer")
    levels = _levels(_field(bearer, "levels", list, "flamebearer"), names, 4, "flamebearer")
    total = _int(bearer.get("numTicks", 0), "flamebearer.numTicks")
    return _checked(FlameGraph(names, levels, total))


def _side(levels: list[list[int]], column: int) -> list[list[int]]:
    """One side of 7-value diff levels (x at `column`) as single levels; empty nodes dropped."""
    side = []
    for level in levels:
        single: list[int] = []
        x_end = prev_end = 0
        for i in range(0, len(level), 7):
            x, total, self_ = (
                level[i + column] + x_end,
                level[i + column + 1],
                level[i + column + 2],
            )
            x_end = x + total
            if total:
                single += [x - prev_end, total, self_, level[i + 6]]
                prev_end = x_end
        side.append(single)
    while side and not side[-1]:
        side.pop()
    return side


def parse_render_diff(doc: Mapping[str, Any]) -> tuple[FlameGraph, FlameGraph]:
    """A `/pyroscope/render-diff` response as (left, right) graphs (pyroscope-api.md §1.3, §1.6)."""
    bearer = _field(doc, "flamebearer", dict, "response")
    names = _names(_field(bearer, "names", list, "flamebearer"), "flamebearer")
    levels = _levels(_field(bearer, "levels", list, "flamebearer"), names, 7, "flamebearer")
    left = FlameGraph(names, _side(levels, 0), _int(doc.get("leftTicks", 0), "leftTicks"))
    right = FlameGraph(names, _side(levels, 3), _int(doc.get("rightTicks", 0), "rightTicks"))
    return _checked(left), _checked(right)


def parse_connect_diff(doc: Mapping[str, Any]) -> tuple[FlameGraph, FlameGraph]:
    """A Connect `Diff` response (`flamegraph` with 7-value levels as int64 strings,
    `leftTicks`, `rightTicks`; §1.4) as (left, right) graphs; `{}` is two empty graphs."""
    flamegraph = _field(doc, "flamegraph", dict, "response")
    names = _names(_field(flamegraph, "names", list, "flamegraph"), "flamegraph")
    raw = [
        _field(level, "values", list, f"flamegraph.levels[{depth}]")
        for depth, level in enumerate(_field(flamegraph, "levels", list, "flamegraph"))
    ]
    levels = _levels(raw, names, 7, "flamegraph")
    ticks = [_int(flamegraph.get(k, 0), f"flamegraph.{k}") for k in ("leftTicks", "rightTicks")]
    left = FlameGraph(names, _side(levels, 0), ticks[0])
    right = FlameGraph(names, _side(levels, 3), ticks[1])
    return _checked(left), _checked(right)
