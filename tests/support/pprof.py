"""pprof profiles (`perftools.profiles.Profile`) for the tests: gzip protobuf or Connect JSON.

Only what ranking needs is decoded: sample types, samples, locations' lines, functions and
the string table. Self time of a sample goes to the function of its leaf location's first
line, the innermost inlined frame (pyroscope-api.md §1.6, "pprof alternative");
`stacks()` gives every sample's whole stack, root first, as Pyroscope stores it. The
protobuf reader is hand-written: varints and length-delimited fields.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PprofError",
    "Profile",
    "parse_pprof",
    "parse_pprof_json",
    "sample_index",
    "stacks",
    "top_self_from_pprof",
]

_INT = re.compile(r"-?[0-9]{1,20}")


class PprofError(ValueError):
    """A pprof profile is malformed; the message says where."""


@dataclass(frozen=True)
class Profile:
    """The parts of a pprof profile that self-time ranking needs."""

    sample_types: list[tuple[str, str]]  # (type, unit)
    samples: list[tuple[list[int], list[int]]]  # (location ids, leaf first; values)
    leaf_function: dict[int, int] = field(default_factory=dict)  # location id -> function id
    function_names: dict[int, str] = field(default_factory=dict)
    # location id -> the function ids of its lines, innermost (inlined) first
    location_functions: dict[int, list[int]] = field(default_factory=dict)


# --- protobuf --------------------------------------------------------------------------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise PprofError("truncated or overlong varint")
        byte = data[pos]
        result |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if byte < 0x80:
            return result, pos


def _fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of one message; varints as ints, others as bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, wire, value
            continue
        if wire == 2:
            size, pos = _varint(data, pos)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
        else:
            raise PprofError(f"unsupported wire type {wire} in field {number}")
        if pos + size > len(data):
            raise PprofError(f"field {number} runs past the end of the message")
        yield number, wire, data[pos : pos + size]
        pos += size


def _repeated(value: int | bytes) -> list[int]:
    """A repeated integer field, packed (bytes) or not (one varint)."""
    if isinstance(value, int):
        return [value]
    values, pos = [], 0
    while pos < len(value):
        number, pos = _varint(value, pos)
        values.append(number)
    return values


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _scalars(message: bytes) -> dict[int, int]:
    return {number: value for number, _, value in _fields(message) if isinstance(value, int)}


def parse_pprof(data: bytes) -> Profile:
    """A pprof profile from its protobuf bytes, gzip-compressed or not."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise PprofError(f"bad gzip data: {type(exc).__name__}") from None
    strings: list[str] = []
    types: list[tuple[int, int]] = []
    samples: list[tuple[list[int], list[int]]] = []
    leaf: dict[int, int] = {}
    lines_of: dict[int, list[int]] = {}
    functions: dict[int, int] = {}
    for number, _, value in _fields(data):
        if not isinstance(value, bytes):
            continue
        if number == 6:  # string_table
            strings.append(value.decode("utf-8", "replace"))
        elif number == 1:  # sample_type: ValueType{type=1, unit=2}
            scalars = _scalars(value)
            types.append((scalars.get(1, 0), scalars.get(2, 0)))
        elif number == 2:  # sample{location_id=1, value=2}
            ids: list[int] = []
            values: list[int] = []
            for inner, _, item in _fields(value):
                if inner in (1, 2):
                    target = ids if inner == 1 else values
                    target += _repeated(item)
            samples.append((ids, [_signed(v) for v in values]))
        elif number == 4:  # location{id=1, line=4: Line{function_id=1}}
            lines = [item for inner, _, item in _fields(value) if inner == 4]
            ids = [_scalars(line).get(1, 0) for line in lines if isinstance(line, bytes)]
            if ids:
                leaf[_scalars(value).get(1, 0)] = ids[0]
                lines_of[_scalars(value).get(1, 0)] = ids
        elif number == 5:  # function{id=1, name=2}
            scalars = _scalars(value)
            functions[scalars.get(1, 0)] = scalars.get(2, 0)
    return _resolve(strings, types, samples, leaf, functions, lines_of)


def _resolve(
    strings: list[str],
    types: list[tuple[int, int]],
    samples: list[tuple[list[int], list[int]]],
    leaf: dict[int, int],
    functions: dict[int, int],
    lines_of: dict[int, list[int]],
) -> Profile:
    def text(index: int) -> str:
        if not 0 <= index < len(strings):
            raise PprofError(f"string index {index} out of range ({len(strings)} strings)")
        return strings[index]

    return Profile(
        sample_types=[(text(kind), text(unit)) for kind, unit in types],
        samples=samples,
        leaf_function=leaf,
        function_names={fid: text(name) for fid, name in functions.items()},
        location_functions=lines_of,
    )


# --- JSON ------------------------------------------------------------------------------


def _int(doc: Any, key: str) -> int:
    """`doc[key]` as an integer (an int64 string or a number); missing is 0 (proto3 JSON)."""
    value = doc.get(key, 0) if isinstance(doc, Mapping) else None
    if isinstance(value, str) and _INT.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise PprofError(f"{key}: expected an integer, got {type(value).__name__}")


def _list(doc: Any, key: str) -> list[Any]:
    value = doc.get(key, []) if isinstance(doc, Mapping) else None
    if not isinstance(value, list):
        raise PprofError(f"{key}: expected a list")
    return value


def _ints(doc: Any, key: str) -> list[int]:
    return [_int({key: value}, key) for value in _list(doc, key)]


def parse_pprof_json(doc: Mapping[str, Any]) -> Profile:
    """A Connect `SelectMergeProfile` response: pprof as proto3 JSON (camelCase, int64 strings)."""
    strings = _list(doc, "stringTable")
    if not all(isinstance(s, str) for s in strings):
        raise PprofError("stringTable: expected a list of strings")
    types = [(_int(t, "type"), _int(t, "unit")) for t in _list(doc, "sampleType")]
    samples = [(_ints(s, "locationId"), _ints(s, "value")) for s in _list(doc, "sample")]
    lines_of = {
        _int(location, "id"): [_int(line, "functionId") for line in lines]
        for location in _list(doc, "location")
        if (lines := _list(location, "line"))
    }
    leaf = {location: ids[0] for location, ids in lines_of.items()}
    functions = {_int(f, "id"): _int(f, "name") for f in _list(doc, "function")}
    return _resolve(strings, types, samples, leaf, functions, lines_of)


# --- ranking ---------------------------------------------------------------------------


def stacks(profile: Profile, sample_type: int | str) -> list[tuple[tuple[str, ...], int]]:
    """Every sample's stack, root first (inlined frames expanded, callers before callees),
    with its value of `sample_type`; a function without a name is `[unknown]`."""
    index = sample_index(profile, sample_type)
    found = []
    for locations, values in profile.samples:
        frames: list[str] = []
        for location in reversed(locations):
            for function in reversed(profile.location_functions.get(location, [0])):
                name = profile.function_names.get(function, "") if function else ""
                frames.append(name or "[unknown]")
        found.append((tuple(frames) or ("[unknown]",), values[index]))
    return found


def sample_index(profile: Profile, sample_type: int | str) -> int:
    """The index of a sample type given by index or by name (`cpu`, `delay`)."""
    if isinstance(sample_type, str):
        kinds = [kind for kind, _ in profile.sample_types]
        if sample_type not in kinds:
            raise PprofError(f"no sample type {sample_type!r} (have {kinds})")
        sample_type = kinds.index(sample_type)
    if not 0 <= sample_type < len(profile.sample_types):
        raise PprofError(f"sample type index {sample_type} out of range")
    return sample_type


def top_self_from_pprof(profile: Profile, sample_type: int | str) -> list[tuple[str, int, float]]:
    """(function, self value, % of all samples) by descending value, ties in sample order.

    `sample_type` is an index into the sample types or a type name such as `cpu` or `delay`.
    """
    sample_type = sample_index(profile, sample_type)
    acc: dict[str, int] = {}
    for locations, values in profile.samples:
        if sample_type >= len(values):
            raise PprofError(
                f"a sample has {len(values)} values, expected {len(profile.sample_types)}"
            )
        function = profile.leaf_function.get(locations[0]) if locations else None
        name = profile.function_names.get(function, "[unknown]") if function else "[unknown]"
        acc[name] = acc.get(name, 0) + values[sample_type]
    total = sum(acc.values())
    ranked = sorted(acc.items(), key=lambda item: -item[1])
    return [(name, value, 100.0 * value / total if total else 0.0) for name, value in ranked]
