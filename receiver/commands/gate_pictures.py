"""The gate's diff flame-graph pictures (`--artifacts`): per service and profile type, a PNG.

`case_graphs()` is the I/O: for every case with a profile now, one `SelectMergeStacktraces`
over the build's whole window (with the gate's `--label`s) and one over the baseline file's
recorded window (with the labels the snapshot was taken with), at most `PARALLEL_QUERIES`
at once. `case_picture()` is pure: the icicle of the build's window, each frame coloured by
its share change since the baseline window (red grew, blue shrank, §7.3), the lead
regressed function outlined (else the top self function). When Pyroscope has no samples of
the baseline window any more (retention, a renamed service), the picture is drawn plain and
says so in its subtitle; the gate also says so on stderr.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from enrichers.analysis import GroupEnricher
from enrichers.flamegraph import FlameGraph, top_functions
from enrichers.frames import PLAIN, FrameRules
from enrichers.pictures.capture import flamegraph_data
from enrichers.pictures.picture import Picture, picture_from_data
from enrichers.promql import label_selector
from enrichers.result import ProfileKind, Window
from enrichers.times import epoch_ms, window_line
from receiver.commands.gate_judge import Case, GateReport
from receiver.commands.measure import PARALLEL_QUERIES

__all__ = ["CaseGraphs", "Key", "case_graphs", "case_picture", "gate_pictures", "plain_note"]

Key = tuple[str, ProfileKind]


@dataclass(frozen=True)
class CaseGraphs:
    """Both whole windows of one case as Pyroscope has them now."""

    now: FlameGraph
    baseline: FlameGraph
    frames: FrameRules


def _frames(enricher: GroupEnricher, report: GateReport, case: Case) -> FrameRules:
    """The frame rules of the runtime the gate's analysis found (else the baseline's)."""
    analysis = report.analyses.get(case.service)
    entry = report.baseline.service(case.service)
    runtime = analysis.runtime if analysis else entry.preset if entry else ""
    preset = enricher.presets.get(runtime)
    return preset.frames if preset is not None else PLAIN


def _pyroscope_service(report: GateReport, case: Case) -> str:
    analysis = report.analyses.get(case.service)
    if analysis is not None:
        return analysis.pyroscope_service
    entry = report.baseline.service(case.service)
    return entry.pyroscope_service if entry is not None else case.service


async def case_graphs(
    enricher: GroupEnricher, report: GateReport, labels: Mapping[str, str]
) -> dict[Key, CaseGraphs]:
    """Both windows' graphs of every case that has a profile now (BackendError propagates)."""
    gate = asyncio.Semaphore(PARALLEL_QUERIES)
    then = report.baseline.span

    async def graph(ptype: str, selector: str, window: Window) -> FlameGraph:
        async with gate:
            span = epoch_ms(window.start), epoch_ms(window.end)
            return await enricher.pyroscope.flamegraph(ptype, selector, *span)

    async def both(case: Case) -> CaseGraphs:
        assert case.now is not None
        name = _pyroscope_service(report, case)
        before_type = case.baseline.profile_type if case.baseline else ""
        now, before = await asyncio.gather(
            graph(case.now.profile_type, label_selector(name, labels), report.window),
            graph(
                before_type or case.now.profile_type,
                label_selector(name, report.baseline.selector),
                then,
            ),
        )
        return CaseGraphs(now, before, _frames(enricher, report, case))

    drawn = [case for case in report.cases if case.now is not None]
    found = await asyncio.gather(*(both(case) for case in drawn))
    return {(case.service, case.kind): g for case, g in zip(drawn, found, strict=True)}


def plain_note(kind: ProfileKind, baseline: Window) -> str:
    """Why a gate picture is not a diff."""
    return f"not a diff: no {kind} samples in the baseline window {window_line(baseline)}"


def _hotspot(case: Case, graph: FlameGraph, frames: FrameRules) -> str | None:
    if case.regressions:
        return case.regressions[0].function
    top = top_functions(graph, n=1, unit="", frames=frames)
    return top.functions[0].function if top.functions else None


def case_picture(
    case: Case,
    graphs: CaseGraphs,
    report: GateReport,
    *,
    app_prefixes: Sequence[str] = (),
) -> Picture | None:
    """The case's picture, a diff when the baseline window has samples; None when the
    build's window has none (nothing to draw)."""
    assert case.now is not None
    data = flamegraph_data(
        case.kind,
        case.now.profile_type,
        graphs.now,
        graphs.baseline,
        frames=graphs.frames,
        app_prefixes=app_prefixes,
    )
    if data is None:
        return None
    then = report.baseline.span
    picture = picture_from_data(
        data,
        case.service,
        window=report.window,
        baseline_window=then,
        hotspot=_hotspot(case, graphs.now, graphs.frames),
    )
    return picture if picture.diff else replace(picture, note=plain_note(case.kind, then))


def gate_pictures(
    report: GateReport, graphs: Mapping[Key, CaseGraphs], app_prefixes: Sequence[str]
) -> dict[Key, Picture]:
    """The picture of every case with samples in the build's window, by (service, kind)."""
    pictures = {}
    for case in report.cases:
        found = graphs.get((case.service, case.kind))
        if found is not None and case.now is not None:
            picture = case_picture(case, found, report, app_prefixes=app_prefixes)
            if picture is not None:
                pictures[(case.service, case.kind)] = picture
    return pictures
