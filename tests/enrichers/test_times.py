"""Time helpers: epoch milliseconds and RFC 3339 in UTC."""

from __future__ import annotations

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


NOW = datetime(2026, 11, 25, 17, 26, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("now-2h", NOW - timedelta(hours=2)),
        ("now - 1h30m", NOW - timedelta(hours=1, minutes=30)),
        ("now+5m", NOW + timedelta(minutes=5)),
        ("now-90s", NOW - timedelta(seconds=90)),
        ("1795627800", datetime(2026, 11, 25, 17, 30, tzinfo=UTC)),
        ("1795627800.5", datetime(2026, 11, 25, 17, 30, 0, 500_000, tzinfo=UTC)),
        ("2026-11-25T17:10:00Z", datetime(2026, 11, 25, 17, 10, tzinfo=UTC)),
        ("2026-11-25T18:10:00+01:00", datetime(2026, 11, 25, 17, 10, tzinfo=UTC)),
        ("2026-11-25 17:10:00.25z", datetime(2026, 11, 25, 17, 10, 0, 250_000, tzinfo=UTC)),
    ],
)
def test_parse_time_accepts_rfc3339_epoch_seconds_and_now_offsets(
    text: str, expected: datetime
) -> None:
    """Each accepted form gives the same instant, in UTC."""
    parsed = parse_time(text, NOW)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["", "x", "now-2x", "now-", "2026-11-25T17:10:00", "2026-13-25T17:10:00Z", "1e9"]
)
def test_parse_time_rejects_anything_else_naming_the_forms(text: str) -> None:
    """A naive time, a bad unit or a bad date is a ValueError that lists what is accepted."""
    with pytest.raises(ValueError, match=r"^not a time: ") as caught:
        parse_time(text, NOW)
    assert str(caught.value) == (
        f"not a time: {text!r} (expected RFC 3339 (2026-11-25T17:10:00Z),"
        " epoch seconds (1795627800) or now-2h)"
    )
