"""pprof profiles (`perftools.profiles.Profile`), pure: gzip protobuf or Connect JSON.

Only what ranking and flame graphs need is decoded: sample types, samples, locations'
lines, functions and the string table. Self time of a sample goes to the function of its
leaf location's first line, the innermost inlined frame (pyroscope-api.md §1.6, "pprof
alternative"). `flamegraph_from_pprof` merges the samples' stacks into a `FlameGraph`, as
Pyroscope does when it serves one. The protobuf reader is hand-written: varints and
length-delimited fields.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from enrichers.flamegraph_parse import FlameGraph
from enrichers.flamegraph_tree import graph_from_stacks

__all__ = [
    "PprofError",
    "Profile",
    "flamegraph_from_pprof",
    "parse_pprof",
    "parse_pprof_json",
    "stacks",
    "top_self_from_pprof",
]

_INT = re.compile(r"-?[0-9]{1,20}")


class PprofError(ValueError):
    """A pprof profile is malformed; the message says where."""


@dataclass(frozen=True)
class Profile:
    """The parts of a pprof profile that ranking and flame graphs need."""

    sample_types: list[tuple[str, str]]  # (type, unit)
    samples: list[tuple[list[int], list[int]]]  # (location ids, leaf first; values)
    # location id -> its lines' function ids, the innermost (inlined) first, the caller last
    functions: dict[int, list[int]] = field(default_factory=dict)
    function_names: dict[int, str] = field(default_factory=dict)


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
    lines: dict[int, list[int]] = {}
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
            found = [item for inner, _, item in _fields(value) if inner == 4]
            ids = [_scalars(line).get(1, 0) for line in found if isinstance(line, bytes)]
            if ids:
                lines[_scalars(value).get(1, 0)] = ids
        elif number == 5:  # function{id=1, name=2}
            scalars = _scalars(value)
            functions[scalars.get(1, 0)] = scalars.get(2, 0)
    return _resolve(strings, types, samples, lines, functions)


def _resolve(
    strings: list[str],
    types: list[tuple[int, int]],
    samples: list[tuple[list[int], list[int]]],
    lines: dict[int, list[int]],
    functions: dict[int, int],
) -> Profile:
    def text(index: int) -> str:
        if not 0 <= index < len(strings):
            raise PprofError(f"string index {index} out of range ({len(strings)} strings)")
        return strings[index]

    return Profile(
        sample_types=[(text(kind), text(unit)) for kind, unit in types],
        samples=samples,
        functions=lines,
        function_names={fid: text(name) for fid, name in functions.items()},
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
    lines = {
        _int(location, "id"): [_int(line, "functionId") for line in found]
        for location in _list(doc, "location")
        if (found := _list(location, "line"))
    }
    functions = {_int(f, "id"): _int(f, "name") for f in _list(doc, "function")}
    return _resolve(strings, types, samples, lines, functions)


# --- ranking ---------------------------------------------------------------------------


UNKNOWN = "[unknown]"  # a location or function the profile does not describe


def _sample_index(profile: Profile, sample_type: int | str) -> int:
    """The index of a sample type given as an index or a type name (`cpu`, `delay`)."""
    if isinstance(sample_type, str):
        kinds = [kind for kind, _ in profile.sample_types]
        if sample_type not in kinds:
            raise PprofError(f"no sample type {sample_type!r} (have {kinds})")
        sample_type = kinds.index(sample_type)
    if not 0 <= sample_type < len(profile.sample_types):
        raise PprofError(f"sample type index {sample_type} out of range")
    return sample_type


def _values(profile: Profile, sample_type: int | str) -> Iterator[tuple[list[int], int]]:
    """(location ids, leaf first; the value of `sample_type`) of every sample."""
    index = _sample_index(profile, sample_type)
    for locations, values in profile.samples:
        if index >= len(values):
            raise PprofError(
                f"a sample has {len(values)} values, expected {len(profile.sample_types)}"
            )
        yield locations, values[index]


def _name(profile: Profile, function: int | None) -> str:
    return profile.function_names.get(function, UNKNOWN) if function else UNKNOWN


def top_self_from_pprof(profile: Profile, sample_type: int | str) -> list[tuple[str, int, float]]:
    """(function, self value, % of all samples) by descending value, ties in sample order.

    `sample_type` is an index into the sample types or a type name such as `cpu` or `delay`.
    """
    acc: dict[str, int] = {}
    for locations, value in _values(profile, sample_type):
        leaf = profile.functions.get(locations[0]) if locations else None
        name = _name(profile, leaf[0] if leaf else None)
        acc[name] = acc.get(name, 0) + value
    total = sum(acc.values())
    ranked = sorted(acc.items(), key=lambda item: -item[1])
    return [(name, value, 100.0 * value / total if total else 0.0) for name, value in ranked]


def _stack(profile: Profile, locations: list[int]) -> list[str]:
    """A sample's frames, root first: locations from the last (the outermost caller) to the
    leaf, each location's inlined lines from its caller line to its innermost one."""
    frames: list[str] = []
    for location in reversed(locations):
        functions = profile.functions.get(location)
        if not functions:
            frames.append(UNKNOWN)
            continue
        frames += [_name(profile, function) for function in reversed(functions)]
    return frames


def flamegraph_from_pprof(profile: Profile, sample_type: int | str) -> FlameGraph:
    """The flame graph of one sample type: every sample's stack merged root first, in the
    single format (pyroscope-api.md §1.6) with `graph_from_stacks`.

    Samples without a positive value are left out: a flame graph has no negative frames
    (a delta profile's negative values only exist as differences).
    """
    stacks = (
        (_stack(profile, locations) or [UNKNOWN], value)
        for locations, value in _values(profile, sample_type)
        if value > 0
    )
    return graph_from_stacks(stacks)


def stacks(profile: Profile, sample_type: int | str) -> list[tuple[tuple[str, ...], int]]:
    """Every sample's stack, root first (inlined frames expanded, callers before callees),
    with its value of `sample_type`, in sample order; a function without a name is
    `[unknown]`. What `flamegraph_from_pprof` merges, before merging."""
    return [
        (tuple(_stack(profile, locations) or [UNKNOWN]), value)
        for locations, value in _values(profile, sample_type)
    ]
