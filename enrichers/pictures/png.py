"""The PNG backend: a `Layout` drawn with Pillow and its bundled font.

`ImageFont.load_default(size=...)` is a scalable font inside Pillow (10.1+, with FreeType),
so no system font is needed and every machine draws the same pixels. Labels are measured
by summing the font's advance widths, which is never less than the drawn width (kerning
only tightens), so a label never spills out of its frame. The PNG has no metadata (no
time, no text chunks) and a palette of at most 256 colours: the same picture gives the
same bytes.
"""

from __future__ import annotations

import io
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from enrichers.flamegraph_parse import FlameGraph
from enrichers.pictures.colours import (
    BACKGROUND,
    CULPRIT,
    DIFF_FULL_PP,
    HOTSPOT,
    INK,
    MUTED,
    RGB,
    class_colour,
    diff_colour,
    fill_of,
    text_colour,
)
from enrichers.pictures.labels import Measure
from enrichers.pictures.layout import Frame, Geometry, Layout, LegendItem, layout
from enrichers.pictures.picture import Picture
from enrichers.pictures.texts import NO_SAMPLES

__all__ = ["render_png", "warm"]

Font = ImageFont.FreeTypeFont
_MARKS: dict[str, RGB] = {"hotspot": HOTSPOT, "culprit": CULPRIT}
COMPRESS_LEVEL = 6  # zlib's default: within a few % of 9 on these pictures, twice as fast
# Flat fills and anti-aliased text fit 256 colours without visible change; as a palette
# PNG the picture is about a third of its RGB size and encodes faster (FASTOCTREE, no
# dithering: deterministic).
PALETTE = 256


@cache
def _font(size: int) -> Font:
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow built without FreeType
        raise RuntimeError("Pillow has no FreeType support: cannot draw flame-graph labels")
    return font


@cache
def _measure(size: int) -> Measure:
    font = _font(size)
    advances: dict[str, float] = {}

    def measure(text: str) -> float:
        width = 0.0
        for char in text:
            advance = advances.get(char)
            if advance is None:
                advance = advances[char] = font.getlength(char)
            width += advance
        return width

    return measure


def _box(frame: Frame, g: Geometry) -> tuple[int, int, int, int]:
    left = g.margin + round(frame.x)
    right = max(left, g.margin + round(frame.x + frame.width) - 1 - g.gap)
    top = g.row_top(frame.depth)
    return left, top, right, top + g.row - 1 - g.gap


def _frames(draw: ImageDraw.ImageDraw, lay: Layout, font: Font) -> None:
    g = lay.geometry
    ascent, descent = font.getmetrics()
    baseline_offset = (g.row - g.gap - ascent - descent) // 2
    for frame in lay.frames:
        box = _box(frame, g)
        fill = fill_of(frame)
        draw.rectangle(box, fill=fill)
        if frame.label:
            at = (box[0] + g.pad, box[1] + baseline_offset)
            draw.text(at, frame.label, font=font, fill=text_colour(fill))
    for frame in lay.frames:  # outlines last: no neighbour paints over them
        if frame.mark is not None:
            draw.rectangle(_box(frame, g), outline=_MARKS[frame.mark], width=2)


def _legend_item(draw: ImageDraw.ImageDraw, item: LegendItem, top: int, g: Geometry) -> None:
    font = _font(g.font_size)
    x, size = round(item.x), g.swatch
    if item.kind == "swatch":
        draw.rectangle((x, top, x + size - 1, top + size - 1), fill=class_colour(item.key, ""))
    elif item.kind == "outline":
        draw.rectangle((x, top, x + size - 1, top + size - 1), outline=_MARKS[item.key], width=2)
    elif item.kind == "gradient":
        for step in range(96):
            delta = (step - 47.5) / 47.5 * DIFF_FULL_PP
            draw.line((x + step, top, x + step, top + size - 1), fill=diff_colour(delta))
    width = 0 if item.kind == "note" else (96 if item.kind == "gradient" else size) + 6
    ink = MUTED if item.kind == "note" else INK
    draw.text((x + width, top), item.label, font=font, fill=ink)


def draw_layout(lay: Layout) -> Image.Image:
    g = lay.geometry
    image = Image.new("RGB", (lay.width, lay.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((g.margin, g.margin), lay.title, font=_font(g.title_size), fill=INK)
    draw.text((g.margin, g.margin + 24), lay.subtitle, font=_font(g.font_size), fill=MUTED)
    _frames(draw, lay, _font(g.font_size))
    if not lay.frames:
        font = _font(g.font_size)
        draw.text((g.margin, g.row_top(0)), NO_SAMPLES, font=font, fill=MUTED)
    legend_top = g.row_top(lay.rows) + (g.legend - g.swatch) // 2
    for item in lay.legend:
        _legend_item(draw, item, legend_top, g)
    return image


def render_png(picture: Picture, geometry: Geometry | None = None) -> bytes:
    """The picture as PNG bytes, the same bytes for the same picture."""
    g = geometry or Geometry()
    image = draw_layout(layout(picture, g, _measure(g.font_size)))
    palette = image.quantize(PALETTE, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", compress_level=COMPRESS_LEVEL)
    return out.getvalue()


def warm() -> None:
    """Draw and encode one small picture: loads what the first drawing would (Pillow's PNG
    codec, the bundled font at both sizes, their advance widths)."""
    graph = FlameGraph(["total", "main"], [[0, 1, 0, 0], [0, 1, 1, 1]], 1)
    render_png(Picture(graph, "flamebot", "cpu", "samples"))
