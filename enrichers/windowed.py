"""A profile over a window cut into sub-windows: the shares the gate compares, pure.

`snapshot` and `gate` ask Pyroscope for each sub-window separately (one
`SelectMergeStacktraces` each) and build a `WindowedProfile` from the graphs: each
function's share of the whole window and of every sub-window with samples. Whole-window
shares are exact without a query of their own: a sample belongs to one sub-window, so a
function's self (and total) value over the window is the sum of its values in the
sub-windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from enrichers.flamegraph import FlameGraph, profile_unit, top_functions
from enrichers.frames import FrameRules
from enrichers.regression import ProfileWindows
from enrichers.result import Window

__all__ = ["WindowedFunction", "WindowedProfile", "split_window", "windowed_profile"]

# The whole profile is ranked (the gate must see a function that was nowhere in the top).
_EVERY_FUNCTION = 1_000_000


@dataclass(frozen=True)
class WindowedFunction:
    function: str
    self_pct: float
    total_pct: float
    window_self_pct: list[float]


@dataclass(frozen=True)
class WindowedProfile:
    """`windows` sub-windows had samples; `total` is in `unit` (seconds, bytes, count)."""

    profile_type: str
    unit: str
    total: float
    windows: int
    functions: list[WindowedFunction]

    def shares(self) -> ProfileWindows:
        return ProfileWindows(
            windows=self.windows,
            self_pct={f.function: f.self_pct for f in self.functions},
            window_self_pct={f.function: f.window_self_pct for f in self.functions},
        )

    def above(self, floor_pct: float, limit: int) -> WindowedProfile:
        """Only the functions with at least `floor_pct` of the window, at most `limit`."""
        kept = [f for f in self.functions if f.self_pct >= floor_pct][:limit]
        return WindowedProfile(self.profile_type, self.unit, self.total, self.windows, kept)


def split_window(window: Window, count: int) -> list[Window]:
    """`count` consecutive sub-windows of equal length (whole milliseconds) covering `window`."""
    span = window.end - window.start
    if count < 1 or span <= timedelta(0):
        raise ValueError("a window needs a positive length and at least one sub-window")
    step_ms = span // timedelta(milliseconds=1) // count
    if step_ms < 1:
        raise ValueError(f"a window of {span} cannot hold {count} sub-windows")
    edges = [window.start + timedelta(milliseconds=step_ms * k) for k in range(count)]
    ends = [*edges[1:], window.end]
    return [Window(start=a, end=b) for a, b in zip(edges, ends, strict=True)]


def windowed_profile(
    profile_type: str,
    graphs: Sequence[FlameGraph],
    *,
    frames: FrameRules,
) -> WindowedProfile:
    """The window's profile from its sub-window graphs (in order); empty ones are left out."""
    unit, scale = profile_unit(profile_type)
    sampled = [g for g in graphs if g.total > 0]
    total = sum(g.total for g in sampled)
    selfs: dict[str, list[float]] = {}
    totals: dict[str, float] = {}
    for index, graph in enumerate(sampled):
        ranked = top_functions(graph, n=_EVERY_FUNCTION, unit=unit, frames=frames)
        for stat in ranked.functions:
            shares = selfs.setdefault(stat.function, [0.0] * len(sampled))
            shares[index] = stat.self_pct
            totals[stat.function] = totals.get(stat.function, 0.0) + stat.total_pct * graph.total
    weights = [g.total / total for g in sampled] if total else []
    functions = [
        WindowedFunction(
            function=name,
            self_pct=sum(s * w for s, w in zip(shares, weights, strict=True)),
            total_pct=totals[name] / total,
            window_self_pct=shares,
        )
        for name, shares in selfs.items()
    ]
    functions.sort(key=lambda f: (-f.self_pct, f.function))
    return WindowedProfile(profile_type, unit, total * scale, len(sampled), functions)
