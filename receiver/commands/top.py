"""`flamebot top {cpu,alloc,mutex,wall} SERVICE`: the ranked functions of one profile type.

The reference `top-functions` command: for the last `enrichment.window`, the functions with
the most self time (or bytes, or contentions) with their self and total share, the value in
the profile's unit and the frame class. The profile type is the first preference of the
service's preset (pinned in config, else told by its `pyroscope_spy` and profile types) that
the service has (discovered with Pyroscope's `Series`; a Pyroscope without the Connect API
only lists the server's types); `memory` is `alloc`. Exit codes as triage: 2 Pyroscope
failed, 3 Pyroscope has no profiles for the service.

`top` reads profiles only: it never queries or probes Prometheus, so a down Prometheus
neither shows on stderr nor changes the exit code (`triage` reports it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from enrichers.analysis import GroupEnricher
from enrichers.clients.pyroscope import ServiceProfiles
from enrichers.detection import Detected, detect_from_profiles, fallback, pinned
from enrichers.errors import BackendError
from enrichers.flamegraph import TopFunctions, profile_unit, ranked_in_unit
from enrichers.promql import label_selector
from enrichers.result import ProfileKind, Window
from enrichers.targets import Target, recent_windows, service_target
from enrichers.times import epoch_ms, window_line
from enrichers.units import format_value
from receiver.commands.terminal import Terminal, querying
from receiver.commands.triage import EXIT_BACKEND, EXIT_OK, EXIT_UNKNOWN
from receiver.commands.triage_report import duration_text, failure_line
from receiver.config import Config

__all__ = ["KINDS", "TopResult", "format_value", "print_top", "render_top", "run_top"]

KINDS: dict[str, ProfileKind] = {
    "cpu": "cpu",
    "alloc": "alloc",
    "memory": "alloc",
    "mutex": "mutex",
    "wall": "wall",
}


@dataclass(frozen=True)
class TopResult:
    service: str  # the Pyroscope service_name
    kind: ProfileKind
    window: Window
    profile_type: str | None = None
    top: TopFunctions | None = None
    available: list[str] = field(default_factory=list)  # the service's profile type IDs
    failure: str | None = None


async def run_top(
    enricher: GroupEnricher, kind: ProfileKind, service: str, *, n: int, now: datetime
) -> TopResult:
    settings = enricher.settings
    target = service_target(service, settings)
    name = target.pyroscope_service
    window, _ = recent_windows(settings, now)
    start, end = epoch_ms(window.start), epoch_ms(window.end)
    try:
        available = await enricher.pyroscope.profile_types(name, start, end)
        types = sorted(available.types)
        preset = enricher.presets[_runtime(enricher, target, available).preset]
        ptype = next((p for p in preset.profile_types.get(kind, ()) if p in types), None)
        if ptype is None:
            return TopResult(name, kind, window, available=types)
        graph = await enricher.pyroscope.flamegraph(ptype, label_selector(name), start, end)
    except BackendError as exc:
        return TopResult(name, kind, window, failure=exc.reason)
    top = ranked_in_unit(
        graph, ptype, n=n, frames=preset.frames, app_prefixes=settings.app_prefixes
    )
    return TopResult(name, kind, window, ptype, top, types)


def _runtime(enricher: GroupEnricher, target: Target, available: ServiceProfiles) -> Detected:
    """The service's preset as Pyroscope tells it (`top` never asks Prometheus)."""
    told = pinned(enricher.settings, target.service, target.pyroscope_service)
    told = told or detect_from_profiles(enricher.presets, available.spies, available.types)
    return told or fallback()


def render_top(result: TopResult) -> str:
    """The ranked table with a two-line header (service, window, profile type, total)."""
    lines = [f"top {result.kind} of {result.service}, {window_line(result.window)}"]
    top = result.top
    if result.profile_type is None or top is None:
        return "\n".join([*lines, f"no {result.kind} profile"])
    unit, scale = profile_unit(result.profile_type)
    total = format_value(top.total * scale, unit)
    lines.append(f"profile type {result.profile_type}: {total} in total")
    if not top.functions:
        return "\n".join([*lines, "no samples in the window"])
    lines += ["", f"{'#':>4}  {'self %':>7}  {'total %':>7}  {'value':>13}  {'class':<8} function"]
    for rank, stat in enumerate(top.functions, 1):
        lines.append(
            f"{rank:>4}  {stat.self_pct:>6.1f}%  {stat.total_pct:>6.1f}%"
            f"  {format_value(stat.value, stat.unit):>13}  {stat.frame_class:<8} {stat.function}"
        )
    if top.other_pct > 0:
        lines.append(f"      ({top.other_pct:.1f}% in nodes Pyroscope truncated as `other`)")
    return "\n".join(lines)


def _problem(config: Config, result: TopResult) -> tuple[int, str | None]:
    if result.failure is not None:
        line = failure_line("top", "pyroscope", config.pyroscope.url, result.failure)
        return EXIT_BACKEND, line
    if not result.available:
        window = duration_text(config.enrichment.window)
        return EXIT_UNKNOWN, (
            f"top: unknown service {result.service!r}: Pyroscope has no profiles for it"
            f" in the last {window}"
        )
    if result.profile_type is None:
        has = ", ".join(result.available)
        return EXIT_OK, f"top: {result.service} has no {result.kind} profile (it has: {has})"
    return EXIT_OK, None


async def print_top(
    config: Config,
    *,
    kind: str,
    service: str,
    n: int,
    as_json: bool,
    term: Terminal,
) -> int:
    """Run `top` with `config`'s Pyroscope, print the table or the JSON list; the exit code."""
    out, err, clock = term
    async with querying(config, err, "top: querying Pyroscope...") as enricher:
        result = await run_top(enricher, KINDS[kind], service, n=n, now=clock())
    code, problem = _problem(config, result)
    if problem is not None:
        err.write(problem + "\n")
    stats = result.top.functions if result.top is not None else []
    if as_json:
        out.write(json.dumps([s.model_dump(mode="json") for s in stats], indent=2) + "\n")
    elif code == EXIT_OK:
        out.write(render_top(result) + "\n")
    out.flush()
    err.flush()
    return code
