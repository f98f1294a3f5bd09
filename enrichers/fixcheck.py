"""The fix check after a resolve, pure: did the hotspot go away? (PRODUCT.md §7.2)

`enrichment.verify_after` after a group resolves, each analysed service's hotspot share in
[resolved, resolved + verify_after] is compared (`enrichers.compare`) with its share in the
incident window, in the hotspot's own profile. Three outcomes:

- `not enough samples`: the window after the resolve holds fewer than `MIN_SAMPLES`
  samples of that profile (the service stopped, was scaled down, or its profiles did not
  arrive), or the share fell to half but the fall is not told apart from sampling noise
  (one-sided two-proportion z-test at `Z_ONE_SIDED_5PCT`);
- `fixed`: the share after is at most `FIXED_RATIO` of the share during the incident,
  beyond noise;
- `still hot`: anything else: the alert resolved, the hotspot did not go away.

Samples are not in a flame graph, only values: they are estimated from the profile's
unit, assuming the agents' default sampling (`SAMPLE_VALUE`): 10 ms per CPU or wall-clock
sample (100 Hz), 512 KiB per allocation sample, one event per count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from enrichers.compare import ProfileComparison
from enrichers.result import ProfileKind

__all__ = [
    "FIXED_RATIO",
    "MIN_SAMPLES",
    "FixCheck",
    "Outcome",
    "estimated_samples",
    "fix_check",
    "span_words",
]

Outcome = Literal["fixed", "still hot", "not enough samples"]

MIN_SAMPLES = 100  # at 100 samples a 30 % share is known to about +-4.6 pp (one sd)
FIXED_RATIO = 0.5  # fixed: the share at most halved
Z_ONE_SIDED_5PCT = 1.645
SAMPLE_VALUE = {"nanoseconds": 10_000_000.0, "bytes": 512.0 * 1024, "count": 1.0}
KIND_WORDS: dict[str, str] = {
    "cpu": "CPU",
    "alloc": "allocations",
    "mutex": "lock contention",
    "wall": "wall-clock time",
}


def estimated_samples(profile_type: str, total: float) -> float:
    """How many samples a window's `total` (in the profile's unit) stands for."""
    parts = profile_type.split(":")
    unit = parts[2] if len(parts) >= 3 else "count"
    return total / SAMPLE_VALUE.get(unit, 1.0)


def span_words(span: timedelta) -> str:
    """`10 min`, `90 s`, `2 h`: the window after the resolve, as the line says it."""
    seconds = span.total_seconds()
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


@dataclass(frozen=True)
class FixCheck:
    """One service's fix check: the hotspot's shares during the incident and after."""

    service: str
    function: str
    profile: ProfileKind
    during_pct: float
    after_pct: float
    samples_after: float
    outcome: Outcome
    after: timedelta

    @property
    def delta_pp(self) -> float:
        return self.after_pct - self.during_pct

    def line(self, *, with_service: bool = False) -> str:
        """`fix check: F 34.2% -> 3.1% of CPU (-31.1 pp) in the 10 min after resolve: fixed`."""
        head = f"fix check ({self.service})" if with_service else "fix check"
        kind = KIND_WORDS.get(self.profile, self.profile)
        text = (
            f"{head}: {self.function} {self.during_pct:.1f}% -> {self.after_pct:.1f}% of {kind}"
            f" ({self.delta_pp:+.1f} pp) in the {span_words(self.after)} after resolve: "
        )
        if self.outcome == "fixed":
            return text + "fixed"
        if self.outcome == "still hot":
            return (
                text + f"still hot ({self.after_pct:.1f}%): the alert resolved but the hotspot"
                " did not go away"
            )
        return text + (
            f"not enough samples ({self.samples_after:,.0f} after the resolve, at least"
            f" {MIN_SAMPLES} needed to tell)"
        )


def _beyond_noise(p0: float, n0: float, p1: float, n1: float) -> bool:
    """Is share p1 (of n1 samples) below p0 (of n0) beyond noise? One-sided, pooled z."""
    pooled = (p0 * n0 + p1 * n1) / (n0 + n1)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1)) if 0 < pooled < 1 else 0.0
    return spread == 0.0 or (p0 - p1) / spread >= Z_ONE_SIDED_5PCT


def fix_check(
    service: str,
    function: str,
    profile: ProfileKind,
    profile_type: str,
    comparison: ProfileComparison,
    *,
    after: timedelta,
) -> FixCheck:
    """The outcome for `function`; `comparison` has the incident window before, after after."""
    change = comparison.change(function)
    n0 = estimated_samples(profile_type, comparison.before_total)
    n1 = estimated_samples(profile_type, comparison.after_total)
    outcome: Outcome
    if n1 < MIN_SAMPLES or n0 <= 0 or change.before_pct <= 0:
        outcome = "not enough samples"
    elif change.after_pct > FIXED_RATIO * change.before_pct:
        outcome = "still hot"
    elif _beyond_noise(change.before_pct / 100, n0, change.after_pct / 100, n1):
        outcome = "fixed"
    else:
        outcome = "not enough samples"
    return FixCheck(
        service, function, profile, change.before_pct, change.after_pct, n1, outcome, after
    )
