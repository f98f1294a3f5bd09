"""What `flamebot triage` prints, pure: the `--json` document and the reference's text blocks.

The JSON document is a public contract (PRODUCT.md §4): keys are only ever added. The text
echoes the reference `bottleneck` command, one block per service, most severe first:

      [!!!] payment-service  →  CPU-BOUND
           CPU: 0.82 cores  Heap: 45%  GC: 0.012s/s  Threads: 24  Lat: 340ms  Err: 0.0%
           Hotspot: com.example.PaymentVerticle.sha256: 34.2% of CPU self-time (5.1% before, ...)
           Action:  optimise com.example.PaymentVerticle.sha256 (algorithm, ...)
           Profiles: CPU: PaymentVerticle.sha256 (34.2%) | Alloc: ... | Mutex: (none)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from enrichers.document import analysis_document
from enrichers.result import (
    FunctionStat,
    HealthMetrics,
    ProfileKind,
    ServiceAnalysis,
    Window,
)
from enrichers.times import iso_time
from enrichers.visibility import failure_kind, truncation_lines
from receiver.commands.terminal import SEVERITY_COLOURS, paint
from receiver.notifiers.summary import hotspot_line, unseen_line, window_line
from receiver.notifiers.summary import ranked as by_importance

__all__ = [
    "MARKERS",
    "Triage",
    "duration_text",
    "failure_line",
    "metrics_text",
    "public_url",
    "ranked",
    "render_triage",
    "short_function",
    "triage_document",
]

MARKERS = {"critical": "[!!!]", "warning": "[ ! ]", "unknown": "[ ? ]", "ok": "[ . ]"}
_PROFILES: tuple[tuple[ProfileKind, str], ...] = (
    ("cpu", "CPU"),
    ("alloc", "Alloc"),
    ("mutex", "Mutex"),
)
_INDENT = " " * 7


@dataclass(frozen=True)
class Triage:
    """One run: the analyses, the backends that failed (source -> reason), an unknown name."""

    generated_at: datetime
    window: Window
    analyses: list[ServiceAnalysis]
    failures: dict[str, str] = field(default_factory=dict)
    unknown: str | None = None


def ranked(analyses: Sequence[ServiceAnalysis]) -> list[ServiceAnalysis]:
    """Critical first, then warning, then ok; then decision-table order; then name."""
    return by_importance(sorted(analyses, key=lambda a: a.service))


def duration_text(span: timedelta) -> str:
    """`15m`, `1h`, `1h30m`, `90s`: as the config writes durations."""
    seconds = int(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{seconds}s" if seconds or not text else "")


def triage_document(triage: Triage) -> dict[str, Any]:
    """The `triage --json` document (PRODUCT.md §4)."""
    return {
        "generated_at": iso_time(triage.generated_at),
        "window": {"from": iso_time(triage.window.start), "to": iso_time(triage.window.end)},
        "services": [analysis_document(a) for a in ranked(triage.analyses)],
    }


def _metric(value: float | None, form: str, scale: float = 1.0) -> str:
    return "n/a" if value is None else form.format(value * scale)


def metrics_text(m: HealthMetrics, units: Mapping[str, str] | None = None) -> str:
    """`CPU: 0.82 cores  Heap: 45%  GC: 0.012s/s  Threads: 24  Lat: 340ms  Err: 0.0%`; a metric in
    its runtime's own unit says it (`GC: 0.40 collections/s`, `Threads: 812 goroutines`)."""
    own = units or {}
    gc = "{:.2f} " + own["gc"] if "gc" in own else "{:.3f}s/s"
    threads = "{:.0f} " + own["threads"] if "threads" in own else "{:.0f}"
    return "  ".join(
        (
            f"CPU: {_metric(m.cpu, '{:.2f} cores')}",  # as every other output says it
            f"Heap: {_metric(m.heap_ratio, '{:.0f}%', 100)}",
            f"GC: {_metric(m.gc, gc)}",
            f"Threads: {_metric(m.threads, threads)}",
            f"Lat: {_metric(m.latency_ms, '{:.0f}ms')}",
            f"Err: {_metric(m.error_ratio, '{:.1f}%', 100)}",
        )
    )


def short_function(name: str) -> str:
    """`com.example.PaymentVerticle.sha256` -> `PaymentVerticle.sha256`; Go: after the last `/`."""
    tail = name.rsplit("/", 1)[-1] if "/" in name and not name.startswith("/") else name
    parts = tail.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else tail


def _profiles_text(top: Mapping[ProfileKind, Sequence[FunctionStat]]) -> str:
    parts = []
    for kind, title in _PROFILES:
        stats = top.get(kind) or []
        lead = (
            f"{short_function(stats[0].function)} ({stats[0].self_pct:.1f}%)" if stats else "(none)"
        )
        parts.append(f"{title}: {lead}")
    return " | ".join(parts)


def _block(analysis: ServiceAnalysis, colour: bool) -> list[str]:
    code = SEVERITY_COLOURS[analysis.severity] if colour else None
    head = f"{MARKERS[analysis.severity]} {analysis.service}  →  {analysis.verdict}"
    lines = [f"  {paint(head, code)}"]
    unseen = unseen_line(analysis)
    if unseen:  # every failed source is among these
        lines.append(f"{_INDENT}Not seen: {unseen}")
    lines.append(f"{_INDENT}{metrics_text(analysis.metrics, analysis.units)}")
    if analysis.verdict not in ("HEALTHY", "UNKNOWN"):
        spot = hotspot_line(analysis)
        if spot is not None:
            lines.append(f"{_INDENT}Hotspot: {spot}")
    if analysis.verdict != "HEALTHY":
        lines.append(f"{_INDENT}Action:  {analysis.action}")
    if analysis.verdict not in ("HEALTHY", "UNKNOWN"):
        lines.append(f"{_INDENT}Profiles: {_profiles_text(analysis.top)}")
        if analysis.links.flame_graph:
            lines.append(f"{_INDENT}Flame graph: {analysis.links.flame_graph}")
    lines.extend(f"{_INDENT}Merged: {line}" for line in truncation_lines(analysis.truncated_pct))
    lines.extend(f"{_INDENT}Note: {note}" for note in analysis.notes)
    return lines


def render_triage(triage: Triage, *, colour: bool = False) -> str:
    """The human report: a header line, then one block per service, most severe first."""
    count = len(triage.analyses)
    header = (
        f"flamebot triage: {count} service{'s' if count != 1 else ''}, {window_line(triage.window)}"
    )
    lines = [header]
    for analysis in ranked(triage.analyses):
        lines.append("")
        lines.extend(_block(analysis, colour))
    return "\n".join(lines)


def public_url(url: str) -> str:
    """`url` without credentials (`https://user:pass@host` -> `https://***@host`)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def failure_line(command: str, source: str, url: str, reason: str) -> str:
    """`triage: prometheus unreachable at http://127.0.0.1:9: connection failed: ConnectError`."""
    return f"{command}: {source} {failure_kind(reason)} at {public_url(url)}: {reason}"
