"""Reading flamebot's /metrics as numbers, and what moved between two readings."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["moved", "parse_metrics"]

# Gauges and histogram buckets/sums are asserted on their own; `_created` is a timestamp.
_SKIPPED_SUFFIXES = ("_created", "_bucket", "_sum")
_SKIPPED_NAMES = ("flamebot_queue_depth",)


def _counted(sample: str) -> bool:
    name = sample.split("{", 1)[0]
    return not name.endswith(_SKIPPED_SUFFIXES) and name not in _SKIPPED_NAMES


def moved(
    before: Mapping[str, float], after: Mapping[str, float], only: tuple[str, ...] = ("",)
) -> dict[str, float]:
    """Every counter (and histogram count) that changed from `before` to `after`, by how
    much; `only` keeps the metrics whose names start with one of its prefixes."""
    changes = {}
    for sample, value in after.items():
        if not sample.startswith(only):
            continue
        if _counted(sample) and value != before.get(sample, 0.0):
            changes[sample] = value - before.get(sample, 0.0)
    return changes


def parse_metrics(text: str) -> dict[str, float]:
    """The samples of a Prometheus text exposition as {"name{labels}": value}."""
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples
