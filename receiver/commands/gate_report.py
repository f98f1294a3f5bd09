"""What `flamebot gate` writes, pure: the console text, Markdown, JUnit XML and JSON.

The Markdown starts with the marker `<!-- flamebot-gate -->` so a CI job can find and update
its own PR comment instead of adding one per push. JUnit has one test case per service and
profile type (`classname` the service, `name` the profile kind). The JSON (keys only ever
added):

    {"generated_at", "passed", "window": {"from", "to"},
     "baseline": {"file", "generated_at", "window": {"from", "to"}, "selector"},
     "rule": {"min_pp", "min_rel", "alpha", "windows", "min_windows"},
     "regressions": [finding], "tested": [finding],
     "cases": [{"service", "profile", "profile_type", "status", "message"}],
     "verdicts": [{"service", "before", "after", "text"}]}

with a finding as `{"service", "profile", "function", "baseline_pct", "now_pct",
"delta_pp", "relative", "p_value", "new", "regressed"}` (`relative` null for a new one).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

from enrichers.regression import Finding
from enrichers.times import iso_time
from receiver.commands.gate_judge import Case, GateReport
from receiver.notifiers.summary import PROFILE_TITLES, window_line

__all__ = [
    "MARKER",
    "finding_line",
    "gate_document",
    "render_junit",
    "render_markdown",
    "render_text",
]

MARKER = "<!-- flamebot-gate -->"


def _finding_json(f: Finding) -> dict[str, Any]:
    service, profile = f.key
    return {
        "service": service,
        "profile": profile,
        "function": f.function,
        "baseline_pct": f.baseline_pct,
        "now_pct": f.now_pct,
        "delta_pp": f.delta_pp,
        "relative": None if math.isinf(f.relative) else f.relative,
        "p_value": f.p_value,
        "new": f.new,
        "regressed": f.regressed,
    }


def gate_document(report: GateReport) -> dict[str, Any]:
    base = report.baseline
    return {
        "generated_at": iso_time(report.generated_at),
        "passed": not report.regressions,
        "window": {"from": iso_time(report.window.start), "to": iso_time(report.window.end)},
        "baseline": {
            "file": str(report.baseline_path),
            "generated_at": iso_time(base.generated_at),
            "window": {"from": iso_time(base.span.start), "to": iso_time(base.span.end)},
            "selector": dict(base.selector),
        },
        "rule": {
            "min_pp": report.rule.min_pp,
            "min_rel": report.rule.min_rel,
            "alpha": report.rule.alpha,
            "windows": report.windows,
            "min_windows": report.rule.min_windows,
        },
        "regressions": [_finding_json(f) for f in report.regressions],
        "tested": [_finding_json(f) for f in report.tested],
        "cases": [
            {
                "service": c.service,
                "profile": c.kind,
                "profile_type": c.profile_type,
                "status": c.status,
                "message": c.message,
            }
            for c in report.cases
        ],
        "verdicts": [
            {"service": v.service, "before": v.before, "after": v.after, "text": v.text}
            for v in report.verdicts
        ],
    }


def _p(value: float) -> str:
    return f"{value:.2g}"


def finding_line(f: Finding) -> str:
    """`order-service CPU com.example.X: 5.0% -> 13.0% (+8.0 pp, new, p=1.1e-05)`."""
    service, profile = f.key
    new = ", new" if f.new else ""
    return (
        f"{service} {PROFILE_TITLES[profile]} {f.function}: {f.baseline_pct:.1f}% ->"
        f" {f.now_pct:.1f}% ({f.delta_pp:+.1f} pp{new}, p={_p(f.p_value)})"
    )


def _summary(report: GateReport) -> str:
    count = len(report.regressions)
    if not count:
        return "no regression"
    return f"{count} regression{'s' if count != 1 else ''}"


def _method(report: GateReport) -> str:
    rule = report.rule
    return (
        f"A function regresses when its self share rose by at least {rule.min_pp:g} pp and"
        f" {rule.min_rel * 100:g} % and the rise holds across {report.windows} sub-windows"
        f" (one-sided rank test, Benjamini-Hochberg at {rule.alpha:g} over"
        f" {len(report.tested)} function(s) tested)."
    )


def render_text(report: GateReport) -> str:
    lines = [
        f"flamebot gate: {_summary(report)}",
        f"  baseline: {window_line(report.baseline.span)} ({report.baseline_path})",
        f"  now:      {window_line(report.window)}",
    ]
    lines.extend(f"  REGRESSION {finding_line(f)}" for f in report.regressions)
    lines.extend(f"  {v.text}" for v in report.verdicts)
    for case in report.cases:
        lines.append(f"  [{case.status}] {case.service} {case.kind}: {case.message}")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: GateReport) -> str:
    """The sticky PR comment: marker, headline, the regression table, verdicts, method."""
    lines = [MARKER, f"## flamebot gate: {_summary(report)}", ""]
    if report.regressions:
        lines += [
            "| service | profile | function | baseline % | now % | delta | p |",
            "|---|---|---|---:|---:|---:|---:|",
        ]
        for f in report.regressions:
            service, profile = f.key
            now = f"{f.now_pct:.1f}" + (" (new)" if f.new else "")
            lines.append(
                f"| {_cell(service)} | {PROFILE_TITLES[profile]} | `{_cell(f.function)}`"
                f" | {f.baseline_pct:.1f} | {now} | {f.delta_pp:+.1f} pp | {_p(f.p_value)} |"
            )
        lines.append("")
    lines.extend(f"- **{_cell(v.text)}**" for v in report.verdicts)
    checked = [c for c in report.cases if c.status != "skipped"]
    skipped = [c for c in report.cases if c.status == "skipped"]
    lines.append(f"- {len(checked)} profile(s) checked, {len(skipped)} skipped")
    lines.extend(f"  - skipped {_cell(c.service)} {c.kind}: {_cell(c.message)}" for c in skipped)
    lines += [
        f"- baseline {window_line(report.baseline.span)}; this run {window_line(report.window)}",
        "",
        _method(report),
    ]
    return "\n".join(lines) + "\n"


def _testcase(suite: ET.Element, case: Case) -> None:
    element = ET.SubElement(
        suite, "testcase", {"classname": case.service, "name": case.kind, "time": "0"}
    )
    if case.status == "failed":
        failure = ET.SubElement(
            element, "failure", {"message": case.message, "type": "ProfileRegression"}
        )
        failure.text = "\n".join(finding_line(f) for f in case.regressions)
    elif case.status == "skipped":
        ET.SubElement(element, "skipped", {"message": case.message})
    else:
        out = ET.SubElement(element, "system-out")
        out.text = f"{case.profile_type}: {case.message}"


def render_junit(report: GateReport) -> str:
    """JUnit XML: one testsuite, one testcase per service and profile type."""
    counts = {
        "tests": str(len(report.cases)),
        "failures": str(sum(c.status == "failed" for c in report.cases)),
        "errors": "0",
        "skipped": str(sum(c.status == "skipped" for c in report.cases)),
    }
    root = ET.Element("testsuites", {"name": "flamebot gate", **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": "flamebot gate", **counts, "timestamp": iso_time(report.generated_at)},
    )
    for case in report.cases:
        _testcase(suite, case)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
