"""`gate --artifacts DIR`: the files a CI job keeps with the build for review.

Each kind of artifact is written by one function of `ARTIFACT_WRITERS`, which all take the
directory and the gate's `Artifacts` (its report and the pictures drawn for it) and return
the paths they wrote; a new kind of artifact is one more function in that table. Written
now: `gate.json` (the `--json` document); per service and profile type that has both
windows, `diff-<service>-<profile>.json`: every function's baseline and current share, the
change, and the sub-window shares both sides; per service and profile type with samples
now, `diff-<service>-<profile>.png`: the diff flame graph (`gate_pictures`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enrichers.pictures.picture import Picture
from enrichers.result import ProfileKind
from enrichers.windowed import WindowedProfile
from receiver.commands.gate_judge import Case, GateReport
from receiver.commands.gate_report import gate_document

__all__ = ["ARTIFACT_WRITERS", "Artifacts", "artifact_name", "write_artifacts"]


@dataclass(frozen=True)
class Artifacts:
    """What the writers draw from: the report, the pictures by (service, profile kind)."""

    report: GateReport
    pictures: Mapping[tuple[str, ProfileKind], Picture] = field(default_factory=dict)


ArtifactWriter = Callable[[Path, Artifacts], list[Path]]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def artifact_name(case: Case, suffix: str) -> str:
    """`diff-order-service-cpu.json`: file-name safe whatever the service is called."""
    return f"diff-{_UNSAFE.sub('_', case.service)}-{case.kind}{suffix}"


def _dump(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def write_gate_json(directory: Path, artifacts: Artifacts) -> list[Path]:
    return [_dump(directory / "gate.json", gate_document(artifacts.report))]


def _diff(case: Case, baseline: WindowedProfile, current: WindowedProfile) -> dict[str, Any]:
    before, now = baseline.shares(), current.shares()
    names = dict.fromkeys([*before.self_pct, *now.self_pct])
    rows: list[dict[str, Any]] = [
        {
            "function": name,
            "baseline_pct": before.self_pct.get(name, 0.0),
            "now_pct": now.self_pct.get(name, 0.0),
            "delta_pp": now.self_pct.get(name, 0.0) - before.self_pct.get(name, 0.0),
            "window_self_pct": {"baseline": before.series(name), "now": now.series(name)},
        }
        for name in names
    ]
    rows.sort(key=lambda row: (-float(row["delta_pp"]), str(row["function"])))
    return {
        "service": case.service,
        "profile": case.kind,
        "profile_type": case.profile_type,
        "status": case.status,
        "message": case.message,
        "regressed": [f.function for f in case.regressions],
        "baseline": {
            "windows": before.windows,
            "total": baseline.total,
            "unit": baseline.unit,
        },
        "now": {"windows": now.windows, "total": current.total, "unit": current.unit},
        "functions": rows,
    }


def write_profile_diffs(directory: Path, artifacts: Artifacts) -> list[Path]:
    return [
        _dump(directory / artifact_name(case, ".json"), _diff(case, case.baseline, case.now))
        for case in artifacts.report.cases
        if case.baseline is not None and case.now is not None
    ]


def write_pictures(directory: Path, artifacts: Artifacts) -> list[Path]:
    from enrichers.pictures.png import render_png  # Pillow only when pictures are drawn

    written = []
    for case in artifacts.report.cases:
        picture = artifacts.pictures.get((case.service, case.kind))
        if picture is not None:
            path = directory / artifact_name(case, ".png")
            path.write_bytes(render_png(picture))
            written.append(path)
    return written


ARTIFACT_WRITERS: tuple[ArtifactWriter, ...] = (
    write_gate_json,
    write_profile_diffs,
    write_pictures,
)


def write_artifacts(directory: Path, artifacts: Artifacts) -> list[Path]:
    """Every artifact into `directory` (created if missing); the paths written, in order."""
    directory.mkdir(parents=True, exist_ok=True)
    return [path for writer in ARTIFACT_WRITERS for path in writer(directory, artifacts)]
