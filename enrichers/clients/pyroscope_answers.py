"""Pyroscope's answers as data, pure: the Connect `Series`, `LabelValues` and `SelectSeries`
responses (reference/pyroscope-api.md §1.4) and the legacy label-values list. Every parser
raises ValueError on a malformed answer; the client turns that into a BackendError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PROFILE_TYPE_LABEL",
    "SERIES_LABELS",
    "SPY_LABEL",
    "ServiceProfiles",
    "parse_label_values",
    "parse_legacy_label_values",
    "parse_profile_types",
    "parse_series_points",
    "parse_service_profile_types",
]

PROFILE_TYPE_LABEL = "__profile_type__"
SPY_LABEL = "pyroscope_spy"
SERIES_LABELS = ["service_name", PROFILE_TYPE_LABEL, SPY_LABEL]


def _labels(doc: Any, key: str) -> list[Any]:
    value = doc.get(key, []) if isinstance(doc, Mapping) else None
    if not isinstance(value, list):
        raise ValueError(f"{key}: expected a list")
    return value


@dataclass(frozen=True)
class ServiceProfiles:
    """What Pyroscope has for one service: its profile type IDs and the `pyroscope_spy`
    values its agents wrote (how `enrichers.detection` tells the runtime)."""

    types: frozenset[str] = frozenset()
    spies: frozenset[str] = frozenset()


def _label_sets(doc: Any) -> list[dict[str, str]]:
    """The label sets of a Connect `Series` response (§1.4) as dicts."""
    found = []
    for labels_set in _labels(doc, "labelsSet"):
        pairs = {}
        for label in _labels(labels_set, "labels"):
            pair = (
                (label.get("name", ""), label.get("value", ""))
                if isinstance(label, Mapping)
                else ()
            )
            if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
                raise ValueError("labels: expected name/value strings")
            name, value = pair
            pairs[name] = value
        found.append(pairs)
    return found


def _profiles(label_sets: list[dict[str, str]]) -> ServiceProfiles:
    types = {labels[PROFILE_TYPE_LABEL] for labels in label_sets if labels.get(PROFILE_TYPE_LABEL)}
    spies = {labels[SPY_LABEL] for labels in label_sets if labels.get(SPY_LABEL)}
    return ServiceProfiles(frozenset(types), frozenset(spies))


def parse_profile_types(doc: Mapping[str, Any]) -> ServiceProfiles:
    """The `__profile_type__` and `pyroscope_spy` values of a Connect `Series` response."""
    return _profiles(_label_sets(doc))


def parse_service_profile_types(doc: Mapping[str, Any]) -> dict[str, ServiceProfiles]:
    """Per `service_name`, its profile types and spies, from a `Series` response that asked
    for those label names (§1.4); a label set without a service name is skipped."""
    by_service: dict[str, list[dict[str, str]]] = {}
    for labels in _label_sets(doc):
        if labels.get("service_name") and labels.get(PROFILE_TYPE_LABEL):
            by_service.setdefault(labels["service_name"], []).append(labels)
    return {service: _profiles(sets) for service, sets in by_service.items()}


def parse_label_values(doc: Mapping[str, Any]) -> list[str]:
    """The sorted values of a Connect `LabelValues` response."""
    names = _labels(doc, "names")
    if not all(isinstance(name, str) for name in names):
        raise ValueError("names: expected a list of strings")
    return sorted(names)


def parse_legacy_label_values(doc: Any) -> list[str]:
    """The sorted values of a legacy `/pyroscope/label-values` answer: a JSON array of
    strings, or `null` (Go's encoding of an empty list)."""
    if doc is None:
        return []
    if not isinstance(doc, list) or not all(isinstance(value, str) for value in doc):
        raise ValueError("expected a JSON array of strings")
    return sorted(set(doc))


def parse_series_points(doc: Mapping[str, Any]) -> list[list[tuple[int, float]]]:
    """Per series of a Connect `SelectSeries` response, its (timestamp ms, value) points."""
    series = []
    for one in _labels(doc, "series"):
        points = []
        for point in _labels(one, "points"):
            timestamp = point.get("timestamp", "0") if isinstance(point, Mapping) else None
            value = point.get("value", 0.0) if isinstance(point, Mapping) else None
            if not isinstance(timestamp, str | int) or not str(timestamp).isdigit():
                raise ValueError("points.timestamp: expected an int64")
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError("points.value: expected a number")
            points.append((int(timestamp), float(value)))
        series.append(points)
    return series
