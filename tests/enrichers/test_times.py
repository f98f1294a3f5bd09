"""Time helpers: epoch milliseconds and RFC 3339 in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from enrichers.times import epoch_ms, iso_time


def test_epoch_ms() -> None:
    """Milliseconds since the epoch, rounded down, from aware or naive (UTC) times."""
    assert epoch_ms(datetime(2024, 11, 25, 13, 20, tzinfo=UTC)) == 1732540800000
    assert epoch_ms(datetime(2024, 11, 25, 13, 20, 0, 999_999)) == 1732540800999
    east = timezone(timedelta(hours=2))
    assert epoch_ms(datetime(2024, 11, 25, 15, 20, tzinfo=east)) == 1732540800000


def test_iso_time_is_utc_with_a_z() -> None:
    """Any offset is converted to UTC and written with a `Z`."""
    india = timezone(timedelta(hours=5, minutes=30))
    assert iso_time(datetime(2026, 11, 25, 10, 1, 20, tzinfo=india)) == "2026-11-25T04:31:20Z"
