"""Top functions from Pyroscope flame graphs, pure.

A `FlameGraph` holds one internal form, the *single* format of the Connect API and of
`/pyroscope/render`: per level, 4 integers per node `[x_delta, total, self, name_idx]`,
where `x_delta` is delta-encoded within the level and `total`/`self` are absolute
(pyroscope-api.md §1.6). Parsing and its checks live in `enrichers.flamegraph_parse` and
are re-exported here.

Self per function is the sum of `self` over every node with that name; total per function
counts a node only when no ancestor has the same name, so recursion is not double-counted.
The synthetic truncation node `other` is reported apart and never ranked. Percentages and
values are exact floats: renderers round them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, compress, count
from typing import Literal

from enrichers.flamegraph_parse import (
    FlameGraph,
    FlameGraphError,
    node_ends,
    parse_connect,
    parse_connect_diff,
    parse_render,
    parse_render_diff,
)
from enrichers.frames import PLAIN, FrameRules
from enrichers.result import FunctionChange, FunctionStat

__all__ = [
    "OTHER",
    "FlameGraph",
    "FlameGraphError",
    "TopFunctions",
    "biggest_riser",
    "function_changes",
    "labels_of",
    "parse_connect",
    "parse_connect_diff",
    "parse_render",
    "parse_render_diff",
    "profile_unit",
    "ranked_in_unit",
    "sample_unit",
    "self_percentages",
    "top_functions",
    "totals_of",
]

OTHER = "other"  # the truncation node's name (pyroscope-api.md §1.6, "Truncation")


@dataclass(frozen=True)
class TopFunctions:
    """Ranked functions, the truncated share (`other`) and the graph total they refer to."""

    functions: list[FunctionStat]
    other_pct: float
    total: int


# --- per function ----------------------------------------------------------------------


def labels_of(graph: FlameGraph, frames: FrameRules) -> list[str]:
    """The shown name of each name index (the runtime's normalisation applied)."""
    return [frames.show(name) for name in graph.names] if frames.normalize else graph.names


def _self_by_function(graph: FlameGraph, labels: list[str]) -> tuple[dict[str, int], int]:
    """Self per function in first-appearance order (level-major), and the `other` self."""
    by_name = [0] * len(graph.names)
    for level in graph.levels[1:]:
        selfs = level[2::4]
        for name, value in compress(zip(level[3::4], selfs, strict=True), selfs):
            by_name[name] += value  # only the nodes with self time
    appearance = dict.fromkeys(chain.from_iterable(level[3::4] for level in graph.levels[1:]))
    by_label: dict[str, int] = {}
    other = 0
    for name in appearance:
        label = labels[name]
        if label == OTHER:
            other += by_name[name]
        else:
            by_label[label] = by_label.get(label, 0) + by_name[name]
    return by_label, other


def _union_length(spans: list[tuple[int, int]]) -> int:
    """The length of the union of `[start, end)` spans."""
    covered = reached = 0
    for start, end in sorted(spans):
        if end > reached:
            covered += end - max(start, reached)
            reached = end
    return covered


def totals_of(graph: FlameGraph, labels: list[str], functions: Iterable[str]) -> dict[str, int]:
    """Total of each of `functions` over its nodes with no same-named ancestor.

    A node's span `[x, x + total)` lies inside its parent's (checked when parsed, §1.6), so
    two spans are nested or disjoint: the union of a function's spans is the union of its
    outermost nodes, and its length counts a recursive call inside one of them only once.
    """
    spans: dict[str, list[tuple[int, int]]] = {name: [] for name in functions}
    label_of = {name: label for name, label in enumerate(labels) if label in spans}
    for level in graph.levels[1:]:
        names = level[3::4]
        hits = list(compress(count(), map(label_of.__contains__, names)))
        if hits:
            ends = node_ends(level[: 4 * hits[-1] + 4])
            for k in hits:
                spans[label_of[names[k]]].append((ends[k] - level[4 * k + 1], ends[k]))
    return {name: _union_length(found) for name, found in spans.items()}


def _ranked(values: Mapping[str, int]) -> list[str]:
    """Names with a positive value, largest first; ties keep their order in `values`."""
    return sorted((name for name in values if values[name] > 0), key=lambda f: -values[f])


# --- ranking ---------------------------------------------------------------------------


def top_functions(
    graph: FlameGraph,
    *,
    n: int,
    by: Literal["self", "total"] = "self",
    unit_scale: float = 1.0,
    unit: str,
    frames: FrameRules = PLAIN,
    app_prefixes: Sequence[str] = (),
) -> TopFunctions:
    """The `n` functions with the largest self (or total) value, `other` reported apart.

    `value` is the ranked value times `unit_scale`; `self_pct`/`total_pct` are exact
    percentages of `graph.total`. Functions whose ranked value is 0 are not listed. Ties keep
    the first appearance (level-major, left to right), like `Counter.most_common`. Names are
    shown and classified by the runtime's `frames` (JFR names that differ only by `/` versus
    `.` are one function).
    """
    if graph.total <= 0:
        return TopFunctions([], 0.0, graph.total)
    labels = labels_of(graph, frames)
    selfs, other = _self_by_function(graph, labels)
    if by == "self":
        ranking, ranked = selfs, _ranked(selfs)[:n]
        totals = totals_of(graph, labels, ranked)  # only the functions shown
    else:
        totals = totals_of(graph, labels, selfs)
        ranking = {name: totals[name] for name in selfs}
        ranked = _ranked(ranking)[:n]
    functions = [
        FunctionStat(
            function=name,
            self_pct=100.0 * selfs[name] / graph.total,
            total_pct=100.0 * totals[name] / graph.total,
            value=ranking[name] * unit_scale,
            unit=unit,
            frame_class=frames.classify(name, app_prefixes),
        )
        for name in ranked
    ]
    return TopFunctions(functions, 100.0 * other / graph.total, graph.total)


def ranked_in_unit(
    graph: FlameGraph,
    profile_type: str,
    *,
    n: int,
    frames: FrameRules = PLAIN,
    app_prefixes: Sequence[str] = (),
) -> TopFunctions:
    """`top_functions` by self value, each value in the display unit of `profile_type`."""
    unit, scale = profile_unit(profile_type)
    return top_functions(
        graph, n=n, unit=unit, unit_scale=scale, frames=frames, app_prefixes=app_prefixes
    )


def self_percentages(graph: FlameGraph, *, frames: FrameRules = PLAIN) -> dict[str, float]:
    """Self-% of `graph.total` per function with self time (without `other`), for diffs."""
    if graph.total <= 0:
        return {}
    selfs, _ = _self_by_function(graph, labels_of(graph, frames))
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


def sample_unit(unit: str) -> tuple[str, float]:
    """Display unit and scale of a sample unit: `nanoseconds` -> (`seconds`, 1e-9)."""
    return _UNITS.get(unit, (unit, 1.0))


def profile_unit(profile_type_id: str) -> tuple[str, float]:
    """Display unit and scale of a profile type's sample unit (its 3rd part, §2)."""
    parts = profile_type_id.split(":")
    if len(parts) not in (5, 6):
        raise ValueError(
            f"not a profile type ID (name:type:unit:period_type:period_unit): {profile_type_id!r}"
        )
    return sample_unit(parts[2])
