"""The SVG backend: a `Layout` written directly as SVG text, one `<g>` per frame.

Each frame is a `<rect>` and its label, grouped under a `<title>` tooltip (function, self %,
total %, and the change in a diff), so hovering shows the numbers. Labels are fitted for a
monospace font of `font_size` pixels at MONO_ADVANCE of its size per character (DejaVu Sans
Mono, Menlo and Consolas are at or under it), so they fit whichever of them the viewer has.
Numbers are written with fixed decimals: the same picture gives the same text.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from enrichers.pictures.colours import (
    BACKGROUND,
    CULPRIT,
    DIFF_FULL_PP,
    HOTSPOT,
    INK,
    MUTED,
    class_colour,
    diff_colour,
    fill_of,
    hex_colour,
    text_colour,
)
from enrichers.pictures.labels import Measure
from enrichers.pictures.layout import Frame, Geometry, Layout, LegendItem, layout
from enrichers.pictures.picture import Picture
from enrichers.pictures.texts import NO_SAMPLES, tooltip

__all__ = ["MONO_ADVANCE", "render_svg"]

MONO_ADVANCE = 0.62
FONTS = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_MARKS = {"hotspot": hex_colour(HOTSPOT), "culprit": hex_colour(CULPRIT)}


def _mono(size: int) -> Measure:
    advance = MONO_ADVANCE * size
    return lambda text: advance * len(text)


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _frame(frame: Frame, g: Geometry) -> str:
    x, y = g.margin + frame.x, g.row_top(frame.depth)
    width = max(frame.width - g.gap, 0.5)
    fill = fill_of(frame)
    tip = tooltip(frame.name, frame.self_pct, frame.total_pct, frame.delta_pp)
    parts = [
        f"<g><title>{escape(tip)}</title>",
        f'<rect x="{x:.2f}" y="{y}" width="{width:.2f}" height="{g.row - g.gap}"'
        f' fill="{hex_colour(fill)}"/>',
    ]
    if frame.label:
        baseline = y + (g.row - g.gap) / 2 + g.font_size * 0.36
        parts.append(
            f'<text x="{x + g.pad:.2f}" y="{baseline:.2f}" fill="{hex_colour(text_colour(fill))}">'
            f"{escape(frame.label)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _outline(frame: Frame, g: Geometry) -> str:
    x, y = g.margin + frame.x + 1, g.row_top(frame.depth) + 1
    width = max(frame.width - g.gap - 2, 0.5)
    return (
        f'<rect x="{x:.2f}" y="{y}" width="{width:.2f}" height="{g.row - g.gap - 2}"'
        f' fill="none" stroke="{_MARKS[frame.mark or "hotspot"]}" stroke-width="2"/>'
    )


def _legend_item(item: LegendItem, top: int, g: Geometry) -> str:
    x, size, parts = item.x, g.swatch, []
    if item.kind == "swatch":
        colour = hex_colour(class_colour(item.key, ""))
        parts.append(
            f'<rect x="{x:.2f}" y="{top}" width="{size}" height="{size}" fill="{colour}"/>'
        )
    elif item.kind == "outline":
        parts.append(
            f'<rect x="{x + 1:.2f}" y="{top + 1}" width="{size - 2}" height="{size - 2}"'
            f' fill="none" stroke="{_MARKS[item.key]}" stroke-width="2"/>'
        )
    elif item.kind == "gradient":
        for step in range(0, 96, 4):
            colour = hex_colour(diff_colour((step + 2 - 48) / 48 * DIFF_FULL_PP))
            parts.append(
                f'<rect x="{x + step:.2f}" y="{top}" width="4" height="{size}" fill="{colour}"/>'
            )
    offset = 0 if item.kind == "note" else (96 if item.kind == "gradient" else size) + 6
    ink = hex_colour(MUTED if item.kind == "note" else INK)
    parts.append(
        f'<text x="{x + offset:.2f}" y="{top + size - 3}" fill="{ink}">{escape(item.label)}</text>'
    )
    return "".join(parts)


def write_layout(lay: Layout) -> str:
    g = lay.geometry
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width}" height="{lay.height}"'
        f' viewBox="0 0 {lay.width} {lay.height}" font-family="{_attr(FONTS)}"'
        f' font-size="{g.font_size}">',
        f'<rect width="100%" height="100%" fill="{hex_colour(BACKGROUND)}"/>',
        f'<text x="{g.margin}" y="{g.margin + g.title_size}" font-size="{g.title_size}"'
        f' font-weight="bold" fill="{hex_colour(INK)}">{escape(lay.title)}</text>',
        f'<text x="{g.margin}" y="{g.margin + 24 + g.font_size}"'
        f' fill="{hex_colour(MUTED)}">{escape(lay.subtitle)}</text>',
    ]
    body = [_frame(frame, g) for frame in lay.frames]
    body += [_outline(frame, g) for frame in lay.frames if frame.mark is not None]
    if not lay.frames:
        body.append(
            f'<text x="{g.margin}" y="{g.row_top(0) + g.font_size}"'
            f' fill="{hex_colour(MUTED)}">{NO_SAMPLES}</text>'
        )
    legend_top = g.row_top(lay.rows) + (g.legend - g.swatch) // 2
    body += [_legend_item(item, legend_top, g) for item in lay.legend]
    return "\n".join([*head, *body, "</svg>", ""])


def render_svg(picture: Picture, geometry: Geometry | None = None) -> bytes:
    """The picture as SVG (UTF-8 bytes), the same bytes for the same picture."""
    g = geometry or Geometry()
    return write_layout(layout(picture, g, _mono(g.font_size))).encode("utf-8")
