"""One service analysis as JSON, pure: what `triage --json` prints per service and what a
PagerDuty event's `custom_details` hold. Both are public contracts: keys are only ever added.

The two differ where PRODUCT.md §4 names them differently: the ranked functions are `top` in
`triage --json` and `top_functions` in PagerDuty.
"""

from __future__ import annotations

from typing import Any, Literal

from enrichers.result import ServiceAnalysis
from enrichers.visibility import truncation_lines

__all__ = ["analysis_document"]


def analysis_document(
    analysis: ServiceAnalysis, *, top_key: Literal["top", "top_functions"] = "top"
) -> dict[str, Any]:
    """Every field of the analysis a reader of JSON needs, with what could not be seen."""
    spot = analysis.hotspot
    return {
        "service": analysis.service,
        "pyroscope_service": analysis.pyroscope_service,
        "verdict": analysis.verdict,
        "severity": analysis.severity,
        "metrics": analysis.metrics.model_dump(mode="json"),
        "hotspot": None if spot is None else spot.model_dump(mode="json"),
        top_key: {
            kind: [stat.model_dump(mode="json") for stat in stats]
            for kind, stats in analysis.top.items()
        },
        "action": analysis.action,
        "evidence": [e.model_dump(mode="json") for e in analysis.evidence],
        "notes": list(analysis.notes),
        "errors": [e.model_dump(mode="json") for e in analysis.errors],
        "unseen": list(analysis.unseen),
        "truncated": truncation_lines(analysis.truncated_pct),
        "truncated_pct": dict(analysis.truncated_pct),
        "runtime": analysis.runtime,
        "runtime_from": analysis.runtime_from,
        "units": dict(analysis.units),
        "profile_types": dict(analysis.profile_types),
        "changes": [c.model_dump(mode="json") for c in analysis.changes],
        "links": analysis.links.model_dump(mode="json"),
    }
