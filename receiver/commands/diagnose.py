"""`flamebot diagnose [--service S] [--json]`: the reference's full diagnostic in one report.

Per service: the triage (verdict, hotspot, action), its HTTP numbers (request rate, error
ratio, latency), its top functions per profile type with the share of each profile spent in
application code (frames of class `app`: `enrichment.app_prefixes`), and the alerts firing
for it now (Alertmanager's API v2, the `alertmanager` config block; without it the report
says so). The application-code share needs every function of a profile, not the top N, so
each profile of the triage window is read once more, whole. Exit codes as triage; an
Alertmanager that cannot be read is a backend failure (2), the report still prints.

`--json` is triage's document plus, per service, `http`, `app_share` and `alerts`; a
top-level `alertmanager` {`url`, `error`}; and the top-level `profiles` list the reference
guide's capacity-planning snippet reads (Outcome 4): per service `service`, `cpu_top5`,
`alloc_top5`, `mutex_top5`, `wall_top5` (lists of `{"function", "pct"}`) and `app_share`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from enrichers.analysis import GroupEnricher
from enrichers.clients.alertmanager import AlertmanagerClient, FiringAlert
from enrichers.errors import BackendError
from enrichers.flamegraph import TopFunctions, ranked_in_unit
from enrichers.promql import label_selector
from enrichers.result import PROFILE_KINDS, ProfileKind, ServiceAnalysis
from enrichers.targets import resolve_service
from enrichers.times import epoch_ms
from receiver.commands.terminal import Terminal, querying, wants_colour
from receiver.commands.triage import exit_code, run_triage, write_failures
from receiver.commands.triage_report import Triage, render_triage, triage_document
from receiver.config import Config

__all__ = ["Diagnosis", "diagnosis_document", "print_diagnose", "run_diagnose"]

TOP = 5
_EVERYTHING = 1_000_000


@dataclass(frozen=True)
class Diagnosis:
    triage: Triage
    profiles: dict[str, dict[ProfileKind, TopFunctions]] = field(default_factory=dict)
    alerts: dict[str, list[FiringAlert]] = field(default_factory=dict)
    alertmanager: str | None = None  # its URL, None when not configured
    alertmanager_error: str | None = None


async def _whole(
    enricher: GroupEnricher, analysis: ServiceAnalysis
) -> dict[ProfileKind, TopFunctions]:
    window = analysis.window
    selector = label_selector(analysis.pyroscope_service)
    frames = enricher.presets[analysis.runtime].frames  # as the analysis read the service

    async def one(ptype: str) -> TopFunctions:
        graph = await enricher.pyroscope.flamegraph(
            ptype, selector, epoch_ms(window.start), epoch_ms(window.end)
        )
        return ranked_in_unit(
            graph, ptype, n=_EVERYTHING, frames=frames, app_prefixes=enricher.settings.app_prefixes
        )

    kinds = list(analysis.profile_types)
    tops = await asyncio.gather(*(one(analysis.profile_types[k]) for k in kinds))
    return dict(zip(kinds, tops, strict=True))


def _belongs(alert: FiringAlert, analysis: ServiceAnalysis, enricher: GroupEnricher) -> bool:
    service, pyroscope = resolve_service(alert.labels, enricher.settings)
    return bool(service) and (
        service in (analysis.service, analysis.pyroscope_service)
        or pyroscope == analysis.pyroscope_service
    )


async def run_diagnose(
    enricher: GroupEnricher,
    alertmanager: AlertmanagerClient | None,
    *,
    service: str | None,
    now: datetime,
    alertmanager_url: str | None = None,
) -> Diagnosis:
    triage = await run_triage(enricher, service=service, now=now)
    failures = dict(triage.failures)
    profiles: dict[str, dict[ProfileKind, TopFunctions]] = {}
    for analysis in triage.analyses:
        try:
            profiles[analysis.service] = await _whole(enricher, analysis)
        except BackendError as exc:
            failures.setdefault("pyroscope", exc.reason)
    alerts: dict[str, list[FiringAlert]] = {}
    error = None
    if alertmanager is not None:
        try:
            firing = await alertmanager.alerts()
        except BackendError as exc:
            error = exc.reason
            failures["alertmanager"] = exc.reason
        else:
            for analysis in triage.analyses:
                mine = [a for a in firing if _belongs(a, analysis, enricher)]
                alerts[analysis.service] = mine
    triage = Triage(triage.generated_at, triage.window, triage.analyses, failures, triage.unknown)
    return Diagnosis(triage, profiles, alerts, alertmanager_url, error)


def _app_share(top: TopFunctions) -> float:
    return sum(f.self_pct for f in top.functions if f.frame_class == "app")


def _top5(top: TopFunctions | None) -> list[dict[str, Any]]:
    if top is None:
        return []
    return [{"function": f.function, "pct": f.self_pct} for f in top.functions[:TOP]]


def diagnosis_document(diagnosis: Diagnosis) -> dict[str, Any]:
    document = triage_document(diagnosis.triage)
    for entry in document["services"]:
        name = entry["service"]
        tops = diagnosis.profiles.get(name, {})
        metrics = entry["metrics"]
        entry["http"] = {k: metrics[k] for k in ("req_per_sec", "error_ratio", "latency_ms")}
        entry["app_share"] = {kind: _app_share(top) for kind, top in tops.items()}
        entry["alerts"] = [a.as_json() for a in diagnosis.alerts.get(name, [])]
    document["alertmanager"] = {
        "url": diagnosis.alertmanager,
        "error": diagnosis.alertmanager_error,
    }
    document["profiles"] = [
        {
            "service": entry["service"],
            **{
                f"{kind}_top5": _top5(diagnosis.profiles.get(entry["service"], {}).get(kind))
                for kind in PROFILE_KINDS
            },
            "app_share": entry["app_share"],
        }
        for entry in document["services"]
    ]
    return document


def _service_lines(diagnosis: Diagnosis, analysis: ServiceAnalysis) -> list[str]:
    m = analysis.metrics
    http = "HTTP: " + "  ".join(
        (
            f"{m.req_per_sec:.1f} req/s" if m.req_per_sec is not None else "n/a req/s",
            f"errors {m.error_ratio * 100:.1f}%" if m.error_ratio is not None else "errors n/a",
            f"latency {m.latency_ms:.0f} ms" if m.latency_ms is not None else "latency n/a",
        )
    )
    lines = [f"  {analysis.service}", f"       {http}"]
    for kind, top in diagnosis.profiles.get(analysis.service, {}).items():
        leaders = ", ".join(f"{f.function} {f.self_pct:.1f}%" for f in top.functions[:3])
        lines.append(f"       {kind}: {_app_share(top):.0f}% in app code; {leaders or '(none)'}")
    if diagnosis.alertmanager is not None and diagnosis.alertmanager_error is None:
        firing = diagnosis.alerts.get(analysis.service, [])
        lines.append(f"       Alerts firing: {len(firing)}")
        lines.extend(
            f"         - {a.labels.get('alertname', 'alert')} since {a.starts_at}"
            + (f": {a.annotations['summary']}" if a.annotations.get("summary") else "")
            for a in firing
        )
    return lines


def render_diagnosis(diagnosis: Diagnosis, *, colour: bool = False) -> str:
    lines = [render_triage(diagnosis.triage, colour=colour), "", "details"]
    for analysis in diagnosis.triage.analyses:
        lines.extend(_service_lines(diagnosis, analysis))
    if diagnosis.alertmanager is None:
        lines.append("  (no `alertmanager` in the config: firing alerts not shown)")
    return "\n".join(lines)


async def print_diagnose(
    config: Config,
    *,
    service: str | None,
    as_json: bool,
    term: Terminal,
) -> int:
    out, err, clock = term
    am = AlertmanagerClient(config.alertmanager) if config.alertmanager is not None else None
    url = config.alertmanager.url if config.alertmanager is not None else None
    status = "diagnose: querying Prometheus, Pyroscope, Alertmanager..."
    try:
        async with querying(config, err, status) as enricher:
            diagnosis = await run_diagnose(
                enricher, am, service=service, now=clock(), alertmanager_url=url
            )
    finally:
        if am is not None:
            await am.aclose()
    write_failures("diagnose", config, diagnosis.triage.failures, err, alertmanager=url or "")
    triage = diagnosis.triage
    if triage.unknown is not None:
        err.write(f"diagnose: unknown service {triage.unknown!r}\n")
    if as_json:
        out.write(json.dumps(diagnosis_document(diagnosis), indent=2, ensure_ascii=False) + "\n")
    elif triage.unknown is None:
        out.write(render_diagnosis(diagnosis, colour=wants_colour(out)) + "\n")
    out.flush()
    return exit_code(triage)
