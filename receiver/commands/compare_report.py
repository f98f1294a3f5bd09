"""What `flamebot compare` prints, pure: the text report, the Markdown and the JSON document.

The JSON (keys are only ever added):

    {"generated_at", "service", "pyroscope_service",
     "before": {"from", "to"}, "after": {"from", "to"},
     "verdict": {"before", "after", "changed"},
     "profiles": {"cpu"|"alloc"|"mutex"|"wall": {"profile_type", "unit", "before_total",
                  "after_total", "risers", "fallers", "new", "vanished", "diff_link"}},
     "errors": [{"source", "reason"}]}

with each function as `{"function", "before_pct", "after_pct", "delta_pp", "relative"}`
(`relative` is null for a new function).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import datetime
from typing import Any

from enrichers.compare import ShareChange
from enrichers.result import ServiceAnalysis
from enrichers.times import iso_time
from receiver.commands.compare import CompareResult, ProfileDiff
from receiver.commands.top import format_value
from receiver.notifiers.summary import PROFILE_TITLES, window_line

__all__ = ["compare_document", "relative_text", "render_compare", "verdict_change"]

_MOVEMENT = {"risers": "riser", "fallers": "faller", "new": "new", "vanished": "vanished"}


def relative_text(change: ShareChange) -> str:
    """`+571%`, `-90%`, `new`."""
    return "new" if math.isinf(change.relative) else f"{change.relative * 100:+.0f}%"


def _verdict(analysis: ServiceAnalysis | None) -> str | None:
    return None if analysis is None else analysis.verdict


def verdict_change(result: CompareResult) -> str:
    """`HEALTHY -> LOCK-BOUND` or `LOCK-BOUND (unchanged)`."""
    before, after = _verdict(result.verdict_before), _verdict(result.verdict_after)
    if before == after:
        return f"{after} (unchanged)"
    return f"{before} -> {after}"


def _lists(diff: ProfileDiff, n: int) -> dict[str, list[ShareChange]]:
    comparison = diff.comparison
    return {
        "risers": comparison.risers(n),
        "fallers": comparison.fallers(n),
        "new": comparison.new(n),
        "vanished": comparison.vanished(n),
    }


def _change_json(change: ShareChange) -> dict[str, Any]:
    relative = None if math.isinf(change.relative) else change.relative
    return {**asdict(change), "delta_pp": change.delta_pp, "relative": relative}


def compare_document(result: CompareResult, *, n: int, generated_at: datetime) -> dict[str, Any]:
    before, after = _verdict(result.verdict_before), _verdict(result.verdict_after)
    profiles = {}
    for diff in result.profiles:
        unit, scale = diff.unit
        profiles[diff.kind] = {
            "profile_type": diff.profile_type,
            "unit": unit,
            "before_total": diff.comparison.before_total * scale,
            "after_total": diff.comparison.after_total * scale,
            **{k: [_change_json(c) for c in v] for k, v in _lists(diff, n).items()},
            "diff_link": diff.link,
        }
    return {
        "generated_at": iso_time(generated_at),
        "service": result.service,
        "pyroscope_service": result.pyroscope_service,
        "before": {"from": iso_time(result.before.start), "to": iso_time(result.before.end)},
        "after": {"from": iso_time(result.after.start), "to": iso_time(result.after.end)},
        "verdict": {"before": before, "after": after, "changed": before != after},
        "profiles": profiles,
        "errors": [{"source": s, "reason": r} for s, r in sorted(result.failures.items())],
    }


def _line(change: ShareChange) -> str:
    return (
        f"    {change.delta_pp:+6.1f} pp  {relative_text(change):>6}"
        f"  {change.before_pct:5.1f}% -> {change.after_pct:5.1f}%  {change.function}"
    )


def _text_profile(diff: ProfileDiff, n: int) -> list[str]:
    unit, scale = diff.unit
    c = diff.comparison
    before, after = (format_value(t * scale, unit) for t in (c.before_total, c.after_total))
    lines = ["", f"{PROFILE_TITLES[diff.kind]} ({diff.profile_type}): {before} -> {after}"]
    for name, changes in _lists(diff, n).items():
        if changes:
            lines.append(f"  {name}")
            lines.extend(_line(change) for change in changes)
    if not any(_lists(diff, n).values()):
        lines.append("  no change in any function's self share")
    lines.append(f"  diff: {diff.link}")
    return lines


def _header(result: CompareResult) -> list[str]:
    return [
        f"compare {result.service} (Pyroscope: {result.pyroscope_service})",
        f"  before: {window_line(result.before)}",
        f"  after:  {window_line(result.after)}",
        f"  verdict: {verdict_change(result)}",
    ]


def _markdown_profile(diff: ProfileDiff, n: int) -> list[str]:
    lines = [
        "",
        f"### {PROFILE_TITLES[diff.kind]} (`{diff.profile_type}`)"
        f" · [diff flame graph]({diff.link})",
        "",
        "| change | function | before % | after % | delta | relative |",
        "|---|---|---:|---:|---:|---:|",
    ]
    rows = [(name, c) for name, changes in _lists(diff, n).items() for c in changes]
    for name, c in rows:
        function = c.function.replace("|", "\\|")
        lines.append(
            f"| {_MOVEMENT[name]} | `{function}` | {c.before_pct:.1f} | {c.after_pct:.1f}"
            f" | {c.delta_pp:+.1f} pp | {relative_text(c)} |"
        )
    if not rows:
        lines.append("| | no change | | | | |")
    return lines


def render_compare(result: CompareResult, *, form: str, n: int, generated_at: datetime) -> str:
    """`form` is `text`, `markdown` or `json`."""
    if form == "json":
        return json.dumps(compare_document(result, n=n, generated_at=generated_at), indent=2)
    if form == "markdown":
        head = [
            f"## flamebot compare: {result.service}",
            "",
            f"- before: {window_line(result.before)}",
            f"- after: {window_line(result.after)}",
            f"- verdict: {verdict_change(result)}",
        ]
        return "\n".join(head + [line for d in result.profiles for line in _markdown_profile(d, n)])
    lines = _header(result)
    for diff in result.profiles:
        lines.extend(_text_profile(diff, n))
    if not result.profiles:
        lines.append(
            f"  no profile to compare (the service has: {', '.join(result.available) or 'none'})"
        )
    return "\n".join(lines)
