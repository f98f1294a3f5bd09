"""`flamebot snapshot --out FILE`: the baseline the regression gate compares a build with.

The services named with `--service` (default: every service Pyroscope knows in the window),
over `[--at - --window, --at]` (default the last 10 minutes), cut into `--windows`
sub-windows (default 10, at least 5). A backend failure writes nothing (exit 2): a baseline
with holes would let a regression through. Exit codes as triage, 64 for bad options.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from enrichers.analysis import GroupEnricher
from enrichers.errors import BackendError
from enrichers.regression import MIN_WINDOWS
from enrichers.result import Window
from enrichers.settings import parse_duration
from enrichers.times import epoch_ms, parse_time
from receiver.commands.baseline import baseline_document
from receiver.commands.cli_help import EXIT_USAGE, usage_errors
from receiver.commands.measure import Measured, measure_services, parse_labels
from receiver.commands.terminal import Terminal, querying
from receiver.commands.triage import EXIT_BACKEND, EXIT_OK, EXIT_UNKNOWN, write_failures
from receiver.commands.triage_report import failure_line
from receiver.config import Config
from receiver.notifiers.summary import window_line

__all__ = ["EXIT_USAGE", "Span", "parse_span", "print_snapshot", "report_failures", "services_of"]


@dataclass(frozen=True)
class Span:
    window: Window
    windows: int
    labels: dict[str, str]


@usage_errors
def parse_span(window: str, at: str, windows: int, labels: Sequence[str], now: datetime) -> Span:
    """The options shared by snapshot and gate; ValueError with the option's name."""
    try:
        length = parse_duration(window)
    except ValueError:
        raise ValueError(f"--window {window!r}: expected a duration such as 10m") from None
    if length <= timedelta(0):
        raise ValueError(f"--window {window!r}: must be longer than 0")
    end = parse_time(at, now)
    if windows < MIN_WINDOWS:
        raise ValueError(f"--windows {windows}: at least {MIN_WINDOWS} sub-windows are needed")
    return Span(Window(start=end - length, end=end), windows, parse_labels(labels))


async def services_of(
    enricher: GroupEnricher, named: Sequence[str], window: Window
) -> tuple[list[str], str]:
    """The named services, or every service Pyroscope knows in the window; why not."""
    if named:
        return list(dict.fromkeys(named)), ""
    try:
        found = await enricher.pyroscope.services(epoch_ms(window.start), epoch_ms(window.end))
    except BackendError as exc:
        return [], exc.reason
    return found, ""


def report_failures(
    command: str, config: Config, measured: Sequence[Measured], err: TextIO
) -> bool:
    """One line per failed backend on `err`; True when any failed."""
    seen: dict[str, str] = {}
    for m in measured:
        for source, reason in m.failures.items():
            seen.setdefault(source, reason)
    return write_failures(command, config, dict(sorted(seen.items())), err)


def report_unknown(command: str, measured: Sequence[Measured], err: TextIO) -> bool:
    """One line naming the services with neither profiles nor metrics; True when any."""
    unknown = [m.service for m in measured if m.unknown]
    if unknown:
        err.write(
            f"{command}: unknown service(s): {', '.join(unknown)} (no profiles, no metrics)\n"
        )
    return bool(unknown)


def _write(path: Path, document: dict[str, object]) -> None:
    """Write the file whole or not at all (a reader never sees half a baseline)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def _thin(measured: Sequence[Measured], windows: int, err: TextIO) -> None:
    for m in measured:
        for kind, profile in m.profiles.items():
            if profile.windows < MIN_WINDOWS:
                err.write(
                    f"snapshot: {m.service} {kind}: {profile.windows} of {windows} sub-windows"
                    f" had samples (the gate needs {MIN_WINDOWS}): it will not be tested\n"
                )


async def print_snapshot(
    config: Config,
    *,
    services: Sequence[str],
    window: str,
    at: str,
    windows: int,
    labels: Sequence[str],
    out_path: Path,
    term: Terminal,
) -> int:
    """Measure and write the baseline file; the exit code (UsageError for a bad option)."""
    out, err, clock = term
    now = clock()
    span = parse_span(window, at, windows, labels, now)
    async with querying(config, err, "snapshot: querying Pyroscope and Prometheus...") as enricher:
        names, listing_error = await services_of(enricher, services, span.window)
        measured = await measure_services(
            enricher, names, span.window, windows=span.windows, labels=span.labels
        )
    if listing_error:
        err.write(failure_line("snapshot", "pyroscope", config.pyroscope.url, listing_error) + "\n")
        return EXIT_BACKEND
    if report_failures("snapshot", config, measured, err):
        return EXIT_BACKEND
    if report_unknown("snapshot", measured, err):
        return EXIT_UNKNOWN
    _thin(measured, span.windows, err)
    document = baseline_document(
        measured,
        generated_at=now,
        window=span.window,
        labels=span.labels,
        preset=config.enrichment.preset,
    )
    _write(out_path, document)
    profiles = sum(len(m.profiles) for m in measured)
    out.write(
        f"snapshot: {len(measured)} services, {profiles} profiles, {window_line(span.window)},"
        f" {span.windows} sub-windows -> {out_path}\n"
    )
    return EXIT_OK
