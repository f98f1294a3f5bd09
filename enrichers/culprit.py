"""Where application code is on a flame graph's stacks: culprits and idle time. Pure.

A node's stack is its path from the root. Two questions are answered over that tree:

* **culprit**: the hotspot is the top self function; when it is runtime or library code
  (`java.util.regex.Pattern$CharPropertyGreedy.match`, `runtime.mallocgc`), the code to
  change is its nearest caller that is application code. Each node of the hot function
  votes for the nearest application frame on its stack (itself, if it is one) with its self
  value; the culprit is the frame with the most votes (the first on a tie, level-major).
* **idle**: a stack with no application frame at all (`NioEventLoop.select`, `epoll_wait`,
  `Unsafe.park`, `runtime.gopark`, a futex wait) is time nobody's code spent: it never
  makes the wall-clock hotspot (`busy_leader()`).

Frames are classified by the runtime's `FrameRules` and `app_prefixes`
(`enrichers.frames`); the parent of a node is the node of the level above whose span holds
its start (pyroscope-api.md §1.6; spans nest, as parsing checked).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress
from operator import sub

from enrichers.flamegraph import OTHER, FlameGraph, labels_of, totals_of
from enrichers.flamegraph_parse import node_ends
from enrichers.frames import FrameRules
from enrichers.result import FunctionStat

__all__ = ["busy_leader", "culprit_of", "parents_of"]


def parents_of(graph: FlameGraph) -> list[list[int]]:
    """Per level, the index (in the level above) of each node's parent; -1 for the root and
    for empty nodes, which hold nothing."""
    parents: list[list[int]] = []
    upper_starts: list[int] = []
    upper_ends: list[int] = []
    for level in graph.levels:
        totals = level[1::4]
        ends = node_ends(level)
        starts = list(map(sub, ends, totals))
        found = [-1] * len(totals)
        j = 0
        for k in compress(range(len(totals)), totals):
            while j < len(upper_ends) and upper_ends[j] <= starts[k]:
                j += 1
            if j < len(upper_ends) and upper_starts[j] <= starts[k]:
                found[k] = j
        parents.append(found)
        upper_starts, upper_ends = starts, ends
    return parents


def _app_names(labels: list[str], frames: FrameRules, app_prefixes: Sequence[str]) -> list[bool]:
    """Per name index, whether the frame is application code (the root and `other` never)."""
    classes: dict[str, bool] = {}
    for label in labels:
        if label not in classes:
            classes[label] = frames.classify(label, app_prefixes) == "app"
    flags = [classes[label] for label in labels]
    for index, label in enumerate(labels):
        if label == OTHER or (index == 0 and label == "total"):
            flags[index] = False
    return flags


def culprit_of(
    graph: FlameGraph, function: str, frames: FrameRules, app_prefixes: Sequence[str]
) -> str | None:
    """The nearest application frame on the stacks of `function`'s self time, weighted by
    that self time; None when no stack of it holds application code."""
    labels = labels_of(graph, frames)
    app = _app_names(labels, frames, app_prefixes)
    parents = parents_of(graph)
    votes: dict[str, int] = {}
    for depth, level in enumerate(graph.levels):
        for k in range(len(level) // 4):
            value = level[4 * k + 2]
            if not value or labels[level[4 * k + 3]] != function:
                continue
            up, node = depth, k
            while up > 0 and node >= 0:
                name = graph.levels[up][4 * node + 3]
                if app[name]:
                    votes[labels[name]] = votes.get(labels[name], 0) + value
                    break
                node, up = parents[up][node], up - 1
    return max(votes, key=lambda name: votes[name]) if votes else None


def busy_leader(
    graph: FlameGraph,
    *,
    frames: FrameRules,
    app_prefixes: Sequence[str],
    unit: str,
    unit_scale: float = 1.0,
) -> FunctionStat | None:
    """The function with the most self time on stacks that hold application code; None when
    every stack is idle. Its shares are of the whole graph."""
    if graph.total <= 0:
        return None
    labels = labels_of(graph, frames)
    app = _app_names(labels, frames, app_prefixes)
    parents = parents_of(graph)
    busy: list[list[bool]] = []
    selfs: dict[str, int] = {}
    for depth, level in enumerate(graph.levels):
        above = busy[-1] if busy else []
        row = []
        for k in range(len(level) // 4):
            name, parent = level[4 * k + 3], parents[depth][k]
            has_app = app[name] or (parent >= 0 and above[parent])
            row.append(has_app)
            if has_app and level[4 * k + 2] and labels[name] != OTHER:
                selfs[labels[name]] = selfs.get(labels[name], 0) + level[4 * k + 2]
        busy.append(row)
    if not selfs:
        return None
    leader = max(selfs, key=lambda name: selfs[name])
    total = totals_of(graph, labels, [leader])[leader]
    return FunctionStat(
        function=leader,
        self_pct=100.0 * selfs[leader] / graph.total,
        total_pct=100.0 * total / graph.total,
        value=selfs[leader] * unit_scale,
        unit=unit,
        frame_class=frames.classify(leader, app_prefixes),
    )
