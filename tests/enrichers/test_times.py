"""Time helpers: epoch milliseconds and RFC 3339 in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from enrichers.times import epoch_ms, iso_time, parse_time


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


NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


def test_parse_time_reads_rfc3339_epoch_seconds_and_now() -> None:
    """Every accepted form comes back as an aware UTC datetime."""
    assert parse_time("2026-11-25T15:30:00Z", NOW) == datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    assert parse_time("2026-11-25T17:30:00+02:00", NOW) == datetime(
        2026, 11, 25, 15, 30, tzinfo=UTC
    )
    assert parse_time("1732540800", NOW) == datetime(2024, 11, 25, 13, 20, tzinfo=UTC)
    assert parse_time("1732540800.5", NOW) == datetime(2024, 11, 25, 13, 20, 0, 500_000, UTC)
    assert parse_time("now", NOW) == NOW
    assert parse_time(" now-2h ", NOW) == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert parse_time("now-1h30m", NOW) == datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    assert parse_time("now-1d", NOW.replace(tzinfo=None)) == datetime(2026, 11, 24, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "time '': expected RFC 3339"),
        ("yesterday", "time 'yesterday': expected RFC 3339"),
        ("2026-11-25T15:30:00", "time '2026-11-25T15:30:00': RFC 3339 needs a zone"),
        ("2026-11-25", "time '2026-11-25': RFC 3339 needs a zone"),
        ("now-2x", "time 'now-2x': '2x' is not a duration such as 15m, 2h or 1h30m"),
        ("now+2h", "time 'now+2h': expected RFC 3339"),
        ("1732540800000", "time '1732540800000': too large for epoch seconds (milliseconds?)"),
    ],
)
def test_parse_time_refuses_with_a_clear_message(text: str, message: str) -> None:
    """A bad time raises ValueError naming the text and what was expected."""
    with pytest.raises(ValueError, match=r"^" + re.escape(message)):
        parse_time(text, NOW)
