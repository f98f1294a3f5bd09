"""Frame labels that fit their rectangle, pure: the name, else its short form, else cut.

Widths come from a `Measure` (text -> pixels) that the backend supplies: the PNG backend
sums the bundled font's advance widths, the SVG backend assumes a monospace font.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["ELLIPSIS", "Measure", "fit_label", "short_name"]

Measure = Callable[[str], float]
ELLIPSIS = "…"
MIN_KEPT = 2  # a cut label keeps at least this many characters before the ellipsis
_NATIVE = re.compile(r"(?:lib|ld-)[\w+-]*\.so(?:\.\d+)*\.(.+)")  # libc.so.6.__read


def short_name(name: str) -> str:
    """The name without its package or library: `com.example.PaymentVerticle.sha256` ->
    `PaymentVerticle.sha256`; `github.com/x/y/pkg.(*T).Run` -> `pkg.(*T).Run`;
    `src/app/views.py:12 - render` -> `views.py:12 - render`; `libc.so.6.__read` ->
    `__read`; `Asm!Ns.Type.Method(int32,bool)` -> `Type.Method(…)`. Other names (C++,
    `[unknown]`) are kept."""
    native = _NATIVE.fullmatch(name)
    if native:
        return native.group(1)
    head, paren, _ = name.partition("(")
    if paren and head and not head.endswith("."):  # arguments (.NET, C++): drop them
        return short_name(head) + "(" + ELLIPSIS + ")"
    if "/" in name:  # a package or file path: its last element is short already
        return name.rsplit("/", 1)[-1]
    parts = name.split(".")
    if len(parts) > 2 and all(parts) and " " not in name:
        return ".".join(parts[-2:])
    return name


def _cut(text: str, room: float, measure: Measure) -> str:
    """The longest prefix of `text` that fits `room` with an ellipsis; empty if under
    MIN_KEPT characters would remain."""
    low, high = 0, len(text)
    while low < high:  # the longest prefix length whose cut form fits
        middle = (low + high + 1) // 2
        if measure(text[:middle] + ELLIPSIS) <= room:
            low = middle
        else:
            high = middle - 1
    kept = text[:low].rstrip("._:/ ")  # `Message…`, not `Message.…`
    return kept + ELLIPSIS if len(kept) >= MIN_KEPT else ""


def fit_label(name: str, room: float, measure: Measure) -> str:
    """What a frame of `room` pixels shows: the whole name, its short form, or the short
    form cut with an ellipsis; empty when not even a few characters fit."""
    if measure(name) <= room:
        return name
    short = short_name(name)
    if short != name and measure(short) <= room:
        return short
    return _cut(short, room, measure)
