"""Time helpers shared by the clients, the links and the commands, pure."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from enrichers.result import Window

__all__ = ["TIME_FORMS", "Clock", "epoch_ms", "iso_time", "parse_time", "utc_now", "window_line"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_SECONDS = re.compile(r"[0-9]{1,20}(?:\.[0-9]+)?")
_RELATIVE = re.compile(r"now(?:-(.+))?")
# Epoch seconds stay below this until the year 5138; a larger number is milliseconds or more.
_LARGEST_EPOCH_SECONDS = 1e11
TIME_FORMS = "RFC 3339 (2026-11-25T17:00:00Z), epoch seconds (1795626000) or now-2h"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now in UTC: the clock of the commands and the enricher unless one is given."""
    return datetime.now(UTC)


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


def _ago(text: str, span: str, now: datetime) -> datetime:
    from enrichers.settings import parse_duration  # settings is heavier; only for now-<span>

    try:
        return now - parse_duration(span)
    except ValueError:
        raise ValueError(
            f"time {text!r}: {span!r} is not a duration such as 15m, 2h or 1h30m"
        ) from None


def parse_time(text: str, now: datetime) -> datetime:
    """`text` as an aware UTC datetime: RFC 3339 with a zone, epoch seconds, `now` or
    `now-<duration>` (durations as in the config: `90s`, `15m`, `2h`, `1d`, `1h30m`).

    `now` is the caller's clock (a naive `now` is UTC). Raises ValueError naming the text
    and the accepted forms; a number too large for epoch seconds (milliseconds) is refused
    rather than read as a date thousands of years away.
    """
    stripped = text.strip()
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    relative = _RELATIVE.fullmatch(stripped)
    if relative:
        return _ago(text, relative.group(1), now) if relative.group(1) else now
    if _EPOCH_SECONDS.fullmatch(stripped):
        seconds = float(stripped)
        if seconds >= _LARGEST_EPOCH_SECONDS:
            raise ValueError(f"time {text!r}: too large for epoch seconds (milliseconds?)")
        return _EPOCH + timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f"time {text!r}: expected {TIME_FORMS}") from None
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r}: RFC 3339 needs a zone (Z or +02:00)")
    return moment.astimezone(UTC)
