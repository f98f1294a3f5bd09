"""Top functions from Pyroscope flame graphs, pure.

A `FlameGraph` holds one internal form, the *single* format of the Connect API and of
`/pyroscope/render`: per level, 4 integers per node `[x_delta, total, self, name_idx]`,
where `x_delta` is delta-encoded within the level and `total`/`self` are absolute
(pyroscope-api.md §1.6). Diffs (7 integers per node) are converted to two single graphs.

Self per function is the sum of `self` over every node with that name; total per function
counts a node only when no ancestor has the same name, so recursion is not double-counted.
The synthetic truncation node `other` is reported apart and never ranked. Percentages and
values are exact floats: renderers round them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from enrichers.frames import frame_class, normalize_frame
from enrichers.result import FunctionChange, FunctionStat

__all__ = [
    "FlameGraph",
    "FlameGraphError",
    "TopFunctions",
    "biggest_riser",
    "frame_class",
    "function_changes",
    "normalize_frame",
    "parse_connect",
    "parse_render",
    "parse_render_diff",
    "profile_unit",
    "self_percentages",
    "top_functions",
]

OTHER = "other"  # the truncation node's name (pyroscope-api.md §1.6, "Truncation")
_INT = re.compile(r"-?[0-9]{1,20}")  # int64 range, and below int()'s digit limit


class FlameGraphError(ValueError):
    """A flame graph document is malformed; the message says where."""


@dataclass(frozen=True)
class FlameGraph:
    """Single-format flame graph: `levels[d]` holds `[x_delta, total, self, name_idx] * k`."""

    names: list[str]
    levels: list[list[int]]
    total: int


@dataclass(frozen=True)
class TopFunctions:
    """Ranked functions, the truncated share (`other`) and the graph total they refer to."""

    functions: list[FunctionStat]
    other_pct: float
    total: int


# --- parsing ---------------------------------------------------------------------------


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


def _levels(raw: list[Any], names: list[str], width: int, where: str) -> list[list[int]]:
    """Integer levels of `width` values per node, the name index (last value) in range."""
    levels = []
    for depth, level in enumerate(raw):
        at = f"{where}.levels[{depth}]"
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
        levels.append(values)
    return levels


def _checked(graph: FlameGraph) -> FlameGraph:
    _parents(graph)  # raises when a node lies outside every node of the level above
    return graph


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


# --- the tree --------------------------------------------------------------------------


def _absolute_x(level: list[int]) -> list[int]:
    """Decode x offsets: x_abs = x_delta + end of the previous node on the level."""
    xs, prev_end = [], 0
    for i in range(0, len(level), 4):
        x = level[i] + prev_end
        xs.append(x)
        prev_end = x + level[i + 1]
    return xs


def _parents(graph: FlameGraph) -> list[list[int]]:
    """Per level, each node's parent index on the level above (-1: root level or empty node)."""
    parents: list[list[int]] = []
    upper_x: list[int] = []
    for depth, level in enumerate(graph.levels):
        xs, row, j = _absolute_x(level), [], 0
        upper = graph.levels[depth - 1] if depth else []
        for k, x in enumerate(xs):
            total = level[4 * k + 1]
            if depth == 0 or total == 0:
                row.append(-1)
                continue
            while j < len(upper_x) and upper_x[j] + upper[4 * j + 1] <= x:
                j += 1
            if j == len(upper_x) or upper_x[j] > x or x + total > upper_x[j] + upper[4 * j + 1]:
                raise FlameGraphError(
                    f"levels[{depth}]: node {k} at x={x} lies outside every node of the level above"
                )
            row.append(j)
        parents.append(row)
        upper_x = xs
    return parents


def _labels(graph: FlameGraph, normalize: bool) -> list[str]:
    return [normalize_frame(name) for name in graph.names] if normalize else graph.names


def _self_by_function(graph: FlameGraph, labels: list[str]) -> tuple[dict[str, int], int]:
    """Self per function in first-appearance order (level-major), and the `other` self."""
    selfs: dict[str, int] = {}
    other = 0
    for level in graph.levels[1:]:
        for i in range(0, len(level), 4):
            name = labels[level[i + 3]]
            if name == OTHER:
                other += level[i + 2]
            else:
                selfs[name] = selfs.get(name, 0) + level[i + 2]
    return selfs, other


def _total_by_function(graph: FlameGraph, labels: list[str]) -> Counter[str]:
    """Total per function over nodes with no same-named ancestor (iterative depth-first walk)."""
    parents = _parents(graph)
    names: list[str] = []
    totals_of: list[int] = []
    children: list[list[int]] = []
    offsets: list[int] = []
    for depth, level in enumerate(graph.levels):
        offsets.append(len(names))
        for k, parent in enumerate(parents[depth]):
            if depth >= 2 and parent >= 0:
                children[offsets[depth - 1] + parent].append(len(names))
            names.append(labels[level[4 * k + 3]])
            totals_of.append(level[4 * k + 1])
            children.append([])
    roots = [offsets[1] + k for k, p in enumerate(parents[1]) if p >= 0] if offsets[1:] else []
    totals: Counter[str] = Counter()
    active: Counter[str] = Counter()
    stack = [(node, False) for node in reversed(roots)]
    while stack:
        node, leaving = stack.pop()
        name = names[node]
        if leaving:
            active[name] -= 1
            continue
        if not active[name]:
            totals[name] += totals_of[node]
        active[name] += 1
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(children[node]))
    return totals


# --- ranking ---------------------------------------------------------------------------


def top_functions(
    graph: FlameGraph,
    *,
    n: int,
    by: Literal["self", "total"] = "self",
    unit_scale: float = 1.0,
    unit: str,
    runtime: str,
    app_prefixes: Sequence[str] = (),
    normalize: bool = False,
) -> TopFunctions:
    """The `n` functions with the largest self (or total) value, `other` reported apart.

    `value` is the ranked value times `unit_scale`; `self_pct`/`total_pct` are exact
    percentages of `graph.total`. Functions whose ranked value is 0 are not listed. Ties keep
    the first appearance (level-major, left to right), like `Counter.most_common`.
    `normalize` merges JFR names that differ only by `/` versus `.` (JVM).
    """
    if graph.total <= 0:
        return TopFunctions([], 0.0, graph.total)
    labels = _labels(graph, normalize)
    selfs, other = _self_by_function(graph, labels)
    totals = _total_by_function(graph, labels)
    ranking = selfs if by == "self" else {name: totals[name] for name in selfs}
    ranked = sorted((name for name in ranking if ranking[name] > 0), key=lambda f: -ranking[f])
    functions = [
        FunctionStat(
            function=name,
            self_pct=100.0 * selfs[name] / graph.total,
            total_pct=100.0 * totals[name] / graph.total,
            value=ranking[name] * unit_scale,
            unit=unit,
            frame_class=frame_class(name, runtime, app_prefixes),
        )
        for name in ranked[:n]
    ]
    return TopFunctions(functions, 100.0 * other / graph.total, graph.total)


def self_percentages(graph: FlameGraph, *, normalize: bool = False) -> dict[str, float]:
    """Self-% of `graph.total` per function with self time (without `other`), for diffs."""
    if graph.total <= 0:
        return {}
    selfs, _ = _self_by_function(graph, _labels(graph, normalize))
    return {name: 100.0 * value / graph.total for name, value in selfs.items() if value > 0}


def function_changes(
    baseline: Mapping[str, float], incident: Mapping[str, float], functions: Iterable[str]
) -> list[FunctionChange]:
    """Baseline against incident self-% for `functions`, in their order (missing = 0.0)."""
    changes = []
    for name in functions:
        before, after = baseline.get(name, 0.0), incident.get(name, 0.0)
        changes.append(
            FunctionChange(
                function=name, baseline_pct=before, incident_pct=after, delta_pp=after - before
            )
        )
    return changes


def biggest_riser(changes: Iterable[FunctionChange]) -> FunctionChange | None:
    """The change with the largest positive delta (the first on a tie); None if none rose."""
    best: FunctionChange | None = None
    for change in changes:
        if change.delta_pp > 0 and (best is None or change.delta_pp > best.delta_pp):
            best = change
    return best


_UNITS = {
    "nanoseconds": ("seconds", 1e-9),
    "microseconds": ("seconds", 1e-6),
    "milliseconds": ("seconds", 1e-3),
    "bytes": ("bytes", 1.0),
    "count": ("count", 1.0),
}


def profile_unit(profile_type_id: str) -> tuple[str, float]:
    """Display unit and scale of a profile type's sample unit (its 3rd part, §2)."""
    parts = profile_type_id.split(":")
    if len(parts) not in (5, 6):
        raise ValueError(
            f"not a profile type ID (name:type:unit:period_type:period_unit): {profile_type_id!r}"
        )
    return _UNITS.get(parts[2], (parts[2], 1.0))
