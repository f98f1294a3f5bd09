"""Time helpers shared by the clients, the links and the commands, pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from enrichers.result import Window
from enrichers.settings import parse_duration

__all__ = ["epoch_ms", "iso_time", "parse_time", "window_line"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RELATIVE = re.compile(r"now(?:\s*([+-])\s*(\S+))?")
_EPOCH_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]+)?")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"  # a zone is required: a naive time is ambiguous
)
TIME_FORMS = "RFC 3339 (2026-11-25T17:10:00Z), epoch seconds (1795627800) or now-2h"


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, rounded down; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def iso_time(moment: datetime) -> str:
    """`2026-11-25T17:26:30Z`: RFC 3339 in UTC."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def window_line(window: Window) -> str:
    """`2026-11-25 17:10:32 to 17:26:31 UTC`."""
    start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)
    return f"{start:%Y-%m-%d %H:%M:%S} to {end:%H:%M:%S} UTC"


def parse_time(text: str, now: datetime) -> datetime:
    """A point in time as the command line takes it, in UTC: RFC 3339 with a zone
    (`2026-11-25T17:10:00Z`, `...+01:00`), epoch seconds (`1795627800`, `1795627800.5`),
    or `now` with an optional offset (`now-2h`, `now-1h30m`, `now+5m`; units d, h, m, s,
    ms). Anything else raises ValueError naming the accepted forms."""
    value = text.strip()
    relative = _RELATIVE.fullmatch(value)
    try:
        if relative:
            sign, duration = relative.groups()
            offset = parse_duration(duration) if duration else timedelta(0)
            return (now - offset if sign == "-" else now + offset).astimezone(UTC)
        if _EPOCH_SECONDS.fullmatch(value):
            return _EPOCH + timedelta(seconds=float(value))
        if _RFC3339.fullmatch(value):
            return datetime.fromisoformat(value.replace("z", "Z")).astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    raise ValueError(f"not a time: {text!r} (expected {TIME_FORMS})")
