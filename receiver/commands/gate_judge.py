"""The gate's decision over a baseline file and a build's measurements, pure.

One `Case` per service and profile type (one JUnit test case): failed when a function of it
regressed (`enrichers.regression`: both effect floors, the rank test, BH over every function
tested in the whole run), skipped when it cannot be judged (not enough samples, the profile
only on one side), else passed. A service whose verdict changed is named ("order-service
becomes LOCK-BOUND"); that alone does not fail the gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from enrichers.regression import Finding, GateRule, assess, enough_windows
from enrichers.result import PROFILE_KINDS, ProfileKind, ServiceAnalysis, Window
from enrichers.windowed import WindowedProfile
from receiver.commands.baseline import Baseline
from receiver.commands.measure import Measured

__all__ = ["Case", "GateReport", "VerdictChange", "judge", "more", "shares"]

Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class Case:
    service: str
    kind: ProfileKind
    profile_type: str
    status: Status
    message: str
    regressions: list[Finding] = field(default_factory=list)
    baseline: WindowedProfile | None = None
    now: WindowedProfile | None = None


@dataclass(frozen=True)
class VerdictChange:
    service: str
    before: str | None
    after: str | None

    @property
    def text(self) -> str:
        """`order-service becomes LOCK-BOUND (was HEALTHY)`."""
        return f"{self.service} becomes {self.after} (was {self.before or 'unknown'})"


@dataclass(frozen=True)
class GateReport:
    generated_at: datetime
    window: Window
    baseline: Baseline
    baseline_path: Path
    rule: GateRule
    windows: int
    cases: list[Case]
    tested: list[Finding]
    verdicts: list[VerdictChange]
    analyses: dict[str, ServiceAnalysis]

    @property
    def regressions(self) -> list[Finding]:
        return [f for f in self.tested if f.regressed]


def _pairs(
    measured: Sequence[Measured], baseline: Baseline
) -> list[tuple[str, ProfileKind, WindowedProfile | None, WindowedProfile | None]]:
    found = []
    for m in measured:
        entry = baseline.service(m.service) or baseline.service(m.pyroscope_service)
        before = {k: p.windowed() for k, p in entry.profiles.items()} if entry else {}
        for kind in PROFILE_KINDS:
            if kind in before or kind in m.profiles:
                found.append((m.service, kind, before.get(kind), m.profiles.get(kind)))
    return found


def _skip_reason(
    kind: ProfileKind, before: WindowedProfile | None, now: WindowedProfile | None, rule: GateRule
) -> str | None:
    if before is None:
        return f"no {kind} profile in the baseline"
    if now is None:
        return f"no {kind} profile now (the baseline has one)"
    if not enough_windows(before.shares(), now.shares(), rule):
        return (
            f"not enough samples: {before.windows} sub-windows with samples in the baseline,"
            f" {now.windows} now (at least {rule.min_windows} each)"
        )
    return None


def _case(
    service: str,
    kind: ProfileKind,
    before: WindowedProfile | None,
    now: WindowedProfile | None,
    findings: list[Finding],
    rule: GateRule,
) -> Case:
    either = now or before
    ptype = either.profile_type if either is not None else ""
    skip = _skip_reason(kind, before, now, rule)
    if skip is not None:
        return Case(service, kind, ptype, "skipped", skip, [], before, now)
    regressed = [f for f in findings if f.regressed]
    if regressed:
        lead = regressed[0]
        message = f"{shares(lead)} (+{lead.delta_pp:.1f} pp, p={lead.p_value:.2g}){more(regressed)}"
        return Case(service, kind, ptype, "failed", message, regressed, before, now)
    if findings:
        message = f"{len(findings)} rise(s) past the floors, none significant"
    else:
        message = "no function rose past the floors"
    return Case(service, kind, ptype, "passed", message, [], before, now)


def judge(
    baseline: Baseline,
    baseline_path: Path,
    measured: Sequence[Measured],
    rule: GateRule,
    *,
    generated_at: datetime,
    window: Window,
    windows: int,
) -> GateReport:
    """Every case, the tested functions (BH over all of them) and the verdict changes."""
    pairs = _pairs(measured, baseline)
    testable = [
        ((service, kind), before.shares(), now.shares())
        for service, kind, before, now in pairs
        if before is not None and now is not None
    ]
    tested = assess(testable, rule)
    cases = [
        _case(service, kind, before, now, [f for f in tested if f.key == (service, kind)], rule)
        for service, kind, before, now in pairs
    ]
    verdicts = []
    analyses = {m.service: m.analysis for m in measured if m.analysis is not None}
    for m in measured:
        entry = baseline.service(m.service) or baseline.service(m.pyroscope_service)
        after = m.analysis.verdict if m.analysis else None
        if entry is not None and after is not None and entry.verdict != after:
            verdicts.append(VerdictChange(m.service, entry.verdict, after))
    return GateReport(
        generated_at,
        window,
        baseline,
        baseline_path,
        rule,
        windows,
        cases,
        tested,
        verdicts,
        analyses,
    )


def shares(lead: Finding) -> str:
    """`function 5.0% -> 13.0%`: a regressed function's share in the baseline, then now."""
    return f"{lead.function} {lead.baseline_pct:.1f}% -> {lead.now_pct:.1f}%"


def more(found: Sequence[Finding]) -> str:
    """` and 2 more` after the first of several regressions; nothing after a single one."""
    return f" and {len(found) - 1} more" if len(found) > 1 else ""
