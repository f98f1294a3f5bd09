"""`flamebot compare SERVICE --before FROM..TO --after FROM..TO`: what changed between two
windows (PRODUCT.md §7.2, the reference guide's "Verify the fix").

Per profile type the service has (`--type`, default all): one server-side diff (Connect
`Diff`, or the legacy `render-diff` on a server without the Connect API) gives both windows'
graphs in one request; risers and fallers by self share (pp and relative), new and vanished
functions (`enrichers.compare`), and the Grafana diff link. The verdict of each window is
the analysis an alert would get for it (Prometheus at the window's end, the profiles of the
window). Exit codes as triage: 0, 2 a backend failed, 3 Pyroscope and Prometheus know
nothing of the service in either window, 64 a bad time range.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from enrichers.analysis import GroupEnricher
from enrichers.compare import ProfileComparison, compare_graphs
from enrichers.detection import preset_from_profiles
from enrichers.errors import BackendError
from enrichers.flamegraph import profile_unit
from enrichers.frames import FrameRules
from enrichers.links import drilldown_diff_url
from enrichers.promql import label_selector
from enrichers.result import PROFILE_KINDS, ProfileKind, ServiceAnalysis, Window
from enrichers.targets import service_target
from enrichers.times import epoch_ms, parse_time
from receiver.commands.cli_help import EXIT_USAGE, usage_errors
from receiver.commands.measure import chosen_types
from receiver.commands.terminal import Terminal, querying
from receiver.commands.triage import EXIT_BACKEND, EXIT_OK, EXIT_UNKNOWN, write_failures
from receiver.config import Config

__all__ = [
    "EXIT_USAGE",
    "CompareResult",
    "ProfileDiff",
    "parse_range",
    "print_compare",
    "run_compare",
]


@dataclass(frozen=True)
class ProfileDiff:
    kind: ProfileKind
    profile_type: str
    comparison: ProfileComparison
    link: str

    @property
    def unit(self) -> tuple[str, float]:
        return profile_unit(self.profile_type)


@dataclass(frozen=True)
class CompareResult:
    service: str
    pyroscope_service: str
    before: Window
    after: Window
    verdict_before: ServiceAnalysis | None = None
    verdict_after: ServiceAnalysis | None = None
    profiles: list[ProfileDiff] = field(default_factory=list)
    available: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


@usage_errors
def parse_range(text: str, now: datetime) -> Window:
    """`FROM..TO` (each as `parse_time` reads it) as a window; ValueError when it is not one."""
    parts = text.split("..")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ValueError(f"{text!r}: expected FROM..TO, e.g. now-2h..now-1h")
    start, end = (parse_time(part, now) for part in parts)
    if start >= end:
        raise ValueError(f"{text!r}: FROM must be before TO")
    return Window(start=start, end=end)


def _ms(window: Window) -> tuple[int, int]:
    return epoch_ms(window.start), epoch_ms(window.end)


async def _diff(
    enricher: GroupEnricher,
    frames: FrameRules,
    kind: ProfileKind,
    ptype: str,
    name: str,
    windows: tuple[Window, Window],
) -> ProfileDiff:
    before, after = windows
    left, right = await enricher.pyroscope.diff(
        ptype, label_selector(name), _ms(before), _ms(after)
    )
    comparison = compare_graphs(left, right, frames=frames)
    link = drilldown_diff_url(
        enricher.grafana, service=name, profile_type=ptype, baseline=before, incident=after
    )
    return ProfileDiff(kind, ptype, comparison, link)


def _analysis_failures(analyses: list[ServiceAnalysis]) -> dict[str, str]:
    found: dict[str, str] = {}
    for analysis in analyses:
        for error in analysis.errors:
            found.setdefault(error.source, error.reason)
    return found


async def run_compare(
    enricher: GroupEnricher,
    service: str,
    before: Window,
    after: Window,
    kinds: tuple[ProfileKind, ...] = PROFILE_KINDS,
) -> CompareResult:
    """Diff every asked profile type the service has, and classify both windows."""
    target = service_target(service, enricher.settings)
    name = target.pyroscope_service
    start, end = min(before.start, after.start), max(before.end, after.end)
    try:
        listed = await enricher.pyroscope.profile_types(name, epoch_ms(start), epoch_ms(end))
    except BackendError as exc:
        return CompareResult(
            target.service, name, before, after, failures={"pyroscope": exc.reason}
        )
    available = listed.types
    preset = preset_from_profiles(
        enricher.presets, enricher.settings, target.service, name, listed.spies, available
    )
    chosen = chosen_types(preset.profile_types, available, kinds)
    # The before window is its own baseline (its graphs are asked once, single-flight); the
    # after window's baseline is the before window, as an alert's would be.
    analyses = asyncio.gather(
        enricher.analyze(target, before, before), enricher.analyze(target, after, before)
    )
    diffs = asyncio.gather(
        *(
            _diff(enricher, preset.frames, kind, ptype, name, (before, after))
            for kind, ptype in chosen.items()
        ),
        return_exceptions=True,
    )
    (verdict_before, verdict_after), outcomes = await asyncio.gather(analyses, diffs)
    failures = _analysis_failures([verdict_before, verdict_after])
    profiles = []
    for outcome in outcomes:
        if isinstance(outcome, BackendError):
            failures.setdefault("pyroscope", outcome.reason)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            profiles.append(outcome)
    return CompareResult(
        target.service,
        name,
        before,
        after,
        verdict_before,
        verdict_after,
        profiles,
        sorted(available),
        failures,
    )


def _unknown(result: CompareResult) -> bool:
    metrics = [a.metrics for a in (result.verdict_before, result.verdict_after) if a is not None]
    seen = any(v is not None for m in metrics for v in m.model_dump().values())
    return not result.available and not seen


async def print_compare(
    config: Config,
    *,
    service: str,
    before: str,
    after: str,
    kind: str,
    n: int,
    form: str,
    term: Terminal,
) -> int:
    """Parse the windows, compare, print text / Markdown / JSON; the exit code
    (UsageError for a bad window)."""
    out, err, clock = term
    from receiver.commands.compare_report import render_compare

    now = clock()
    windows = [parse_range(before, now), parse_range(after, now)]
    kinds = PROFILE_KINDS if kind == "all" else (KIND_ALIASES[kind],)
    async with querying(config, err, "compare: querying Pyroscope and Prometheus...") as enricher:
        result = await run_compare(enricher, service, windows[0], windows[1], kinds)
    write_failures("compare", config, dict(sorted(result.failures.items())), err)
    if not result.failures and _unknown(result):
        err.write(
            f"compare: unknown service {service!r}: Pyroscope has no profiles for"
            f" {result.pyroscope_service!r} and Prometheus no metrics in either window\n"
        )
        return EXIT_UNKNOWN
    out.write(render_compare(result, form=form, n=n, generated_at=now) + "\n")
    out.flush()
    return EXIT_BACKEND if result.failures else EXIT_OK


KIND_ALIASES: dict[str, ProfileKind] = {
    "cpu": "cpu",
    "alloc": "alloc",
    "memory": "alloc",
    "mutex": "mutex",
    "wall": "wall",
}
