"""Sub-windows of a window and the profile built from their graphs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from enrichers.flamegraph import FlameGraph, parse_connect, self_percentages
from enrichers.frames import PLAIN
from enrichers.result import Window
from enrichers.windowed import WindowedFunction, split_window, windowed_profile
from receiver.demo.folded import encode_flamegraph

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
T0 = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


def graph(stacks: dict[tuple[str, ...], int]) -> FlameGraph:
    return parse_connect({"flamegraph": encode_flamegraph(stacks)})


def test_split_window_covers_the_window_in_equal_parts() -> None:
    """Ten one-minute sub-windows of ten minutes, back to back; the last ends at the end."""
    parts = split_window(Window(start=T0, end=T0 + timedelta(minutes=10)), 10)
    assert [p.start for p in parts] == [T0 + timedelta(minutes=k) for k in range(10)]
    assert [p.end for p in parts] == [T0 + timedelta(minutes=k + 1) for k in range(10)]
    odd = split_window(Window(start=T0, end=T0 + timedelta(milliseconds=1001)), 2)
    assert [(p.start, p.end) for p in odd] == [
        (T0, T0 + timedelta(milliseconds=500)),
        (T0 + timedelta(milliseconds=500), T0 + timedelta(milliseconds=1001)),
    ]
    with pytest.raises(ValueError, match="cannot hold 5 sub-windows"):
        split_window(Window(start=T0, end=T0 + timedelta(milliseconds=3)), 5)


def test_windowed_profile_shares_are_those_of_the_merged_window() -> None:
    """Whole-window self and total shares equal the merged profile's; empty windows drop out."""
    a = {("main", "work"): 30, ("main", "idle"): 10}
    b = {("main", "work"): 10, ("main", "work", "hash"): 50, ("main",): 40}
    profile = windowed_profile(CPU, [graph(a), graph({}), graph(b)], frames=PLAIN)
    merged = self_percentages(graph({**a, **b, ("main", "work"): 40}))
    assert profile.windows == 2
    assert profile.total == pytest.approx(140e-9)
    assert profile.unit == "seconds"
    assert {f.function: f.self_pct for f in profile.functions} == pytest.approx(merged)
    assert profile.functions[0] == WindowedFunction(
        "hash", pytest.approx(100 * 50 / 140), pytest.approx(100 * 50 / 140), [0.0, 50.0]
    )
    work = next(f for f in profile.functions if f.function == "work")
    assert work.total_pct == pytest.approx(100 * 90 / 140)  # 30 + (10 + 50)
    assert work.window_self_pct == pytest.approx([75.0, 10.0])
    kept = profile.above(25.0, 1)
    assert [f.function for f in kept.functions] == ["hash"]
    assert kept.shares().series("absent") == [0.0, 0.0]
