"""The words of a picture, pure: title, subtitle, tooltips, legend labels."""

from __future__ import annotations

from enrichers.pictures.colours import DIFF_FULL_PP
from enrichers.pictures.picture import Picture
from enrichers.times import window_line
from enrichers.units import format_value

__all__ = [
    "GRADIENT_LABEL",
    "KIND_NAMES",
    "MERGED_NOTE",
    "NO_SAMPLES",
    "subtitle",
    "title",
    "tooltip",
]

# The profile kind in plain words, by the profile type ID's first part (§2 of the reference).
KIND_NAMES = {
    "process_cpu": "CPU",
    "cpu": "CPU",
    "memory": "allocations",
    "alloc_in_new_tlab_bytes": "allocations",
    "mutex": "lock contention",
    "block": "blocking",
    "wall": "wall-clock time",
    "goroutines": "goroutines",
}
GRADIENT_LABEL = f"blue: share of the total shrank · red: grew (full at ±{DIFF_FULL_PP:g} pp)"
MERGED_NOTE = "frames under 0.5% of the total are merged into their parent"
NO_SAMPLES = "no samples in the window"


def title(picture: Picture) -> str:
    """`payment-service · CPU · process_cpu:cpu:nanoseconds:cpu:nanoseconds`."""
    kind = KIND_NAMES.get(picture.profile.split(":", 1)[0])
    parts = [picture.service, *([kind] if kind else []), picture.profile]
    return " · ".join(parts)


def _total(picture: Picture, value: int) -> str:
    """`738.00 s`, `4.1 GiB`; a count says what it counts: `48,000 contentions`."""
    text = format_value(value * picture.scale, picture.unit)
    parts = picture.profile.split(":")
    if picture.unit == "count" and len(parts) >= 3:
        text += f" {parts[1]}"
    return text


def subtitle(picture: Picture) -> str:
    """The window in UTC and the total; for a diff, the baseline window and its total;
    the picture's note last."""
    parts = [window_line(picture.window)] if picture.window is not None else []
    parts.append(f"{_total(picture, picture.graph.total)} in total")
    if picture.diff and picture.baseline is not None:
        since = window_line(picture.baseline_window) if picture.baseline_window else "baseline"
        parts.append(
            f"colour: change of each frame's share since {since}"
            f" ({_total(picture, picture.baseline.total)})"
        )
    if picture.note:
        parts.append(picture.note)
    return " · ".join(parts)


def tooltip(name: str, self_pct: float, total_pct: float, delta_pp: float | None) -> str:
    """`com.example.Foo.bar` / `self 34.2% · total 52.0% · +35.4 pp`."""
    numbers = f"self {self_pct:.1f}% · total {total_pct:.1f}%"
    if delta_pp is not None:
        numbers += f" · {delta_pp:+.1f} pp since the baseline"
    return f"{name}\n{numbers}"
