"""Time helpers shared by the clients, the links and the reports, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["epoch_ms", "iso_time"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, rounded down; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def iso_time(moment: datetime) -> str:
    """`2026-11-25T17:26:30Z`: RFC 3339 in UTC."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
