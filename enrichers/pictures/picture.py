"""What a flame-graph picture shows, pure: the graph, its windows, classes and marks.

A `Picture` comes from an analysis (`picture_of`, the stored `FlameGraphData` of the
deciding profile), from the `flamebot flamegraph` command, or from a pprof file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from enrichers.flamegraph import FlameGraph, profile_unit
from enrichers.result import FlameGraphData, FrameClass, ServiceAnalysis, Window

__all__ = ["Picture", "picture_from_data", "picture_of"]


@dataclass(frozen=True)
class Picture:
    """One profile of one window, drawn as an icicle; a diff when `baseline` is set.

    `profile` names the profile in the title (a profile type ID, or a sample type of a
    pprof file); `unit` and `scale` turn graph values into the title's total. `classes`
    maps frame names to their class (missing names are `library`). `hotspot` and
    `culprit` are function names to outline. `note` is said at the end of the subtitle
    (why a picture meant as a diff is plain, for one).
    """

    graph: FlameGraph
    service: str
    profile: str
    unit: str
    scale: float = 1.0
    window: Window | None = None
    classes: Mapping[str, FrameClass] = field(default_factory=dict)
    baseline: FlameGraph | None = None
    baseline_window: Window | None = None
    hotspot: str | None = None
    culprit: str | None = None
    note: str | None = None

    @property
    def diff(self) -> bool:
        return self.baseline is not None and self.baseline.total > 0


def picture_from_data(
    data: FlameGraphData,
    service: str,
    *,
    window: Window | None = None,
    baseline_window: Window | None = None,
    hotspot: str | None = None,
    culprit: str | None = None,
    diff: bool = True,
) -> Picture:
    """The picture of stored flame-graph data: a diff when `diff` and it has a baseline."""
    unit, scale = profile_unit(data.profile_type)
    baseline = data.baseline if diff else None
    return Picture(
        graph=data.incident,
        service=service,
        profile=data.profile_type,
        unit=unit,
        scale=scale,
        window=window,
        classes=data.classes,
        baseline=baseline,
        baseline_window=baseline_window if baseline is not None else None,
        hotspot=hotspot,
        culprit=culprit,
    )


def picture_of(analysis: ServiceAnalysis, *, diff: bool = True) -> Picture | None:
    """The picture of an analysis' deciding profile (a diff against its baseline window
    when `diff` and the baseline arrived), its hotspot and culprit outlined; None when no
    flame graph was kept."""
    data = analysis.flamegraph
    if data is None or data.incident.total <= 0:
        return None
    spot = analysis.hotspot
    hotspot = spot if spot is not None and spot.profile == data.profile else None
    culprit = getattr(hotspot, "culprit", None)  # the nearest application caller, if known
    return picture_from_data(
        data,
        analysis.service,
        window=analysis.window,
        baseline_window=analysis.baseline_window,
        hotspot=hotspot.function if hotspot is not None else None,
        culprit=culprit if isinstance(culprit, str) else None,
        diff=diff,
    )
