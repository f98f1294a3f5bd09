"""`flamebot triage`: the reference `bottleneck` command, a verdict per service from a terminal.

Every service Pyroscope knows in the recent window (its `service_name` values), or the one
named with `--service` (a Prometheus host or a Pyroscope service_name), is analysed like an
alert would be, all at once, for the last `enrichment.window`. When no analysis asks
Prometheus (no service to analyse), a `vector(1)` probe does, so a down Prometheus is never
missed. Exit codes (PRODUCT.md §4): 0 ok, 1 bad config
(before this module runs), 2 a backend failed (one line per failed backend on stderr; the
report still prints), 3 the named service is known to neither Pyroscope nor Prometheus.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TextIO

from enrichers.analysis import GroupEnricher
from enrichers.errors import BackendError
from enrichers.result import ServiceAnalysis, Window
from enrichers.targets import recent_windows, service_target
from enrichers.times import epoch_ms
from receiver.commands.terminal import Terminal, querying, wants_colour
from receiver.commands.triage_report import (
    Triage,
    duration_text,
    failure_line,
    render_triage,
    triage_document,
)
from receiver.config import Config

__all__ = [
    "EXIT_BACKEND",
    "EXIT_OK",
    "EXIT_UNKNOWN",
    "exit_code",
    "print_triage",
    "run_triage",
    "write_failures",
]

EXIT_OK, EXIT_BACKEND, EXIT_UNKNOWN = 0, 2, 3
PROBE_QUERY = "vector(1)"


def _has_metrics(analysis: ServiceAnalysis) -> bool:
    return any(value is not None for value in analysis.metrics.model_dump().values())


def _failures(checked: dict[str, str], analyses: list[ServiceAnalysis]) -> dict[str, str]:
    """Per failed backend, its distinct reasons in order of appearance, `checked` first."""
    reasons = {source: [reason] for source, reason in checked.items() if reason}
    for analysis in analyses:
        for error in analysis.errors:
            for reason in error.reason.split("; "):
                if reason not in reasons.setdefault(error.source, []):
                    reasons[error.source].append(reason)
    return {source: "; ".join(found) for source, found in sorted(reasons.items())}


async def _known_services(enricher: GroupEnricher, window: Window) -> tuple[list[str] | None, str]:
    """Pyroscope's service names in the window, or None and why not."""
    try:
        return await enricher.pyroscope.services(epoch_ms(window.start), epoch_ms(window.end)), ""
    except BackendError as exc:
        return None, exc.reason


async def _prometheus_failure(enricher: GroupEnricher, now: datetime) -> str:
    """Why Prometheus cannot evaluate `vector(1)`, or empty when it can."""
    try:
        await enricher.prometheus.query(PROBE_QUERY, now)
    except BackendError as exc:
        return exc.reason
    return ""


async def run_triage(enricher: GroupEnricher, *, service: str | None, now: datetime) -> Triage:
    """Analyse the named service, or every service Pyroscope knows (else the service_map's)."""
    settings = enricher.settings
    incident, baseline = recent_windows(settings, now)
    known, listing_error = await _known_services(enricher, incident)
    if service is not None:
        names = [service]
    elif known is not None:
        names = known
    else:
        names = sorted(set(settings.service_map.values()))
    targets = [service_target(name, settings) for name in names]
    analyses = list(
        await asyncio.gather(*(enricher.analyze(t, incident, baseline) for t in targets))
    )
    checked = {"pyroscope": listing_error}
    if not analyses:  # no analysis asked Prometheus
        checked["prometheus"] = await _prometheus_failure(enricher, now)
    failures = _failures(checked, analyses)
    unknown = None
    if service is not None and not failures and known is not None:
        target, analysis = targets[0], analyses[0]
        if target.pyroscope_service not in known and not _has_metrics(analysis):
            unknown, analyses = service, []
    return Triage(now, incident, analyses, failures, unknown)


def exit_code(triage: Triage) -> int:
    if triage.failures:
        return EXIT_BACKEND
    return EXIT_UNKNOWN if triage.unknown is not None else EXIT_OK


def write_failures(
    command: str,
    config: Config,
    failures: Mapping[str, str],
    err: TextIO,
    *,
    alertmanager: str = "",
) -> bool:
    """One line per failed backend (`failure_line`, with its URL) on `err`; True when any."""
    urls = {
        "prometheus": config.prometheus.url,
        "pyroscope": config.pyroscope.url,
        "alertmanager": alertmanager,
    }
    for source, reason in failures.items():
        err.write(failure_line(command, source, urls.get(source, ""), reason) + "\n")
    return bool(failures)


def _unknown_line(config: Config, name: str) -> str:
    target = service_target(name, config.enrichment)
    window = duration_text(config.enrichment.window)
    return (
        f"triage: unknown service {name!r}: Pyroscope has no service_name"
        f" {target.pyroscope_service!r} and Prometheus no instance {target.host!r}"
        f" in the last {window}"
    )


async def print_triage(
    config: Config,
    *,
    service: str | None,
    as_json: bool,
    term: Terminal,
) -> int:
    """Run triage with `config`'s backends, print the report on `out`; the exit code."""
    out, err, clock = term
    async with querying(config, err, "triage: querying Prometheus and Pyroscope...") as enricher:
        triage = await run_triage(enricher, service=service, now=clock())
    write_failures("triage", config, triage.failures, err)
    if triage.unknown is not None:
        err.write(_unknown_line(config, triage.unknown) + "\n")
    if as_json:
        out.write(json.dumps(triage_document(triage), indent=2, ensure_ascii=False) + "\n")
    elif triage.unknown is None:
        out.write(render_triage(triage, colour=wants_colour(out)) + "\n")
    out.flush()
    err.flush()
    return exit_code(triage)
