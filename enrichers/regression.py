"""The regression gate's statistics, pure: is a function's rise real or sampling noise?

The method (README, "How the gate decides"):

1. Each window (the baseline's, the build's) is cut into `windows` sub-windows, each its own
   profile query. A function's share of each sub-window (self / sub-window total, in %) is
   one observation; sub-windows without samples are left out. The spread of these shares is
   the noise, measured on the service itself instead of assumed.
2. A function is *tested* only when both effect floors hold for its whole-window shares:
   it rose by at least `min_pp` percentage points **and** by at least `min_rel` of its
   baseline share (a function absent from the baseline rose by infinity), and both windows
   have at least `MIN_WINDOWS` sub-windows with samples (the minimum sample count).
3. A tested function gets a one-sided Mann-Whitney rank test: are its sub-window shares in
   the build larger than in the baseline? Exact for up to `EXACT_MAX_N` observations (ties
   included: the permutation distribution of the rank sum is counted), else the normal
   approximation with tie correction and continuity.
4. Benjamini-Hochberg at `alpha` over every tested function of every service and profile
   type; a rejected one is a regression.

Why only the functions past the floors are tested: an exact rank test over n vs n
sub-windows cannot give a p-value below 1 / C(2n, n) (5 vs 5: 1/252 = 0.004), and BH needs
the smallest of m p-values below alpha / m. Testing every function of a profile (m ~ 50)
could then never reject with 5 sub-windows. The floors are the practical-significance
question ("is this big enough to care?") and leave a handful of candidates; the rank test
then asks whether the rise holds across the sub-windows rather than coming from one burst.
With the default 10 sub-windows the smallest p is 1/184,756, so BH can reject among
thousands of candidates. Assumptions: sub-windows are exchangeable under "no change" (no
trend within a window, e.g. a warm-up at the start of the load), and a function's name
means the same code in both windows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import comb

from enrichers.compare import relative_change

__all__ = [
    "DEFAULT_WINDOWS",
    "EXACT_MAX_N",
    "MIN_WINDOWS",
    "Finding",
    "GateRule",
    "ProfileWindows",
    "assess",
    "benjamini_hochberg",
    "enough_windows",
    "rank_sum_greater",
    "smallest_p",
]

MIN_WINDOWS = 5  # sub-windows with samples per side: fewer and the rank test says little
DEFAULT_WINDOWS = 10  # smallest exact p 1/184,756: BH can still reject among many candidates
# 64-bit counts hold C(64, 32); up to this many observations the test is exact.
EXACT_MAX_N = 64
_WORD = 64


@dataclass(frozen=True)
class GateRule:
    """The gate's thresholds (`gate --min-pp --min-rel --alpha`)."""

    min_pp: float = 2.0
    min_rel: float = 0.2
    alpha: float = 0.05
    min_windows: int = MIN_WINDOWS


@dataclass(frozen=True)
class ProfileWindows:
    """One profile type of one service over a window cut into sub-windows.

    `self_pct` is each function's share of the whole window; `window_self_pct` its share of
    each of the `windows` sub-windows that had samples (a function missing from one is 0).
    """

    windows: int
    self_pct: Mapping[str, float]
    window_self_pct: Mapping[str, Sequence[float]]

    def series(self, function: str) -> list[float]:
        return list(self.window_self_pct.get(function, [0.0] * self.windows))


@dataclass(frozen=True)
class Finding:
    """A function that passed both effect floors, with its test and BH decision."""

    key: tuple[str, ...]  # (service, profile kind): where it was found
    function: str
    baseline_pct: float
    now_pct: float
    p_value: float
    regressed: bool = False
    new: bool = False  # absent from the baseline

    @property
    def delta_pp(self) -> float:
        return self.now_pct - self.baseline_pct

    @property
    def relative(self) -> float:
        return relative_change(self.baseline_pct, self.now_pct)


def _ranks(values: Sequence[float]) -> tuple[list[int], list[int]]:
    """Doubled midranks (integers) of `values`, in their order, and the sizes of ties."""
    order = sorted(range(len(values)), key=values.__getitem__)
    doubled = [0] * len(values)
    ties = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            doubled[order[k]] = start + end + 2  # 2 x the mean of ranks start+1 .. end+1
        ties.append(end - start + 1)
        start = end + 1
    return doubled, [t for t in ties if t > 1]


@lru_cache(maxsize=256)
def _rank_sum_counts(doubled: tuple[int, ...], size: int) -> tuple[int, ...]:
    """How many subsets of `size` of the pooled ranks have each doubled rank sum.

    The generating function prod(1 + y x^r): the coefficient of y^size, as one big integer
    per subset size with one 64-bit word per power of x.
    """
    rows = [0] * (size + 1)
    rows[0] = 1
    for taken, rank in enumerate(doubled, 1):
        for k in range(min(taken, size), 0, -1):
            rows[k] += rows[k - 1] << (rank * _WORD)
    words = sum(doubled[-size:]) + 1 if size else 1
    raw = rows[size].to_bytes(words * 8, "little")
    return tuple(memoryview(raw).cast("Q"))


def _normal_greater(after_sum: float, n1: int, n2: int, ties: Sequence[int]) -> float:
    n = n1 + n2
    u = after_sum - n2 * (n2 + 1) / 2
    correction = sum(t**3 - t for t in ties) / (n * (n - 1))
    variance = n1 * n2 / 12 * ((n + 1) - correction)
    if variance <= 0:
        return 1.0
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(variance)
    return 0.5 * math.erfc(z / math.sqrt(2))


def rank_sum_greater(before: Sequence[float], after: Sequence[float]) -> float:
    """One-sided p-value of Mann-Whitney's test that `after` tends to exceed `before`.

    P(W >= w) for the rank sum W of `after` among the pooled observations, under "the labels
    are exchangeable"; ties get midranks and the exact distribution counts them.
    """
    n1, n2 = len(before), len(after)
    if not n1 or not n2:
        return 1.0
    doubled, ties = _ranks([*before, *after])
    observed = sum(doubled[n1:])
    if n1 + n2 > EXACT_MAX_N:
        return _normal_greater(observed / 2, n1, n2, ties)
    counts = _rank_sum_counts(tuple(sorted(doubled)), n2)
    below = sum(counts[:observed])
    return (comb(n1 + n2, n2) - below) / comb(n1 + n2, n2)


def smallest_p(n1: int, n2: int) -> float:
    """The smallest p-value the exact test can give without ties: 1 / C(n1 + n2, n2)."""
    return 1 / comb(n1 + n2, n2)


def benjamini_hochberg(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Which hypotheses BH rejects at false discovery rate `alpha` (step-up)."""
    m = len(p_values)
    order = sorted(range(m), key=p_values.__getitem__)
    passed = [p_values[i] <= alpha * (rank + 1) / m for rank, i in enumerate(order)]
    last = max((rank for rank, ok in enumerate(passed) if ok), default=-1)
    rejected = [False] * m
    for rank in range(last + 1):
        rejected[order[rank]] = True
    return rejected


def _candidates(
    key: tuple[str, ...], before: ProfileWindows, after: ProfileWindows, rule: GateRule
) -> list[Finding]:
    if min(before.windows, after.windows) < rule.min_windows:
        return []
    found = []
    for function, now in after.self_pct.items():
        base = before.self_pct.get(function, 0.0)
        delta = now - base
        if delta < rule.min_pp or (base > 0 and delta / base < rule.min_rel):
            continue
        p = rank_sum_greater(before.series(function), after.series(function))
        new = function not in before.self_pct
        found.append(Finding(key, function, base, now, p, new=new))
    return found


def assess(
    pairs: Sequence[tuple[tuple[str, ...], ProfileWindows, ProfileWindows]], rule: GateRule
) -> list[Finding]:
    """Every function past the effect floors, each with its p-value and BH decision over all
    of them; largest rise first. Pairs are (key, baseline, build)."""
    found = [f for key, before, after in pairs for f in _candidates(key, before, after, rule)]
    rejected = benjamini_hochberg([f.p_value for f in found], rule.alpha)
    decided = [
        Finding(f.key, f.function, f.baseline_pct, f.now_pct, f.p_value, ok, f.new)
        for f, ok in zip(found, rejected, strict=True)
    ]
    return sorted(decided, key=lambda f: (-f.delta_pp, f.key, f.function))


def enough_windows(before: ProfileWindows, after: ProfileWindows, rule: GateRule) -> bool:
    """Both sides have the minimum sample count (sub-windows with samples)."""
    return min(before.windows, after.windows) >= rule.min_windows
