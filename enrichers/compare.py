"""What changed between two windows of one profile: every function's self share, pure.

`compare_graphs(before, after)` is the core of `flamebot compare` and of anything else that
asks "did this function's share go up or down between these windows?" (a fix check after a
resolve asks it of the hotspot: `comparison.change(hotspot)` with both shares and the two
windows' totals, so "not enough samples" can be told from "fixed"). Shares are self-% of
each window's own total, so a busier window does not look like a regression.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from enrichers.flamegraph import FlameGraph, self_percentages
from enrichers.frames import PLAIN, FrameRules

__all__ = ["ProfileComparison", "ShareChange", "compare_graphs", "relative_change"]

Movement = Literal["riser", "faller", "new", "vanished", "unchanged"]


def relative_change(before_pct: float, after_pct: float) -> float:
    """The change of a share relative to where it was; infinite for a new function."""
    return (after_pct - before_pct) / before_pct if before_pct > 0 else math.inf


@dataclass(frozen=True)
class ShareChange:
    """One function's self share before and after (0.0 where it had no self time)."""

    function: str
    before_pct: float
    after_pct: float

    @property
    def delta_pp(self) -> float:
        return self.after_pct - self.before_pct

    @property
    def relative(self) -> float:
        return relative_change(self.before_pct, self.after_pct)

    @property
    def movement(self) -> Movement:
        if self.before_pct == 0 and self.after_pct > 0:
            return "new"
        if self.after_pct == 0 and self.before_pct > 0:
            return "vanished"
        if self.delta_pp > 0:
            return "riser"
        return "faller" if self.delta_pp < 0 else "unchanged"


@dataclass(frozen=True)
class ProfileComparison:
    """Both windows of one profile type: totals (in the profile's raw unit) and shares."""

    before_total: int
    after_total: int
    shares_before: Mapping[str, float]
    shares_after: Mapping[str, float]

    def change(self, function: str) -> ShareChange:
        """`function`'s change; a function seen in neither window is 0.0 -> 0.0."""
        return ShareChange(
            function, self.shares_before.get(function, 0.0), self.shares_after.get(function, 0.0)
        )

    def changes(self) -> list[ShareChange]:
        """Every function of either window, first-seen order (before, then after)."""
        names = dict.fromkeys([*self.shares_before, *self.shares_after])
        return [self.change(name) for name in names]

    def _moved(self, movement: Movement) -> list[ShareChange]:
        return [c for c in self.changes() if c.movement == movement]

    def risers(self, n: int) -> list[ShareChange]:
        """Functions in both windows whose share rose, largest rise first."""
        return sorted(self._moved("riser"), key=lambda c: -c.delta_pp)[:n]

    def fallers(self, n: int) -> list[ShareChange]:
        """Functions in both windows whose share fell, largest fall first."""
        return sorted(self._moved("faller"), key=lambda c: c.delta_pp)[:n]

    def new(self, n: int) -> list[ShareChange]:
        """Functions only in the after window, largest share first."""
        return sorted(self._moved("new"), key=lambda c: -c.after_pct)[:n]

    def vanished(self, n: int) -> list[ShareChange]:
        """Functions only in the before window, largest share first."""
        return sorted(self._moved("vanished"), key=lambda c: -c.before_pct)[:n]


def compare_graphs(
    before: FlameGraph, after: FlameGraph, *, frames: FrameRules = PLAIN
) -> ProfileComparison:
    """The comparison of two windows' graphs, names as the runtime's `frames` show them."""
    return ProfileComparison(
        before_total=before.total,
        after_total=after.total,
        shares_before=self_percentages(before, frames=frames),
        shares_after=self_percentages(after, frames=frames),
    )
