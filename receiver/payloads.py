"""Alertmanager v4 webhook bodies, built the way Alertmanager builds them.

`flamebot demo` and `flamebot send-test` post these, and the tests and benchmarks build
theirs here too, so there is one idea of what Alertmanager sends (`receiver.models` reads
it back). What Alertmanager derives, this derives the same way:

- an alert's `fingerprint` is its label set's (prometheus/common `LabelSet.Fingerprint`:
  FNV-1a 64 over the sorted names and values, each followed by the byte 0xff);
- the group's `groupLabels` are the alerts' values of the route's `group_by` labels, its
  `groupKey` is `{}:` (the root route) and those labels as `{name="value", ...}`, sorted;
- `commonLabels`/`commonAnnotations` are the pairs every alert shares; the group is
  `firing` while any alert is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["UNSET_TIME", "alert", "fingerprint_of", "group", "rfc3339"]

UNSET_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert still firing
_FNV_OFFSET, _FNV_PRIME, _MASK = 0xCBF29CE484222325, 0x100000001B3, 2**64 - 1


def rfc3339(moment: datetime) -> str:
    """UTC with a `Z`, fractions of a second only when there are any (as Go prints them)."""
    moment = moment.astimezone(UTC)
    fraction = f".{moment.microsecond:06d}" if moment.microsecond else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set, as 16 hex digits."""
    value = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode() + b"\xff":
                value = ((value ^ byte) * _FNV_PRIME) & _MASK
    return f"{value:016x}"


def alert(
    labels: Mapping[str, str],
    starts_at: datetime,
    *,
    ends_at: datetime | None = None,
    annotations: Mapping[str, str] | None = None,
    generator_url: str = "",
    fingerprint: str | None = None,
) -> dict[str, Any]:
    """One alert of a webhook: firing, or resolved at `ends_at`; its fingerprint is its
    labels' unless `fingerprint` is given (a scenario that names its own)."""
    return {
        "status": "firing" if ends_at is None else "resolved",
        "labels": dict(labels),
        "annotations": dict(annotations or {}),
        "startsAt": rfc3339(starts_at),
        "endsAt": UNSET_TIME if ends_at is None else rfc3339(ends_at),
        "generatorURL": generator_url,
        "fingerprint": fingerprint or fingerprint_of(labels),
    }


def _common(mappings: Sequence[Mapping[str, str]]) -> dict[str, str]:
    shared = dict(mappings[0])
    for mapping in mappings[1:]:
        shared = {k: v for k, v in shared.items() if mapping.get(k) == v}
    return shared


def group(
    alerts: Sequence[Mapping[str, Any]],
    group_by: Sequence[str],
    *,
    receiver: str = "flamebot",
    external_url: str = "",
    group_key: str | None = None,
) -> dict[str, Any]:
    """The webhook of one alert group, grouped by the `group_by` labels of the root route.

    `group_key` stands in for Alertmanager's when the sender needs another one (send-test
    makes every sample a group of its own)."""
    first = alerts[0]["labels"]
    group_labels = {name: first[name] for name in sorted(group_by) if name in first}
    inside = ", ".join(
        f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in group_labels.items()
    )
    return {
        "receiver": receiver,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "alerts": [dict(a) for a in alerts],
        "groupLabels": group_labels,
        "commonLabels": _common([a["labels"] for a in alerts]),
        "commonAnnotations": _common([a["annotations"] for a in alerts]),
        "externalURL": external_url,
        "version": "4",
        "groupKey": group_key or f"{{}}:{{{inside}}}",
        "truncatedAlerts": 0,
    }
