"""Colours of the pictures, pure: by frame class, or by share change in a diff.

Class colours (the legend names them): application code warm orange, libraries green,
the runtime (JDK, Go standard library, native code) blue-grey, the root grey. Each frame
varies its base colour a little by a checksum of its name, so neighbours stay apart and the
same function has the same colour in every picture.

Diff colours: a frame whose share of the total grew is red, one that shrank blue, the
intensity the square root of the change over DIFF_FULL_PP (so 1 pp already shows, and 25 pp
or more is full colour); unchanged frames are light grey.
"""

from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from enrichers.pictures.layout import Frame

__all__ = [
    "BACKGROUND",
    "CLASS_COLOURS",
    "CULPRIT",
    "DIFF_FULL_PP",
    "GREW",
    "HOTSPOT",
    "INK",
    "MUTED",
    "RGB",
    "SHRANK",
    "UNCHANGED",
    "class_colour",
    "diff_colour",
    "fill_of",
    "hex_colour",
    "text_colour",
]

RGB = tuple[int, int, int]

BACKGROUND: RGB = (255, 255, 255)
INK: RGB = (24, 24, 27)  # text on light colours, titles
PAPER: RGB = (255, 255, 255)  # text on dark colours
MUTED: RGB = (90, 90, 98)  # secondary text
HOTSPOT: RGB = (0, 0, 0)
CULPRIT: RGB = (126, 34, 206)  # purple: apart from both the class and the diff colours
CLASS_COLOURS: dict[str, RGB] = {
    "app": (242, 142, 43),
    "library": (89, 175, 110),
    "runtime": (126, 152, 204),
    "root": (196, 196, 202),
}
UNCHANGED: RGB = (228, 228, 232)
GREW: RGB = (214, 39, 40)
SHRANK: RGB = (31, 100, 200)
DIFF_FULL_PP = 25.0
_VARIATION = 0.14  # +-14 % brightness by name


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return (r, g, bl)


def class_colour(key: str, name: str) -> RGB:
    """The colour of a frame of class `key` (app, library, runtime, root) named `name`."""
    base = CLASS_COLOURS.get(key, CLASS_COLOURS["library"])
    if key == "root":
        return base
    shade = (zlib.crc32(name.encode("utf-8")) % 1001) / 1000.0 * 2 - 1  # -1 .. 1
    target = (255, 255, 255) if shade > 0 else (0, 0, 0)
    return _mix(base, target, abs(shade) * _VARIATION)


def diff_colour(delta_pp: float) -> RGB:
    """Red for a share that grew by `delta_pp` points, blue for one that shrank."""
    strength = min(1.0, math.sqrt(abs(delta_pp) / DIFF_FULL_PP))
    return _mix(UNCHANGED, GREW if delta_pp > 0 else SHRANK, strength)


def fill_of(frame: Frame) -> RGB:
    """A frame's fill: its share change in a diff (the root stays grey), else its class."""
    if frame.delta_pp is not None and frame.depth > 0:
        return diff_colour(frame.delta_pp)
    return class_colour(frame.colour, frame.name)


def text_colour(fill: RGB) -> RGB:
    """Dark ink on light fills, white on dark ones (relative luminance, sRGB weights)."""
    r, g, b = fill
    return INK if 0.2126 * r + 0.7152 * g + 0.0722 * b >= 140 else PAPER


def hex_colour(colour: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)
