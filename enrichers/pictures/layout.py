"""Frames to rectangles, pure: the icicle layout both backends draw.

The root is the top row and spans the whole width; each frame's children sit in the row
below it, left-aligned in their order, each as wide as its share of the total. Frames under
MIN_SHARE of the total are not drawn: their width stays in their parent's remainder, to the
right of its drawn children, with the parent's own self time. Labels are fitted by
`enrichers.pictures.labels` with the backend's text measure; the legend is placed here too,
so the backends only draw.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from enrichers.flamegraph import FlameGraph
from enrichers.flamegraph_tree import Node, prune, tree_of
from enrichers.pictures.labels import Measure, fit_label, short_name
from enrichers.pictures.picture import Picture
from enrichers.pictures.texts import GRADIENT_LABEL, MERGED_NOTE, subtitle, title

__all__ = ["MIN_SHARE", "Frame", "Geometry", "Layout", "LegendItem", "layout"]

MIN_SHARE = 0.005  # frames under 0.5% of the total are merged into their parent
Mark = Literal["hotspot", "culprit"]


@dataclass(frozen=True)
class Geometry:
    """Sizes in pixels. Rows are `row` high, with `gap` pixels between frames."""

    width: int = 1200
    margin: int = 12
    row: int = 18
    gap: int = 1
    pad: int = 4
    font_size: int = 12
    title_size: int = 16
    header: int = 52  # the title and subtitle lines above the graph
    legend: int = 34  # the legend line below it
    swatch: int = 14

    @property
    def graph_width(self) -> int:
        return self.width - 2 * self.margin

    def row_top(self, depth: int) -> int:
        return self.margin + self.header + depth * self.row

    def height(self, rows: int) -> int:
        return self.row_top(max(rows, 1)) + self.legend + self.margin


@dataclass(frozen=True, slots=True)
class Frame:
    """One rectangle: x and width in pixels from the graph's left edge, its row."""

    x: float
    width: float
    depth: int
    name: str
    label: str
    colour: str  # the colour key: root, app, library or runtime
    self_pct: float
    total_pct: float
    delta_pp: float | None  # share change against the baseline, in a diff
    mark: Mark | None


@dataclass(frozen=True, slots=True)
class LegendItem:
    """`swatch` (a class colour), `gradient` (the diff scale), `outline` (a mark) or
    `note`; `x` is from the picture's left edge, `key` the colour key or mark."""

    kind: Literal["swatch", "gradient", "outline", "note"]
    label: str
    key: str
    x: float


@dataclass(frozen=True)
class Layout:
    geometry: Geometry
    frames: list[Frame]
    rows: int
    title: str
    subtitle: str
    legend: list[LegendItem]
    diff: bool

    @property
    def width(self) -> int:
        return self.geometry.width

    @property
    def height(self) -> int:
        return self.geometry.height(self.rows)


def _shares(graph: FlameGraph) -> dict[tuple[str, ...], float]:
    """Total share (%) of every stack path of the graph, for diffs."""
    shares: dict[tuple[str, ...], float] = {}
    root = tree_of(prune(graph, MIN_SHARE))
    pending: list[tuple[Node, tuple[str, ...]]] = [(root, ())]
    while pending:
        node, path = pending.pop()
        path = (*path, node.name)
        shares[path] = shares.get(path, 0.0) + 100.0 * node.total / graph.total
        pending.extend((child, path) for child in node.children)
    return shares


def _placed(root: Node, scale: float) -> Iterator[tuple[Node, float, int, tuple[str, ...]]]:
    """(node, x, depth, path) of every node, depth first, children left-aligned."""
    pending: list[tuple[Node, float, int, tuple[str, ...]]] = [(root, 0.0, 0, ())]
    while pending:
        node, x, depth, path = pending.pop()
        path = (*path, node.name)
        yield node, x, depth, path
        placed = []
        for child in node.children:
            placed.append((child, x, depth + 1, path))
            x += child.total * scale
        pending.extend(reversed(placed))


def _mark(name: str, picture: Picture) -> Mark | None:
    if name == picture.hotspot:
        return "hotspot"
    return "culprit" if name == picture.culprit else None


def _frames(picture: Picture, geometry: Geometry, measure: Measure) -> list[Frame]:
    graph = picture.graph
    if graph.total <= 0:
        return []
    before = _shares(picture.baseline) if picture.diff and picture.baseline else None
    root = tree_of(prune(graph, MIN_SHARE))
    scale = geometry.graph_width / graph.total
    frames = []
    for node, x, depth, path in _placed(root, scale):
        width = node.total * scale
        total_pct = 100.0 * node.total / graph.total
        room = width - geometry.gap - 2 * geometry.pad
        frames.append(
            Frame(
                x=x,
                width=width,
                depth=depth,
                name=node.name,
                label=fit_label(node.name, room, measure),
                colour="root" if depth == 0 else picture.classes.get(node.name, "library"),
                self_pct=100.0 * node.self / graph.total,
                total_pct=total_pct,
                delta_pp=None if before is None else total_pct - before.get(path, 0.0),
                mark=None if depth == 0 else _mark(node.name, picture),
            )
        )
    return frames


def _legend(
    picture: Picture, frames: list[Frame], geometry: Geometry, measure: Measure
) -> list[LegendItem]:
    entries: list[tuple[Literal["swatch", "gradient", "outline", "note"], str, str]] = []
    if picture.diff:
        entries.append(("gradient", GRADIENT_LABEL, "diff"))
    else:
        entries += [
            ("swatch", "application", "app"),
            ("swatch", "library", "library"),
            ("swatch", "runtime", "runtime"),
        ]
    marks = {frame.mark for frame in frames}
    for mark, name in (("hotspot", picture.hotspot), ("culprit", picture.culprit)):
        if mark in marks and name:
            entries.append(("outline", f"{mark} {short_name(name)}", mark))
    entries.append(("note", MERGED_NOTE, ""))
    items, x = [], float(geometry.margin)
    for kind, label, key in entries:
        marker = 0 if kind == "note" else (geometry.swatch if kind != "gradient" else 96) + 6
        items.append(LegendItem(kind, label, key, x))
        x += marker + measure(label) + 18
    return items


def layout(picture: Picture, geometry: Geometry, measure: Measure) -> Layout:
    """The rectangles, texts and legend of `picture`; `measure` gives a text's width."""
    frames = _frames(picture, geometry, measure)
    rows = max((frame.depth for frame in frames), default=0) + 1
    return Layout(
        geometry=geometry,
        frames=frames,
        rows=rows,
        title=title(picture),
        subtitle=subtitle(picture),
        legend=_legend(picture, frames, geometry, measure),
        diff=picture.diff,
    )
