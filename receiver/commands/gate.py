"""`flamebot gate --baseline FILE`: fail the build when a function's share rose for real.

The baseline's services (or those named with `--service`) are measured over the build's
window exactly as `snapshot` measured the baseline (same sub-windows, same labels), then
judged (`gate_judge`, statistics in `enrichers.regression`). Exit codes (PRODUCT.md §7.2):
0 no regression, 1 regression, 2 a backend unreachable, 3 unknown service (not in the
baseline, or nothing known of it now), 4 bad baseline file, 64 bad options. The baseline
file is read before any query, so a bad file costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

from enrichers.analysis import GroupEnricher, build_enricher
from enrichers.errors import BackendError
from enrichers.regression import GateRule
from receiver.commands.baseline import Baseline, BaselineError, read_baseline
from receiver.commands.cli_help import UsageError
from receiver.commands.gate_artifacts import Artifacts, artifact_name, write_artifacts
from receiver.commands.gate_judge import judge
from receiver.commands.gate_notify import send_regressions
from receiver.commands.gate_pictures import case_graphs, gate_pictures
from receiver.commands.gate_report import gate_document, render_junit, render_markdown, render_text
from receiver.commands.measure import measure_services
from receiver.commands.snapshot import (
    Span,
    parse_span,
    report_failures,
    report_unknown,
)
from receiver.commands.terminal import DelayedStatus, Terminal
from receiver.commands.triage import EXIT_BACKEND, EXIT_OK, EXIT_UNKNOWN
from receiver.config import Config

__all__ = ["EXIT_BAD_BASELINE", "EXIT_REGRESSION", "GateOptions", "print_gate"]

EXIT_REGRESSION = 1
EXIT_BAD_BASELINE = 4


@dataclass(frozen=True)
class GateOptions:
    baseline: Path
    services: Sequence[str] = ()
    window: str = "10m"
    at: str = "now"
    windows: int = 10
    labels: Sequence[str] = ()
    rule: GateRule = field(default_factory=GateRule)
    markdown: Path | None = None
    junit: Path | None = None
    as_json: bool = False
    artifacts: Path | None = None
    notify: str | None = None


async def _with_pictures(
    config: Config,
    enricher: GroupEnricher,
    artifacts: Artifacts,
    labels: Mapping[str, str],
    err: TextIO,
) -> Artifacts:
    """The artifacts with the diff pictures; a Pyroscope failure here costs the pictures
    only (said on `err`): the verdict of the gate stands."""
    report = artifacts.report
    try:
        async with DelayedStatus(err, "gate: querying Pyroscope for the pictures..."):
            graphs = await case_graphs(enricher, report, labels)
    except BackendError as exc:
        err.write(f"gate: no pictures: pyroscope ({config.pyroscope.url}) failed: {exc.reason}\n")
        return artifacts
    pictures = gate_pictures(report, graphs, config.enrichment.app_prefixes)
    for case in report.cases:
        picture = pictures.get((case.service, case.kind))
        if picture is not None and picture.note:
            err.write(f"gate: {artifact_name(case, '.png')}: {picture.note}\n")
    return replace(artifacts, pictures=pictures)


def _outputs(artifacts: Artifacts, options: GateOptions, out: TextIO) -> None:
    report = artifacts.report
    if options.markdown is not None:
        options.markdown.write_text(render_markdown(report), encoding="utf-8")
    if options.junit is not None:
        options.junit.write_text(render_junit(report), encoding="utf-8")
    if options.artifacts is not None:
        write_artifacts(options.artifacts, artifacts)
    if options.as_json:
        out.write(json.dumps(gate_document(report), indent=2) + "\n")
    else:
        out.write(render_text(report) + "\n")


def _usage(config: Config, options: GateOptions) -> str | None:
    if options.notify is not None and options.notify not in config.route_table():
        routes = ", ".join(sorted(config.route_table()))
        return f"--notify {options.notify!r}: no such route (routes: {routes})"
    rule = options.rule
    if rule.min_pp < 0 or rule.min_rel < 0 or not 0 < rule.alpha < 1:
        return "--min-pp and --min-rel must be >= 0, --alpha between 0 and 1"
    return None


async def _measure_and_judge(
    config: Config,
    options: GateOptions,
    baseline: Baseline,
    names: Sequence[str],
    span: Span,
    now: datetime,
    err: TextIO,
) -> Artifacts | int:
    """The judged report (with its pictures when `--artifacts`), or the exit code of a
    backend failure or an unknown service."""
    enricher = build_enricher(config)
    try:
        async with DelayedStatus(err, "gate: querying Pyroscope and Prometheus..."):
            measured = await measure_services(
                enricher,
                names,
                span.window,
                versus=baseline.span,
                windows=span.windows,
                labels=span.labels,
            )
        if report_failures("gate", config, measured, err):
            return EXIT_BACKEND
        if report_unknown("gate", measured, err):
            return EXIT_UNKNOWN
        report = judge(
            baseline,
            options.baseline,
            measured,
            options.rule,
            generated_at=now,
            window=span.window,
            windows=span.windows,
        )
        artifacts = Artifacts(report)
        if options.artifacts is not None:
            artifacts = await _with_pictures(config, enricher, artifacts, span.labels, err)
    finally:
        await enricher.aclose()
    return artifacts


async def print_gate(
    config: Config,
    options: GateOptions,
    *,
    term: Terminal,
) -> int:
    """Read the baseline, measure, judge, write every asked output; the exit code
    (UsageError for a bad option)."""
    out, err, clock = term
    now = clock()
    span = parse_span(options.window, options.at, options.windows, options.labels, now)
    if (problem := _usage(config, options)) is not None:
        raise UsageError(problem)
    try:
        baseline = read_baseline(options.baseline)
    except BaselineError as exc:
        err.write(f"gate: bad baseline file {exc}\n")
        return EXIT_BAD_BASELINE
    names = list(options.services) or [s.service for s in baseline.services]
    missing = [n for n in names if baseline.service(n) is None]
    if missing:
        err.write(f"gate: unknown service(s) {', '.join(missing)}: not in {options.baseline}\n")
        return EXIT_UNKNOWN
    found = await _measure_and_judge(config, options, baseline, names, span, now, err)
    if isinstance(found, int):
        return found
    artifacts, report = found, found.report
    _outputs(artifacts, options, out)
    if options.notify is not None and report.regressions:
        await send_regressions(config, options.notify, report, err)
    out.flush()
    return EXIT_REGRESSION if report.regressions else EXIT_OK
