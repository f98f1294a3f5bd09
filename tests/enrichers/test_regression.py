"""The gate's statistics: the exact rank test, Benjamini-Hochberg, the floors, measured rates."""

from __future__ import annotations

import math
import random
from itertools import combinations

import pytest

from enrichers import regression
from enrichers.regression import (
    Finding,
    GateRule,
    ProfileWindows,
    assess,
    benjamini_hochberg,
    rank_sum_greater,
    smallest_p,
)
from tests.support.gate_simulation import RISER, gate_outcomes


def brute_force_p(before: list[float], after: list[float]) -> float:
    """P(rank sum of `after` >= observed) over every relabelling, midranks for ties."""
    pooled = before + after
    ordered = sorted(pooled)
    rank = {v: (ordered.index(v) + 1 + len(ordered) - ordered[::-1].index(v)) / 2 for v in pooled}
    observed = sum(rank[v] for v in after)
    sums = [
        sum(rank[pooled[i]] for i in chosen)
        for chosen in combinations(range(len(pooled)), len(after))
    ]
    return sum(s >= observed - 1e-9 for s in sums) / len(sums)


@pytest.mark.parametrize("seed", range(12))
def test_exact_rank_test_matches_every_relabelling(seed: int) -> None:
    """With and without ties, the p-value is the share of relabellings at least as extreme."""
    rng = random.Random(seed)
    n1, n2 = rng.randint(1, 7), rng.randint(1, 7)
    levels = [0.0, 1.0, 2.5, 4.0] if seed % 2 else [rng.random() for _ in range(20)]
    before = [rng.choice(levels) for _ in range(n1)]
    after = [rng.choice(levels) + (0.5 if seed % 3 == 0 else 0.0) for _ in range(n2)]
    assert rank_sum_greater(before, after) == pytest.approx(brute_force_p(before, after))


def test_rank_test_extremes() -> None:
    """Complete separation gives the smallest p; no rise gives a large one; no data gives 1."""
    assert rank_sum_greater([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(1 / 252)
    assert rank_sum_greater([0.0] * 10, [0.4] * 10) == pytest.approx(smallest_p(10, 10))
    assert rank_sum_greater([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]) == pytest.approx(1.0)
    assert rank_sum_greater([3.0] * 4, [3.0] * 4) == pytest.approx(1.0)
    assert rank_sum_greater([], [1.0]) == 1.0


@pytest.mark.parametrize("tied", [False, True])
def test_normal_approximation_agrees_with_the_exact_count(
    tied: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past EXACT_MAX_N the tie-corrected normal approximation is within 5 % of exact."""
    rng = random.Random(7)
    before = [rng.gauss(0, 1) for _ in range(32)]
    after = [rng.gauss(0.6, 1) for _ in range(32)]
    if tied:
        before, after = [round(v) for v in before], [round(v) for v in after]
    exact = rank_sum_greater(before, after)
    monkeypatch.setattr(regression, "EXACT_MAX_N", 10)
    approx = rank_sum_greater(before, after)
    assert 0.001 < exact < 0.05
    assert approx == pytest.approx(exact, rel=0.05)


def test_benjamini_hochberg_steps_up() -> None:
    """BH rejects the k smallest p-values for the largest k with p_(k) <= k alpha / m."""
    p = [0.01, 0.04, 0.03, 0.20, 0.005]
    assert benjamini_hochberg(p, 0.05) == [True, True, True, False, True]
    assert benjamini_hochberg([0.02, 0.5], 0.05) == [True, False]
    assert benjamini_hochberg([0.03, 0.04], 0.05) == [True, True]
    assert benjamini_hochberg([], 0.05) == []


def test_few_sub_windows_and_many_tests_can_never_reject() -> None:
    """5 vs 5 sub-windows (p >= 1/252) cannot reject under BH over 30 tests, over 10 can."""
    floor = smallest_p(5, 5)
    assert floor == pytest.approx(0.00397, abs=1e-5)
    assert benjamini_hochberg([floor] + [0.5] * 29, 0.05) == [False] * 30
    assert benjamini_hochberg([floor] + [0.5] * 9, 0.05) == [True] + [False] * 9
    assert smallest_p(10, 10) == pytest.approx(1 / 184_756)


def shares(windows: int, **series: list[float]) -> ProfileWindows:
    return ProfileWindows(
        windows=windows,
        self_pct={name: sum(values) / len(values) for name, values in series.items()},
        window_self_pct=series,
    )


def test_only_rises_past_both_floors_are_tested() -> None:
    """min-pp and min-rel both hold, or the function is not tested; new functions count."""
    before = shares(
        6,
        big=[40.0] * 6,
        small=[5.0, 5.2, 4.8, 5.1, 4.9, 5.0],
        steady=[10.0, 10.5, 9.5, 10.2, 9.8, 10.0],
    )
    after = shares(
        6,
        big=[43.0] * 6,  # +3 pp but +7.5 %: below min-rel
        small=[8.0, 8.2, 7.8, 8.1, 7.9, 8.0],  # +3 pp, +60 %
        steady=[11.0, 11.5, 10.5, 11.2, 10.8, 11.0],  # +1 pp: below min-pp
        fresh=[2.5, 2.4, 2.6, 2.5, 2.5, 2.5],  # absent before
    )
    found = assess([(("svc", "cpu"), before, after)], GateRule())
    assert found == [
        Finding(("svc", "cpu"), "small", 5.0, 8.0, pytest.approx(1 / 924), True, False),
        Finding(("svc", "cpu"), "fresh", 0.0, 2.5, pytest.approx(1 / 924), True, True),
    ]
    assert found[1].relative == math.inf
    assert found[0].delta_pp == pytest.approx(3.0)


def test_too_few_sub_windows_tests_nothing() -> None:
    """Below the minimum sample count (5 sub-windows with samples per side) nothing is tested."""
    before = shares(4, f=[1.0, 1.0, 1.0, 1.0])
    after = shares(6, f=[9.0] * 6)
    assert assess([(("svc", "cpu"), before, after)], GateRule()) == []


def test_a_rise_from_one_burst_is_not_significant() -> None:
    """A share that rose on average because of one sub-window is not a regression."""
    before = shares(10, f=[5.0] * 10)
    after = shares(10, f=[5.0] * 9 + [40.0])
    [finding] = assess([(("svc", "cpu"), before, after)], GateRule())
    assert (finding.regressed, finding.p_value) == (False, pytest.approx(0.5))


def test_false_positive_rate_on_unchanged_profiles() -> None:
    """Unchanged profiles resampled per sub-window pass on >= 95 of 100 seeds (measured 100)."""
    failed, _ = gate_outcomes(0.0)
    assert failed <= 5
    assert failed == 0  # the measured rate quoted in the README


def test_power_for_a_three_point_rise() -> None:
    """A +3 pp rise of one 5 % function is caught on >= 90 of 100 seeds (measured: 99)."""
    _, caught = gate_outcomes(3.0)
    assert caught >= 90
    assert caught == 99  # the measured power quoted in the README
    assert RISER.endswith("validate")
