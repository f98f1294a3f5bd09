"""What the strict Pyroscope fake serves: profile sources, per-runtime agents, answer bodies.

A profile source is folded stacks `{(root, ..., leaf): self}`, a Connect `flamegraph` object,
or a callable `(service, profile_type, start_ms, end_ms)` returning either (`by_window()`
builds one that serves a baseline window and an incident window).

`AGENTS` says, per runtime, what its profiling agent writes: the `pyroscope_spy` label and one
profile type ID per kind (reference/pyroscope-api.md §2), so a fake service can be "a Go
service" or "a .NET service" as Pyroscope would list it; its stacks carry frame names as
that runtime writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from enrichers import profile_types as ids
from enrichers.result import ProfileKind
from receiver.demo.folded import encode_flamegraph

__all__ = ["AGENTS", "Agent", "Source", "by_window", "flamegraph_of", "render_body"]

Source = Mapping[Any, Any] | Callable[[str, str, int, int], Mapping[Any, Any]]


@dataclass(frozen=True)
class Agent:
    """A runtime's profiling agent: its `pyroscope_spy` value and a profile type per kind."""

    spy: str
    profile_types: Mapping[ProfileKind, str]


AGENTS: Mapping[str, Agent] = MappingProxyType(
    {
        "jvm": Agent(
            "javaspy",
            {
                "cpu": ids.PROCESS_CPU,
                "alloc": ids.JAVA_ALLOC_BYTES,
                "mutex": ids.JAVA_MUTEX_CONTENTIONS,
                "wall": ids.JAVA_WALL,
            },
        ),
        "go": Agent(
            "gospy",
            {
                "cpu": ids.PROCESS_CPU,
                "alloc": ids.GO_ALLOC_SPACE,
                "mutex": ids.GO_MUTEX_DELAY,
                "wall": ids.GO_BLOCK_DELAY,
            },
        ),
        "python": Agent("pyspy", {"cpu": ids.PYSPY_CPU}),
        "ruby": Agent("rbspy", {"cpu": ids.PYSPY_CPU}),
        "dotnet": Agent(
            "dotnetspy",
            {"cpu": ids.DOTNET_CPU, "alloc": ids.DOTNET_ALLOC_SIZE, "mutex": ids.DOTNET_LOCK_TIME},
        ),
        "nodejs": Agent("nodespy", {"cpu": ids.NODE_WALL, "alloc": ids.NODE_INUSE_SPACE}),
        "ebpf": Agent("ebpfspy", {"cpu": ids.PROCESS_CPU}),
    }
)


def by_window(steps: Sequence[tuple[int, Mapping[Any, Any]]]) -> Source:
    """A source serving the first graph whose threshold is >= the window's end (else the last)."""

    def pick(service: str, profile_type: str, start_ms: int, end_ms: int) -> Mapping[Any, Any]:
        return next((graph for limit, graph in steps if end_ms <= limit), steps[-1][1])

    return pick


def flamegraph_of(source: Source, service: str, profile_type: str, window: tuple[int, int]) -> Any:
    """A Connect `flamegraph` object from a source (stacks, object, or callable)."""
    data = source(service, profile_type, *window) if callable(source) else source
    if any(isinstance(key, tuple) for key in data):
        return encode_flamegraph(data)
    return dict(data)


def render_body(graph: Mapping[str, Any], profile_type: str) -> dict[str, Any]:
    """A legacy `/pyroscope/render` body (§1.2): the same levels as JSON numbers."""
    levels = [[int(v) for v in level.get("values", [])] for level in graph.get("levels", [])]
    units = "samples" if profile_type.split(":")[1] == "cpu" else profile_type.split(":")[2]
    return {
        "version": 1,
        "flamebearer": {
            "names": graph.get("names", []),
            "levels": levels,
            "numTicks": int(graph.get("total", 0)),
            "maxSelf": int(graph.get("maxSelf", 0)),
        },
        "metadata": {
            "format": "single",
            "spyName": "",
            "sampleRate": 1_000_000_000,
            "units": units,
            "name": profile_type.split(":")[1],
        },
        "timeline": None,
        "groups": None,
        "heatmap": None,
    }
