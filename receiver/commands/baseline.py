"""The baseline file that `snapshot` writes and `gate` reads (PRODUCT.md §7.2).

    {"version": 1, "generated_at", "window": {"from", "to"}, "selector": {labels},
     "services": [{"service", "pyroscope_service", "preset", "verdict",
                   "profiles": {"cpu"|"alloc"|"mutex"|"wall": {"profile_type", "total", "unit",
                                "windows": N, "floor_pct",
                                "functions": [{"function", "self_pct", "total_pct",
                                               "window_self_pct": [N floats]}]}}}]}

`verdict` (null when none could be made), `profile_type` and `floor_pct` are additions: keys
are only ever added. A function below `floor_pct` of its profile is left out of the file (it
reads as 0 % in the baseline). Reading checks everything a gate relies on and names the first
problem by its key path (`services.0.profiles.cpu.functions.3.window_self_pct: expected 10
values, got 9`); `gate` exits 4 on it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from enrichers.result import ProfileKind, Verdict, Window
from enrichers.times import iso_time
from enrichers.windowed import WindowedFunction, WindowedProfile
from receiver.commands.measure import Measured

__all__ = [
    "FLOOR_PCT",
    "MAX_FUNCTIONS",
    "Baseline",
    "BaselineError",
    "baseline_document",
    "read_baseline",
]

FLOOR_PCT = 0.1  # functions below 0.1 % of a profile are not kept: below any gate's floor
MAX_FUNCTIONS = 500  # per profile, the largest first
Pct = Annotated[float, Field(ge=0, le=100.000001)]


class BaselineError(ValueError):
    """The baseline file cannot be used; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class _Function(_Strict):
    function: str
    self_pct: Pct
    total_pct: Pct
    window_self_pct: list[Pct]


class _Profile(_Strict):
    profile_type: str = ""
    total: Annotated[float, Field(ge=0)]
    unit: str
    windows: Annotated[int, Field(ge=0)]
    floor_pct: Annotated[float, Field(ge=0)] = 0.0
    functions: list[_Function]

    @model_validator(mode="after")
    def _aligned(self) -> _Profile:
        for index, f in enumerate(self.functions):
            if len(f.window_self_pct) != self.windows:
                raise ValueError(
                    f"functions.{index}.window_self_pct: expected {self.windows} values,"
                    f" got {len(f.window_self_pct)}"
                )
        return self

    def windowed(self) -> WindowedProfile:
        functions = [
            WindowedFunction(f.function, f.self_pct, f.total_pct, list(f.window_self_pct))
            for f in self.functions
        ]
        return WindowedProfile(self.profile_type, self.unit, self.total, self.windows, functions)


class _Service(_Strict):
    service: str
    pyroscope_service: str
    preset: str
    verdict: Verdict | None = None
    profiles: dict[ProfileKind, _Profile]


class _Window(_Strict):
    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")


class Baseline(_Strict):
    version: Literal[1]
    generated_at: AwareDatetime
    window: _Window
    selector: dict[str, str] = Field(default_factory=dict)
    services: list[_Service]

    @property
    def span(self) -> Window:
        return Window(start=self.window.start, end=self.window.end)

    def service(self, name: str) -> _Service | None:
        """The entry for a Prometheus host or a Pyroscope service_name."""
        return next((s for s in self.services if name in (s.service, s.pyroscope_service)), None)


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    key, sep, rest = message.partition(": ")
    if sep and key.startswith("functions."):
        where, message = f"{where}.{key}", rest
    return f"{where}: {message}"


def read_baseline(path: Path) -> Baseline:
    """The checked baseline file, or BaselineError naming the file and the problem."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not JSON: {exc}") from None
    try:
        return Baseline.model_validate(raw)
    except ValidationError as exc:
        raise BaselineError(f"{path}: {_problem(exc)}") from None


def _profile_json(profile: WindowedProfile) -> dict[str, Any]:
    kept = profile.above(FLOOR_PCT, MAX_FUNCTIONS)
    return {
        "profile_type": kept.profile_type,
        "total": kept.total,
        "unit": kept.unit,
        "windows": kept.windows,
        "floor_pct": FLOOR_PCT,
        "functions": [
            {
                "function": f.function,
                "self_pct": f.self_pct,
                "total_pct": f.total_pct,
                "window_self_pct": f.window_self_pct,
            }
            for f in kept.functions
        ],
    }


def baseline_document(
    measured: Sequence[Measured],
    *,
    generated_at: datetime,
    window: Window,
    labels: dict[str, str],
    preset: str,
) -> dict[str, Any]:
    """The baseline file's JSON for the measured services."""
    return {
        "version": 1,
        "generated_at": iso_time(generated_at),
        "window": {"from": iso_time(window.start), "to": iso_time(window.end)},
        "selector": dict(labels),
        "services": [
            {
                "service": m.service,
                "pyroscope_service": m.pyroscope_service,
                "preset": m.analysis.runtime if m.analysis else preset,
                "verdict": m.analysis.verdict if m.analysis else None,
                "profiles": {kind: _profile_json(p) for kind, p in m.profiles.items()},
            }
            for m in measured
        ],
    }
