"""The fix check's outcome, pure: samples from values, the three outcomes and their lines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from enrichers.compare import ProfileComparison
from enrichers.fixcheck import estimated_samples, fix_check, span_words

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
SAMPLE = 10_000_000  # ns
F = "com.example.PaymentVerticle.sha256"


def comparison(before_pct: float, n0: int, after_pct: float, n1: int) -> ProfileComparison:
    return ProfileComparison(n0 * SAMPLE, n1 * SAMPLE, {F: before_pct}, {F: after_pct})


def test_samples_are_estimated_from_the_unit_of_the_profile_type() -> None:
    """10 ms per CPU sample, 512 KiB per allocation sample, one per counted event."""
    assert estimated_samples(CPU, 1_000 * SAMPLE) == 1_000
    assert estimated_samples("memory:alloc_space:bytes:space:bytes", 5 * 524_288) == 5
    assert estimated_samples("mutex:contentions:count:mutex:count", 42) == 42


def test_the_window_after_is_said_in_whole_units() -> None:
    """`10 min`, `2 h`, `90 s`, `30 s`."""
    spans = [timedelta(minutes=10), timedelta(hours=2), timedelta(seconds=90), timedelta(0, 30)]
    assert [span_words(s) for s in spans] == ["10 min", "2 h", "90 s", "30 s"]


@pytest.mark.parametrize(
    ("shares", "outcome", "ending"),
    [
        ((34.2, 1000, 3.1, 1000), "fixed", "34.2% -> 3.1% of CPU (-31.1 pp) in the 10 min after"
         " resolve: fixed"),
        ((34.2, 1000, 17.2, 1000), "still hot", "34.2% -> 17.2% of CPU (-17.0 pp) in the 10 min"
         " after resolve: still hot (17.2%): the alert resolved but the hotspot did not go away"),
        ((34.2, 1000, 3.1, 99), "not enough samples", "34.2% -> 3.1% of CPU (-31.1 pp) in the 10"
         " min after resolve: not enough samples (99 after the resolve, at least 100 needed to"
         " tell)"),
        # Halved, but 4.0 % of 1,000 vs 1.5 % of 120 samples: z = 1.37 < 1.645, noise.
        ((4.0, 1000, 1.5, 120), "not enough samples", "4.0% -> 1.5% of CPU (-2.5 pp) in the 10"
         " min after resolve: not enough samples (120 after the resolve, at least 100 needed to"
         " tell)"),
        ((4.0, 1000, 1.5, 2000), "fixed", "4.0% -> 1.5% of CPU (-2.5 pp) in the 10 min after"
         " resolve: fixed"),
    ],
    ids=["fixed", "still-hot-above-half", "too-few-samples", "halved-within-noise", "halved"],
)  # fmt: skip
def test_outcomes_with_both_shares(
    shares: tuple[float, int, float, int], outcome: str, ending: str
) -> None:
    """Fixed at most half and beyond noise; still hot above half; else not enough samples."""
    check = fix_check(
        "payment-service", F, "cpu", CPU, comparison(*shares), after=timedelta(minutes=10)
    )
    assert check.outcome == outcome
    assert check.line() == f"fix check: {F} {ending}"
    assert check.line(with_service=True) == f"fix check (payment-service): {F} {ending}"
