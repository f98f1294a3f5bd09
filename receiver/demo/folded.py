"""Folded stacks as a Connect flame graph: what the demo simulation and test fakes serve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from enrichers.flamegraph_tree import graph_from_stacks

__all__ = ["encode_flamegraph"]


def encode_flamegraph(stacks: Mapping[tuple[str, ...], int]) -> dict[str, Any]:
    """Folded stacks (root -> leaf: self value) as a Connect `flamegraph` object.

    Encoded like the server (§1.4, §1.6) by `enrichers.flamegraph_tree.graph_from_stacks`:
    names deduplicated with `total` first, children sorted by name after the parent's self
    part, x delta-encoded; here int64 as strings and zero-valued fields omitted (no
    samples: `{}`).
    """
    graph = graph_from_stacks(stacks.items())
    if graph.total == 0:
        return {}
    max_self = max(max(level[2::4]) for level in graph.levels)
    document: dict[str, Any] = {
        "names": graph.names,
        "levels": [{"values": [str(value) for value in level]} for level in graph.levels],
        "total": str(graph.total),
    }
    if max_self:
        document["maxSelf"] = str(max_self)
    return document
