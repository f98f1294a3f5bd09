"""Flame graphs as trees and back, pure: stacks merged root-first, levels decoded, pruning.

The single format (pyroscope-api.md §1.6) is a flat encoding of a call tree: per level, 4
integers per node `[x_delta, total, self, name_idx]`, each node inside a node one level up.
`graph_from_stacks` builds that encoding from stacks (a pprof profile's samples, folded
stacks) the way the server does: frames of the same name under the same parent are one
node, the parent's self part first, then its children sorted by name; names deduplicated
with `total` first. `tree_of` decodes levels back into nodes; `prune` drops the nodes
below a share of the total, keeping every other node where it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import sub

from enrichers.flamegraph_parse import FlameGraph, FlameGraphError, node_ends

__all__ = ["Node", "graph_from_stacks", "prune", "tree_of"]

ROOT = "total"  # the root's name (§1.6: `names[0] == "total"`)


@dataclass
class Node:
    """One frame of a call tree: its total (itself and below) and self value."""

    name: str
    total: int = 0
    self: int = 0
    children: list[Node] = field(default_factory=list)


class _Builder:
    __slots__ = ("children", "name", "self", "total")

    def __init__(self, name: str) -> None:
        self.name, self.total, self.self = name, 0, 0
        self.children: dict[str, _Builder] = {}


def _merged(stacks: Iterable[tuple[Sequence[str], int]]) -> _Builder:
    root = _Builder(ROOT)
    for stack, value in stacks:
        if not stack or isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FlameGraphError(f"stack {stack!r}: needs frames and a non-negative int value")
        node = root
        node.total += value
        for name in stack:
            found = node.children.get(name)
            if found is None:
                found = node.children[name] = _Builder(name)
            node = found
            node.total += value
        node.self += value
    return root


def graph_from_stacks(stacks: Iterable[tuple[Sequence[str], int]]) -> FlameGraph:
    """Stacks (frames root first, and a value) merged into a single-format flame graph.

    Nodes without a value are left out; no value at all is the empty graph (no levels).
    """
    root = _merged(stacks)
    if root.total == 0:
        return FlameGraph([ROOT], [], 0)
    names, index, levels = [ROOT], {ROOT: 0}, []
    frontier = [(0, root)]
    while frontier:
        values: list[int] = []
        following: list[tuple[int, _Builder]] = []
        prev_end = 0
        for x, node in frontier:
            if node.total == 0:
                continue
            position = index.setdefault(node.name, len(names))
            if position == len(names):
                names.append(node.name)
            values += [x - prev_end, node.total, node.self, position]
            prev_end = x + node.total
            child_x = x + node.self  # the self part first, then the children (§1.6)
            for name in sorted(node.children):
                following.append((child_x, node.children[name]))
                child_x += node.children[name].total
        if values:
            levels.append(values)
        frontier = following
    return FlameGraph(names, levels, root.total)


def tree_of(graph: FlameGraph, label: Callable[[str], str] = str) -> Node:
    """The call tree of a checked graph (every node inside one a level up, §1.6), each
    node's name passed through `label`; children in x order. Nodes without a total are
    drawn nowhere and are left out. An empty graph is a root of total 0."""
    root = Node(label(ROOT), graph.total)
    above: list[tuple[int, int, Node]] = [(0, graph.total, root)]  # (start, end, node)
    for level in graph.levels[1:]:
        totals = level[1::4]
        ends = node_ends(level)
        starts = list(map(sub, ends, totals))
        here: list[tuple[int, int, Node]] = []
        j = 0
        for k in compress(range(len(totals)), totals):
            while j < len(above) and above[j][1] <= starts[k]:
                j += 1
            if j == len(above) or above[j][0] > starts[k]:
                raise FlameGraphError(f"node {k} at x={starts[k]} lies outside the level above")
            node = Node(label(graph.names[level[4 * k + 3]]), totals[k], level[4 * k + 2])
            above[j][2].children.append(node)
            here.append((starts[k], ends[k], node))
        above = here
    return root


def prune(graph: FlameGraph, min_share: float) -> FlameGraph:
    """The graph without the nodes whose total is below `min_share` of the graph's total.

    Every kept node keeps its x, total and self, so the nesting holds and a parent keeps
    the room its dropped children took; a node's ancestors are at least as large, so they
    are kept too. The name table keeps only the names still used, in order of first use.
    """
    floor = min_share * graph.total
    names: list[str] = []
    index: dict[int, int] = {}
    levels: list[list[int]] = []
    for level in graph.levels:
        ends = node_ends(level)
        kept: list[int] = []
        prev_end = 0
        for k in range(0, len(level) // 4):
            total = level[4 * k + 1]
            if total == 0 or total < floor:
                continue
            start = ends[k] - total
            name = level[4 * k + 3]
            if name not in index:
                index[name] = len(names)
                names.append(graph.names[name])
            kept += [start - prev_end, total, level[4 * k + 2], index[name]]
            prev_end = ends[k]
        if not kept:
            break
        levels.append(kept)
    return FlameGraph(names, levels, graph.total)
