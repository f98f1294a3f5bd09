"""Profile values in their units, for people: `252.40 s`, `481.2 MiB`, `34,224`. Pure."""

from __future__ import annotations

__all__ = ["format_value"]

_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_value(value: float, unit: str) -> str:
    """`252.40 s`, `481.2 MiB`, `34,224`: a value in its profile's display unit
    (`enrichers.flamegraph.profile_unit`)."""
    if unit == "seconds":
        return f"{value:,.2f} s"
    if unit == "bytes":
        power = 0
        while abs(value) >= 1024 and power < len(_BINARY) - 1:
            value, power = value / 1024, power + 1
        return f"{value:,.0f} {_BINARY[0]}" if power == 0 else f"{value:,.1f} {_BINARY[power]}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:g} {unit}"
