"""`flamebot flamegraph`: a picture of one profile of one window, as PNG or SVG.

From Pyroscope (`SERVICE [--type T] [--from T --to T] [--diff]`): the profile type is the
preset's first preference the service has (as in `top`), or a profile type ID; the window
defaults to the last `enrichment.window`; `--diff` colours each frame by its share change
against the window `enrichment.baseline_offset` earlier. From a pprof file (`--profile FILE
[--sample-type T] [--baseline-profile FILE]`): no backend is asked, for CI jobs and local
captures. The top self function is outlined as the hotspot. Exit codes: 0 written, 1 bad
config, 2 Pyroscope failed, 3 nothing to draw (no such profile, an unreadable file), 64 bad
usage.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

from enrichers.analysis import GroupEnricher
from enrichers.detection import preset_from_profiles
from enrichers.errors import BackendError
from enrichers.flamegraph import FlameGraph, top_functions
from enrichers.frames import PLAIN, FrameRules
from enrichers.pictures.capture import flamegraph_data
from enrichers.pictures.picture import Picture, picture_from_data
from enrichers.pprof import (
    PprofError,
    Profile,
    flamegraph_from_pprof,
    parse_pprof,
    parse_pprof_json,
)
from enrichers.presets import AUTO, PRESETS, Preset
from enrichers.promql import label_selector
from enrichers.result import Window
from enrichers.targets import Target, service_target
from enrichers.times import TIME_FORMS, epoch_ms, parse_time, window_line
from receiver.commands.terminal import Terminal, querying
from receiver.commands.top import KINDS
from receiver.config import Config

__all__ = ["EXIT_USAGE", "add_arguments", "draw", "print_flamegraph"]

EXIT_OK, EXIT_BACKEND, EXIT_NOTHING, EXIT_USAGE = 0, 2, 3, 64
SUFFIXES = (".png", ".svg")


class FlamegraphError(Exception):
    """What keeps the command from drawing; `code` is its exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "service", nargs="?", metavar="SERVICE", help="a Prometheus host or Pyroscope service_name"
    )
    parser.add_argument(
        "--type",
        default="cpu",
        metavar="T",
        help="cpu, alloc (memory), mutex, wall or a profile type ID (default cpu)",
    )
    parser.add_argument(
        "--from",
        dest="start",
        metavar="TIME",
        help=f"window start: {TIME_FORMS} (default: --to minus enrichment.window)",
    )
    parser.add_argument("--to", dest="end", metavar="TIME", help="window end (default now)")
    parser.add_argument(
        "--diff", action="store_true", help="colour by share change against the baseline window"
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="FILE.png or FILE.svg"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="draw a pprof file (.pb.gz, .pb, or Connect .json) instead of asking Pyroscope",
    )
    parser.add_argument("--sample-type", metavar="T", help="pprof sample type (default: the last)")
    parser.add_argument(
        "--baseline-profile", type=Path, metavar="FILE", help="a pprof file to diff against"
    )
    parser.add_argument(
        "--runtime", metavar="R", help="frame rules for a pprof file (default: the preset's)"
    )  # fmt: skip


def draw(picture: Picture, out: Path) -> None:
    """Render by the file's suffix (.svg, else PNG) and write it."""
    if out.suffix.lower() == ".svg":
        from enrichers.pictures.svg import render_svg

        out.write_bytes(render_svg(picture))
    else:
        from enrichers.pictures.png import render_png

        out.write_bytes(render_png(picture))


def _hotspot(graph: FlameGraph, frames: FrameRules) -> str | None:
    """The top self function: the hotspot of the picture."""
    top = top_functions(graph, n=1, unit="", frames=frames)
    return top.functions[0].function if top.functions else None


def windows(config: Config, args: argparse.Namespace, now: datetime) -> tuple[Window, Window]:
    """The incident window of `--from`/`--to` and its baseline `baseline_offset` earlier."""
    try:
        end = parse_time(args.end, now) if args.end else now
        start = parse_time(args.start, now) if args.start else end - config.enrichment.window
    except ValueError as exc:
        raise FlamegraphError(EXIT_USAGE, str(exc)) from None
    if start >= end:
        raise FlamegraphError(EXIT_USAGE, "--from must be before --to")
    offset = config.enrichment.baseline_offset
    return Window(start=start, end=end), Window(start=start - offset, end=end - offset)


async def _graphs(
    enricher: GroupEnricher, target: Target, kind: str, incident: Window, baseline: Window | None
) -> tuple[Preset, str, FlameGraph, FlameGraph | None]:
    """The service's preset, the profile type chosen for `kind`, the graphs of both windows."""
    name = target.pyroscope_service
    start, end = epoch_ms(incident.start), epoch_ms(incident.end)
    listed = await enricher.pyroscope.profile_types(name, start, end)
    available = listed.types
    preset = preset_from_profiles(
        enricher.presets, enricher.settings, target.service, name, listed.spies, available
    )
    preferred = [kind] if ":" in kind else preset.profile_types.get(KINDS[kind], [])
    ptype = next((p for p in preferred if p in available), None)
    if ptype is None:
        has = ", ".join(sorted(available)) or "nothing"
        raise FlamegraphError(EXIT_NOTHING, f"{name} has no {kind} profile (it has: {has})")
    selector = label_selector(name)
    graph = await enricher.pyroscope.flamegraph(ptype, selector, start, end)
    before = None
    if baseline is not None:
        span = epoch_ms(baseline.start), epoch_ms(baseline.end)
        before = await enricher.pyroscope.flamegraph(ptype, selector, *span)
    return preset, ptype, graph, before


async def pyroscope_picture(
    config: Config, args: argparse.Namespace, now: datetime, err: TextIO
) -> Picture:
    if args.type not in KINDS and ":" not in args.type:
        raise FlamegraphError(EXIT_USAGE, f"--type {args.type!r}: not {', '.join(KINDS)}")
    incident, baseline = windows(config, args, now)
    target = service_target(args.service, config.enrichment)
    name = target.pyroscope_service
    try:
        async with querying(config, err, "flamegraph: querying Pyroscope...") as enricher:
            preset, ptype, graph, before = await _graphs(
                enricher, target, args.type, incident, baseline if args.diff else None
            )
    except BackendError as exc:
        reason = f"pyroscope ({config.pyroscope.url}) failed: {exc.reason}"
        raise FlamegraphError(EXIT_BACKEND, reason) from None
    data = flamegraph_data(
        KINDS.get(args.type, "cpu"), ptype, graph, before,
        frames=preset.frames, app_prefixes=config.enrichment.app_prefixes,
    )  # fmt: skip
    if data is None:
        raise FlamegraphError(EXIT_NOTHING, f"{name}: no samples in {window_line(incident)}")
    return picture_from_data(
        data,
        args.service,
        window=incident,
        baseline_window=baseline,
        hotspot=_hotspot(graph, preset.frames),
    )


def _read_profile(path: Path) -> Profile:
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".json":
            return parse_pprof_json(json.loads(data))
        return parse_pprof(data)
    except (OSError, ValueError) as exc:  # PprofError and JSON errors are ValueErrors
        raise FlamegraphError(EXIT_NOTHING, f"cannot read {path}: {exc}") from None


def _sample_graph(profile: Profile, sample_type: str | None) -> tuple[FlameGraph, str, str]:
    kind, unit = profile.sample_types[-1] if profile.sample_types else ("", "")
    if sample_type is not None:
        found = [pair for pair in profile.sample_types if pair[0] == sample_type]
        kind, unit = found[0] if found else (sample_type, "")
    try:
        return flamegraph_from_pprof(profile, kind), kind, unit
    except PprofError as exc:
        raise FlamegraphError(EXIT_NOTHING, str(exc)) from None


def _file_frames(config: Config, runtime: str | None) -> FrameRules:
    """The frame rules for a pprof file: `--runtime`, else the configured preset; a file
    says nothing of its runtime, so with `preset: auto` its names are kept as written."""
    name = runtime or config.enrichment.preset
    if name == AUTO:
        return PLAIN
    if name not in PRESETS:
        raise FlamegraphError(EXIT_USAGE, f"--runtime {name}: not one of {', '.join(PRESETS)}")
    return PRESETS[name].frames


def profile_picture(config: Config, args: argparse.Namespace) -> Picture:
    """The picture of a pprof file's sample type, diffed against `--baseline-profile`."""
    graph, kind, unit = _sample_graph(_read_profile(args.profile), args.sample_type)
    before = None
    if args.baseline_profile is not None:
        before, _, _ = _sample_graph(_read_profile(args.baseline_profile), kind)
    frames = _file_frames(config, args.runtime)
    ptype = f"{kind}:{kind}:{unit}:{kind}:{unit}"  # an ID of the file's names, for the unit
    data = flamegraph_data(
        "cpu", ptype, graph, before, frames=frames, app_prefixes=config.enrichment.app_prefixes
    )
    if data is None:
        raise FlamegraphError(EXIT_NOTHING, f"{args.profile}: no {kind} samples")
    picture = picture_from_data(
        data, args.service or args.profile.name, hotspot=_hotspot(graph, frames)
    )
    return replace(picture, profile=f"{kind}:{unit}")  # a file has no profile type ID


async def print_flamegraph(
    config: Config,
    args: argparse.Namespace,
    *,
    term: Terminal,
) -> int:
    """Draw the picture the arguments ask for into `--out`; the exit code."""
    out, err, clock = term
    try:
        if args.out.suffix.lower() not in SUFFIXES:
            raise FlamegraphError(EXIT_USAGE, f"--out {args.out}: must end in .png or .svg")
        if args.profile is not None:
            picture = profile_picture(config, args)
        elif args.service:
            picture = await pyroscope_picture(config, args, clock(), err)
        else:
            raise FlamegraphError(EXIT_USAGE, "name a SERVICE, or a pprof file with --profile")
        draw(picture, args.out)
    except FlamegraphError as exc:
        err.write(f"flamegraph: {exc}\n")
        return exc.code
    except OSError as exc:
        err.write(f"flamegraph: cannot write {args.out}: {exc.strerror or exc}\n")
        return EXIT_NOTHING
    out.write(f"flamegraph: wrote {args.out} ({picture.service}, {picture.profile})\n")
    return EXIT_OK
