"""Folded stacks as a Connect flame graph: what the demo simulation and test fakes serve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from enrichers.flamegraph import FlameGraphError

__all__ = ["encode_flamegraph"]


class _Node:
    __slots__ = ("children", "name", "self", "total")

    def __init__(self, name: str) -> None:
        self.name, self.total, self.self = name, 0, 0
        self.children: dict[str, _Node] = {}


def _tree(stacks: Mapping[tuple[str, ...], int]) -> _Node:
    root = _Node("total")
    for stack, value in stacks.items():
        if not stack or isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FlameGraphError(f"stack {stack!r}: needs frames and a non-negative int value")
        node = root
        node.total += value
        for name in stack:
            node = node.children.setdefault(name, _Node(name))
            node.total += value
        node.self += value
    return root


def encode_flamegraph(stacks: Mapping[tuple[str, ...], int]) -> dict[str, Any]:
    """Folded stacks (root -> leaf: self value) as a Connect `flamegraph` object.

    Encoded like the server (§1.4, §1.6): names deduplicated with `total` first, children
    sorted by name after the parent's self part, x delta-encoded, int64 as strings and
    zero-valued fields omitted (no samples: `{}`).
    """
    root = _tree(stacks)
    if root.total == 0:
        return {}
    names, index, levels, max_self = ["total"], {"total": 0}, [], 0
    frontier = [(0, root)]
    while frontier:
        values, following, prev_end = [], [], 0
        for x, node in frontier:
            if node.total == 0:
                continue
            position = index.setdefault(node.name, len(names))
            if position == len(names):
                names.append(node.name)
            values += [x - prev_end, node.total, node.self, position]
            prev_end, max_self = x + node.total, max(max_self, node.self)
            child_x = x + node.self
            for name in sorted(node.children):
                following.append((child_x, node.children[name]))
                child_x += node.children[name].total
        if values:
            levels.append({"values": [str(value) for value in values]})
        frontier = following
    graph: dict[str, Any] = {"names": names, "levels": levels, "total": str(root.total)}
    if max_self:
        graph["maxSelf"] = str(max_self)
    return graph
