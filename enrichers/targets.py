"""Which services an alert group is about, and the windows to look at (PRODUCT.md §2). Pure.

Service resolution, per alert:
  1. the first present label of `enrichment.service_labels` (service_name, service, app);
  2. else the host part of `instance` (`payment-service:9404` -> `payment-service`);
  3. then `enrichment.service_map` names its Pyroscope `service_name`.
The Prometheus selector matches the instance host on any port (so the JMX exporter on :9404
and the Vert.x metrics on :8080 both match) plus the alert's `match_labels`.

Windows: incident = [earliest startsAt of the service's firing alerts - window, now]; when
none of its alerts fires, it ends at their latest endsAt. Its end is rounded down to 30 s,
the cache's resolution, but never before the latest startsAt (then rounded up; a startsAt
more than 2 minutes ahead of the window's end is clock skew and left out); both ends are in
UTC whatever offset the alerts' times carry. Baseline = the incident window shifted back by
`baseline_offset`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Protocol

from enrichers.promql import instance_selector
from enrichers.result import Window
from enrichers.settings import EnrichmentSettings

__all__ = [
    "WINDOW_RESOLUTION_SECONDS",
    "AlertLike",
    "StickyNow",
    "Target",
    "address_of",
    "host_of",
    "incident_windows",
    "recent_windows",
    "resolve_service",
    "service_target",
    "targets_of",
]

WINDOW_RESOLUTION_SECONDS = 30
_RESOLUTION = timedelta(seconds=WINDOW_RESOLUTION_SECONDS)
# An alert firing for days is looked at over its last day (plus `window`): a longer profile
# would dilute the incident, and a nonsense startsAt (year 1) must not break the arithmetic.
LONGEST_INCIDENT = timedelta(days=1)
# Rounding (30 s) plus a sticky end (30 s more) put the end at most 60 s before the present.
CLOCK_SKEW = timedelta(minutes=2)


class AlertLike(Protocol):
    """What enrichment reads from an alert (receiver.models.Alert has it)."""

    @property
    def status(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime | None: ...
    @property
    def key(self) -> str: ...
    @property
    def annotations(self) -> Mapping[str, str]: ...
    @property
    def generator_url(self) -> str: ...


@dataclass(frozen=True)
class Target:
    """One service of an alert group, with its selectors and the alerts about it."""

    service: str
    pyroscope_service: str
    host: str
    match: tuple[tuple[str, str], ...]
    alerts: tuple[AlertLike, ...]

    @cached_property
    def selector(self) -> str:
        """The inside of a PromQL selector, label values escaped (built once per target)."""
        return instance_selector(self.host, dict(self.match))


def address_of(instance: str) -> str:
    """`instance` without its port, as it stands in the label: `[::1]:80` -> `[::1]`."""
    head, sep, port = instance.rpartition(":")
    if sep and port.isdigit() and head and (head.endswith("]") or ":" not in head):
        return head
    return instance


def host_of(instance: str) -> str:
    """`payment-service:9404` -> `payment-service`; `[::1]:80` -> `::1`; no port: as is."""
    address = address_of(instance)
    if address.startswith("[") and address.endswith("]"):
        return address[1:-1]
    return address


def resolve_service(labels: Mapping[str, str], settings: EnrichmentSettings) -> tuple[str, str]:
    """(service name, Pyroscope service_name) of one alert; ("", "") when unknown."""
    service = next((labels[k] for k in settings.service_labels if labels.get(k)), "")
    if not service and labels.get("instance"):
        service = host_of(labels["instance"])
    return service, settings.service_map.get(service, service)


def targets_of(alerts: Sequence[AlertLike], settings: EnrichmentSettings) -> list[Target]:
    """The services of a group, in order of first appearance, each with its alerts."""
    grouped: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[AlertLike]] = {}
    for alert in alerts:
        service, pyroscope = resolve_service(alert.labels, settings)
        if not service:
            continue
        match = tuple(
            (name, alert.labels[name]) for name in settings.match_labels if alert.labels.get(name)
        )
        grouped.setdefault((service, pyroscope, match), []).append(alert)
        grouped[(service, pyroscope, match)].sort(key=lambda a: a.starts_at)
    targets = []
    for (service, pyroscope, match), members in grouped.items():
        first = members[0].labels
        # The selector matches the instance label as written (an IPv6 host keeps brackets).
        host = address_of(first["instance"]) if first.get("instance") else service
        targets.append(Target(service, pyroscope, host, match, tuple(members)))
    return targets


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # a naive time is UTC, never the machine's zone
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset: before anything worth looking at
        return datetime.min.replace(tzinfo=UTC)


def _floor(moment: datetime) -> datetime:
    moment = _utc(moment)  # `+05:30` in, UTC out: every window is said in UTC
    seconds = int(moment.timestamp()) % WINDOW_RESOLUTION_SECONDS
    return moment.replace(microsecond=0) - timedelta(seconds=seconds)


def _ceil(moment: datetime) -> datetime:
    floor = _floor(moment)
    return floor if floor == _utc(moment) else floor + _RESOLUTION


class StickyNow:
    """The `now` to analyse a target at: its last analysis' window end while that analysis
    is younger than WINDOW_RESOLUTION_SECONDS, else the real now.

    For firing groups only (a resolved group's window ends at its `endsAt`). Window ends
    are rounded down to 30 s and so are cache keys (PRODUCT.md §2); without this, a storm
    that straddles a :00 or :30 boundary asks every backend query of every service twice,
    for windows 30 s apart. With it, the window end of a firing group is at most 60 s old
    instead of 30, and one storm costs one round of queries per service.
    """

    _MAX_KEYS = 10_000

    def __init__(self) -> None:
        self._chosen: dict[Hashable, tuple[datetime, datetime]] = {}  # key -> (end, chosen at)

    def now_for(self, key: Hashable, now: datetime) -> datetime:
        recent = self._chosen.get(key)
        if recent is not None and timedelta(0) <= now - recent[1] < _RESOLUTION:
            return recent[0]
        if len(self._chosen) >= self._MAX_KEYS:
            self._chosen = {k: v for k, v in self._chosen.items() if now - v[1] < _RESOLUTION}
        self._chosen[key] = (_floor(now), now)
        return now


def incident_windows(
    alerts: Sequence[AlertLike], settings: EnrichmentSettings, now: datetime
) -> tuple[Window, Window]:
    """(incident, baseline) windows for the alerts of one service."""
    firing = [a for a in alerts if a.status == "firing"]
    considered = firing or list(alerts)
    if firing:
        end = now
    else:
        ends = [a.ends_at for a in alerts if a.ends_at is not None]
        end = min(max(ends), now) if ends else now
    end = _floor(end)
    # The 30 s rounding and a sticky `now` (up to 60 s old) must not end the window before an
    # alert that just started: it always contains every startsAt it looks at.
    # A startsAt further ahead than CLOCK_SKEW is the clock of whoever wrote it: not waited for.
    latest = max(_utc(a.starts_at) for a in considered)
    if end < latest <= end + CLOCK_SKEW:
        end = _ceil(latest)
    earliest = max(min(_utc(a.starts_at) for a in considered), end - LONGEST_INCIDENT)
    start = min(earliest - settings.window, end - timedelta(seconds=WINDOW_RESOLUTION_SECONDS))
    offset = settings.baseline_offset
    return Window(start=start, end=end), Window(start=start - offset, end=end - offset)


def service_target(name: str, settings: EnrichmentSettings) -> Target:
    """The target for a service named on the command line (`triage --service NAME`).

    NAME may be the Prometheus host (`payment-service`) or the Pyroscope `service_name`
    (`bank-payment-service`); `service_map` links the two, unmapped names are both.
    """
    if name in settings.service_map:
        return Target(name, settings.service_map[name], name, (), ())
    reverse = {pyroscope: host for host, pyroscope in settings.service_map.items()}
    host = reverse.get(name, name)
    return Target(host, name, host, (), ())


def recent_windows(settings: EnrichmentSettings, now: datetime) -> tuple[Window, Window]:
    """(incident, baseline) for a look at the present: the last `window` before now."""
    end = _floor(now)
    start = end - settings.window
    offset = settings.baseline_offset
    return Window(start=start, end=end), Window(start=start - offset, end=end - offset)
