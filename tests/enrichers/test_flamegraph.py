"""Flame graph and pprof parsing, ranking, frame classes and encoding on hand-made data."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from enrichers.flamegraph import (
    FlameGraph,
    FlameGraphError,
    TopFunctions,
    biggest_riser,
    function_changes,
    parse_connect,
    parse_render,
    parse_render_diff,
    profile_unit,
    self_percentages,
    top_functions,
)
from enrichers.frames import PLAIN
from enrichers.pprof import PprofError, parse_pprof, parse_pprof_json, top_self_from_pprof
from enrichers.presets import JVM, PRESETS
from enrichers.presets.jvm import normalize_jfr
from enrichers.result import FunctionChange, FunctionStat
from receiver.demo.folded import encode_flamegraph


def graph_of(stacks: dict[tuple[str, ...], int]) -> FlameGraph:
    return parse_connect({"flamegraph": encode_flamegraph(stacks)})


def top(graph: FlameGraph, **kwargs: Any) -> TopFunctions:
    options: dict[str, Any] = {"n": 10, "unit": "samples", "frames": PLAIN} | kwargs
    return top_functions(graph, **options)


def stat(name: str, self_pct: float, total_pct: float, value: float, cls: str = "app") -> Any:
    return FunctionStat(
        function=name,
        self_pct=self_pct,
        total_pct=total_pct,
        value=value,
        unit="samples",
        frame_class=cls,  # type: ignore[arg-type]
    )


# --- parsing -----------------------------------------------------------------------------


def test_parse_connect_reads_int64_strings() -> None:
    """Connect levels and total arrive as strings and become integers."""
    doc = {
        "flamegraph": {
            "names": ["total", "main"],
            "levels": [{"values": ["0", "10", "0", "0"]}, {"values": ["0", "10", "10", "1"]}],
            "total": "10",
            "maxSelf": "10",
        }
    }
    assert parse_connect(doc) == FlameGraph(["total", "main"], [[0, 10, 0, 0], [0, 10, 10, 1]], 10)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({}, FlameGraph([], [], 0)),
        ({"flamegraph": {}}, FlameGraph([], [], 0)),
        ({"flamegraph": {"names": ["total"], "levels": [{}]}}, FlameGraph(["total"], [[]], 0)),
    ],
)
def test_parse_connect_treats_omitted_fields_as_zero(doc: Any, expected: FlameGraph) -> None:
    """proto3 JSON omits zero values: a missing graph, level values or total are empty."""
    assert parse_connect(doc) == expected


def test_parse_render_reads_number_levels() -> None:
    """A legacy render flamebearer carries numbers and numTicks."""
    doc = {
        "flamebearer": {"names": ["total", "a"], "levels": [[0, 3, 0, 0], [0, 3, 3, 1]]},
        "metadata": {"format": "single"},
    }
    doc["flamebearer"]["numTicks"] = 3
    assert parse_render(doc) == FlameGraph(["total", "a"], [[0, 3, 0, 0], [0, 3, 3, 1]], 3)


def test_parse_render_diff_splits_both_sides() -> None:
    """A 7-value diff becomes two single graphs; nodes absent on a side are dropped."""
    doc = {
        "leftTicks": 4,
        "rightTicks": 6,
        "flamebearer": {
            "names": ["total", "a", "b", "c"],
            "levels": [
                [0, 4, 0, 0, 6, 0, 0],
                [0, 4, 1, 0, 3, 0, 1, 0, 0, 0, 0, 3, 3, 2],
                [1, 3, 3, 0, 1, 1, 3, 0, 0, 0, 0, 2, 2, 2],
            ],
            "numTicks": 10,
        },
        "metadata": {"format": "double"},
    }
    left, right = parse_render_diff(doc)
    names = ["total", "a", "b", "c"]
    assert left == FlameGraph(names, [[0, 4, 0, 0], [0, 4, 1, 1], [1, 3, 3, 3]], 4)
    assert right == FlameGraph(
        names, [[0, 6, 0, 0], [0, 3, 0, 1, 0, 3, 3, 2], [0, 1, 1, 3, 0, 2, 2, 2]], 6
    )


def connect(levels: Any, names: Any = ("total", "a"), total: Any = "1") -> dict[str, Any]:
    return {"flamegraph": {"names": list(names), "levels": levels, "total": total}}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "response: expected an object, got list"),
        ({"flamegraph": []}, "response.flamegraph: expected dict, got list"),
        (
            connect([{"values": ["0", "1", "0"]}]),
            "flamegraph.levels[0]: 3 values is not a multiple of 4",
        ),
        (
            connect([{"values": ["0", "1", "0", "7"]}]),
            "flamegraph.levels[0][3]: name index 7 out of range (2 names)",
        ),
        (
            connect([{"values": ["0", "-1", "0", "0"]}]),
            "flamegraph.levels[0][1]: negative value -1",
        ),
        (
            connect([{"values": ["0", "x", "0", "0"]}]),
            "flamegraph.levels[0][1]: expected an integer, got str",
        ),
        (
            connect([{"values": [0, 1.5, 0, 0]}]),
            "flamegraph.levels[0][1]: expected an integer, got float",
        ),
        (
            connect([{"values": [0, True, 0, 0]}]),
            "flamegraph.levels[0][1]: expected an integer, got bool",
        ),
        (connect([{"values": "0"}]), "flamegraph.levels[0].values: expected list, got str"),
        (connect(["0"]), "flamegraph.levels[0]: expected an object, got str"),
        (connect([], names=["total", 3]), "flamegraph.names: expected a list of strings"),
        (connect([], total=None), "flamegraph.total: expected an integer, got NoneType"),
        (
            connect([{"values": ["0", "2", "0", "0"]}, {"values": ["1", "2", "2", "1"]}]),
            "levels[1]: node 0 at x=1 lies outside every node of the level above",
        ),
    ],
)
def test_parse_connect_rejects_malformed_graphs(doc: Any, message: str) -> None:
    """Every malformation raises FlameGraphError saying where, never Index/Key/TypeError."""
    with pytest.raises(FlameGraphError) as caught:
        parse_connect(doc)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("doc", "parse", "message"),
    [
        (
            {"flamebearer": {"levels": [[0]]}},
            parse_render,
            "flamebearer.levels[0]: 1 values is not a multiple of 4",
        ),
        (
            {"flamebearer": {}, "metadata": {"format": "double"}},
            parse_render,
            "response: a diff (format double); use parse_render_diff",
        ),
        (
            {"flamebearer": {"names": ["total"], "levels": [[0, 1, 0, 0]]}},
            parse_render_diff,
            "flamebearer.levels[0]: 4 values is not a multiple of 7",
        ),
        (
            {"flamebearer": {"names": ["total"]}, "leftTicks": "?"},
            parse_render_diff,
            "leftTicks: expected an integer, got str",
        ),
    ],
)
def test_parse_render_rejects_malformed_documents(doc: Any, parse: Any, message: str) -> None:
    """The legacy parsers raise the same clear FlameGraphError."""
    with pytest.raises(FlameGraphError) as caught:
        parse(doc)
    assert str(caught.value) == message


# --- ranking -----------------------------------------------------------------------------

STACKS = {
    ("main", "handle", "parse"): 40,
    ("main", "handle", "render"): 30,
    ("main", "handle"): 10,
    ("main", "gc"): 15,
    ("main",): 5,
}


def test_top_functions_ranks_by_self() -> None:
    """Self per function over the whole graph, with total share and scaled value."""
    result = top(graph_of(STACKS), n=3, unit_scale=0.5)
    assert result == TopFunctions(
        [
            stat("parse", 40.0, 40.0, 20.0),
            stat("render", 30.0, 30.0, 15.0),
            stat("gc", 15.0, 15.0, 7.5),
        ],
        0.0,
        100,
    )


def test_top_functions_ranks_by_total() -> None:
    """by=total ranks inclusive time; value is the total."""
    result = top(graph_of(STACKS), n=2, by="total")
    assert result.functions == [stat("main", 5.0, 100.0, 100.0), stat("handle", 10.0, 80.0, 80.0)]


def test_recursion_is_not_double_counted_in_total() -> None:
    """a -> b -> a counts a's total once, for the outermost a."""
    graph = graph_of({("a", "b", "a"): 10, ("a", "b"): 5, ("a",): 5})
    result = top(graph, by="total")
    assert result.functions == [stat("a", 75.0, 100.0, 20.0), stat("b", 25.0, 75.0, 15.0)]


def test_truncation_node_is_reported_apart() -> None:
    """`other` is never ranked; its share is other_pct."""
    graph = graph_of({("main", "work"): 60, ("main", "other"): 30, ("main",): 10})
    result = top(graph)
    assert result == TopFunctions(
        [stat("work", 60.0, 60.0, 60.0), stat("main", 10.0, 100.0, 10.0)], 30.0, 100
    )


def test_ties_keep_first_appearance() -> None:
    """Equal values keep level-major, left-to-right order, like Counter.most_common."""
    graph = graph_of({("b",): 5, ("a", "z"): 5, ("a", "c"): 5})
    assert [f.function for f in top(graph).functions] == ["b", "c", "z"]


def test_empty_graph_has_no_functions() -> None:
    """An empty response ranks nothing and truncates nothing."""
    assert top(parse_connect({})) == TopFunctions([], 0.0, 0)


def test_deep_graph_does_not_hit_the_recursion_limit() -> None:
    """A 5000-level graph is walked iteratively."""
    stack = tuple(f"f{i}" for i in range(5000))
    result = top(graph_of({stack: 7, stack[:1]: 3}), n=1, by="total")
    assert result.functions == [stat("f0", 30.0, 100.0, 10.0)]


def test_jfr_names_merge_after_normalization() -> None:
    """`java/util/X.m` and `java.util.X.m` are one function once normalized (JVM)."""
    graph = graph_of(
        {
            ("Main.run", "java/util/HashMap.get"): 6,
            ("Main.run", "java.util.HashMap.get"): 2,
            ("Main.run",): 2,
        }
    )
    merged = top(graph, frames=JVM.frames, app_prefixes=["Main."])
    assert merged.functions == [
        stat("java.util.HashMap.get", 80.0, 80.0, 8.0, "runtime"),
        stat("Main.run", 20.0, 100.0, 2.0, "app"),
    ]
    raw = top(graph, frames=PLAIN)
    assert [f.function for f in raw.functions] == [
        "java/util/HashMap.get",
        "Main.run",
        "java.util.HashMap.get",
    ]


def test_self_percentages_and_changes() -> None:
    """Baseline against incident self-%: missing is 0, the biggest positive rise wins."""
    baseline = self_percentages(graph_of({("main", "a"): 50, ("main", "b"): 50}))
    incident = self_percentages(graph_of({("main", "a"): 20, ("main", "c"): 80}))
    assert baseline == {"a": 50.0, "b": 50.0}
    changes = function_changes(baseline, incident, ["c", "a", "b"])
    assert changes == [
        FunctionChange(function="c", baseline_pct=0.0, incident_pct=80.0, delta_pp=80.0),
        FunctionChange(function="a", baseline_pct=50.0, incident_pct=20.0, delta_pp=-30.0),
        FunctionChange(function="b", baseline_pct=50.0, incident_pct=0.0, delta_pp=-50.0),
    ]
    assert biggest_riser(changes) == changes[0]
    assert biggest_riser(changes[1:]) is None


# --- frames and units --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("java/util/regex/Pattern$Slice.match", "java.util.regex.Pattern$Slice.match"),
        (
            "com/example/Foo$$Lambda$14/0x0000000800c03000.run",
            "com.example.Foo$$Lambda$14/0x0000000800c03000.run",
        ),
        ("./tmp/snappy-1.1.8-libsnappyjava.so", "./tmp/snappy-1.1.8-libsnappyjava.so"),
        ("App.fib", "App.fib"),
    ],
)
def test_normalize_jfr(name: str, expected: str) -> None:
    """JFR slashes become dots; hidden-class suffixes and native paths stay."""
    assert normalize_jfr(name) == expected


# runtime -> app prefixes -> {frame name as its agent writes it: the frame's class}
FRAME_CLASSES: dict[str, dict[tuple[str, ...], dict[str, str]]] = {
    "jvm": {
        ("com.example.",): {
            "com.example.bank.Payment.charge": "app",
            "com/example/bank/Payment.charge": "app",
            "io.vertx.core.Context.run": "library",
        },
        (): {
            "io.vertx.core.Context.run": "app",
            "java.util.HashMap.get": "runtime",
            "jdk/internal/misc/Unsafe.park": "runtime",
            "sun.nio.ch.EPoll.wait": "runtime",
            "com.sun.crypto.provider.AESCrypt.encrypt": "runtime",
            "kotlin.collections.CollectionsKt.map": "runtime",
            "scala.collection.immutable.List.map": "runtime",
            "libc.so.6.__GI___futex_abstimed_wait_cancelable64": "runtime",
            "libjvm.so.JavaThread::run": "runtime",
            "[unknown]": "runtime",
            "AGCT": "runtime",
            "JVM": "runtime",
            "G1ParScanThreadState::trim_queue": "runtime",
        },
    },
    # A Go main module without a dot in its path is application code, not the runtime.
    "go": {
        (): {
            "runtime.mallocgc": "runtime",
            "syscall.Syscall": "runtime",
            "internal/poll.(*FD).Read": "runtime",
            "net/http.(*conn).serve": "runtime",
            "compress/flate.NewWriter": "runtime",
            "github.com/acme/bank/payment.Charge": "app",
            "rideshare/utility.mutexLock": "app",
        },
        ("github.com/acme/",): {
            "sync.(*Mutex).Unlock": "runtime",
            "github.com/prometheus/client_golang/prometheus.(*Registry).Gather": "library",
            "github.com/acme/bank/payment.Charge": "app",
            "main.main": "app",
            "rideshare/utility.mutexLock": "app",
        },
    },
    "python": {
        ("handler.",): {
            "handler.Serve": "app",
            "requests.get": "library",
        },
        (): {
            "lib/utility/utility.py:-1": "app",
            "asyncio/selector_events.py:120 - _read_from_self": "runtime",
            "threading.py:1016 - _bootstrap_inner": "runtime",
            "<frozen importlib._bootstrap>:241 - _call_with_frames_removed": "runtime",
        },
        ("services/",): {
            "/usr/lib/python3/dist-packages/requests/api.py:59 - request": "library",
            "services/driver/redis.py:13 - get_driver": "app",
        },
    },
    "ruby": {
        (): {
            "/usr/local/lib/ruby/3.2.0/net/http.rb:1588 - request": "runtime",
            "/app/bundle/gems/rack-2.2.3/lib/rack/builder.rb:244 - call": "library",
            "lib/utility/utility.rb:16 - mutex_lock": "app",
        },
    },
    "dotnet": {
        (): {
            "System.Console!System.ConsolePal.Write(int32)": "runtime",
            "System.Private.CoreLib!System.Threading.Monitor.Enter(object)": "runtime",
        },
        ("Example.",): {
            "Example!Example.BikeService.Order(int32)": "app",
            "Npgsql!Npgsql.NpgsqlConnector.Open()": "library",
        },
    },
    "nodejs": {
        (): {
            "(idle)": "runtime",
            "(garbage collector)": "runtime",
            "node:internal/streams/readable:540:10": "runtime",
            "/app/node_modules/express/lib/router/index.js:284:7": "library",
            "./index.js:(anonymous):19": "app",
            "(anonymous)": "app",
        },
    },
    "ebpf": {
        (): {
            "libunwind.rs:93 - backtrace::backtrace::libunwind::trace": "app",
            "[unknown]": "runtime",
        },
    },
}


@pytest.mark.parametrize(
    ("name", "runtime", "prefixes", "expected"),
    [
        (name, runtime, list(prefixes), expected)
        for runtime, by_prefixes in FRAME_CLASSES.items()
        for prefixes, frames in by_prefixes.items()
        for name, expected in frames.items()
    ],
)
def test_frame_class(name: str, runtime: str, prefixes: list[str], expected: str) -> None:
    """App prefixes first, then the runtime's standard library and native code."""
    rules = PRESETS[runtime].frames
    assert rules.classify(rules.show(name), prefixes) == expected


@pytest.mark.parametrize(
    ("profile_type", "expected"),
    [
        ("process_cpu:cpu:nanoseconds:cpu:nanoseconds", ("seconds", 1e-9)),
        ("wall:wall:microseconds:wall:microseconds", ("seconds", 1e-6)),
        ("process_cpu:samples:count::milliseconds", ("count", 1.0)),
        ("memory:alloc_space:bytes:space:bytes", ("bytes", 1.0)),
        ("x:y:milliseconds:a:b", ("seconds", 1e-3)),
        ("x:y:objects:a:b", ("objects", 1.0)),
    ],
)
def test_profile_unit(profile_type: str, expected: tuple[str, float]) -> None:
    """The sample unit (3rd part) maps to a display unit and scale."""
    assert profile_unit(profile_type) == expected


def test_profile_unit_rejects_a_short_id() -> None:
    """An ID that is not name:type:unit:period_type:period_unit is a ValueError."""
    with pytest.raises(ValueError, match="not a profile type ID"):
        profile_unit("cpu")


# --- encoding ----------------------------------------------------------------------------


def test_encode_flamegraph_matches_the_server_encoding() -> None:
    """Names deduplicated, children sorted after the self part, x delta-encoded, strings."""
    encoded = encode_flamegraph({("main", "work"): 90, ("main",): 10, ("gc",): 5})
    assert encoded == {
        "names": ["total", "gc", "main", "work"],
        "levels": [
            {"values": ["0", "105", "0", "0"]},
            {"values": ["0", "5", "5", "1", "0", "100", "10", "2"]},
            {"values": ["15", "90", "90", "3"]},
        ],
        "total": "105",
        "maxSelf": "90",
    }


def test_encode_flamegraph_round_trips() -> None:
    """Parsing an encoded graph gives back every stack's self value."""
    result = top(graph_of(STACKS))
    assert {f.function: f.value for f in result.functions} == {
        "parse": 40.0,
        "render": 30.0,
        "gc": 15.0,
        "handle": 10.0,
        "main": 5.0,
    }


def test_encode_flamegraph_of_nothing_is_empty() -> None:
    """No samples encode as an empty object, as the server omits zero values."""
    assert encode_flamegraph({}) == {}


def test_encode_flamegraph_rejects_bad_stacks() -> None:
    """An empty stack or a negative value is a FlameGraphError."""
    with pytest.raises(FlameGraphError, match="needs frames"):
        encode_flamegraph({(): 1})
    with pytest.raises(FlameGraphError, match="non-negative"):
        encode_flamegraph({("a",): -1})


# --- pprof -------------------------------------------------------------------------------


def varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def message(*fields: tuple[int, int | bytes]) -> bytes:
    """Protobuf bytes: ints as varints (wire 0), bytes as length-delimited (wire 2)."""
    out = b""
    for number, value in fields:
        if isinstance(value, int):
            out += varint(number << 3) + varint(value)
        else:
            out += varint(number << 3 | 2) + varint(len(value)) + value
    return out


PROFILE = message(
    (1, message((1, 1), (2, 2))),  # sample_type cpu/nanoseconds
    (2, message((1, varint(10) + varint(20)), (2, varint(30)))),  # packed: leaf 10
    (2, message((1, 20), (2, 50))),  # unpacked: leaf 20
    (2, message((1, 10), (2, -5))),  # a negative int64 value
    (4, message((1, 10), (4, message((1, 100))), (4, message((1, 200))))),
    (4, message((1, 20), (4, message((1, 200))))),
    (5, message((1, 100), (2, 3))),
    (5, message((1, 200), (2, 4))),
    *[(6, text.encode()) for text in ("", "cpu", "nanoseconds", "inlined", "caller")],
)


def test_pprof_self_goes_to_the_leaf_lines_first_function() -> None:
    """Packed and unpacked ids, negative values, the first (inlined) line wins; gzip or not."""
    expected = [("caller", 50, 100.0 * 50 / 75), ("inlined", 25, 100.0 * 25 / 75)]
    assert top_self_from_pprof(parse_pprof(PROFILE), "cpu") == expected
    assert top_self_from_pprof(parse_pprof(gzip.compress(PROFILE)), 0) == expected


@pytest.mark.parametrize(
    ("data", "message_text"),
    [
        (b"\x08", "truncated or overlong varint"),
        (b"\x1f\x8b\x09" + bytes(20), "bad gzip data: BadGzipFile"),
        (b"\x0b", "unsupported wire type 3 in field 1"),
        (b"\x32\x05ab", "field 6 runs past the end of the message"),
        (message((1, message((1, 9))), (6, b"")), "string index 9 out of range (1 strings)"),
    ],
)
def test_pprof_rejects_malformed_bytes(data: bytes, message_text: str) -> None:
    """Malformed protobuf or gzip raises PprofError, a ValueError."""
    with pytest.raises(PprofError) as caught:
        parse_pprof(data)
    assert str(caught.value) == message_text


@pytest.mark.parametrize(
    ("doc", "message_text"),
    [
        ({"stringTable": [1]}, "stringTable: expected a list of strings"),
        ({"sample": [{"value": ["x"]}]}, "value: expected an integer, got str"),
        ({"sampleType": ["cpu"]}, "type: expected an integer, got NoneType"),
        ({"location": {}}, "location: expected a list"),
    ],
)
def test_pprof_json_rejects_malformed_documents(doc: Any, message_text: str) -> None:
    """Wrong JSON types raise PprofError saying which field."""
    with pytest.raises(PprofError) as caught:
        parse_pprof_json(doc)
    assert str(caught.value) == message_text


def test_pprof_unknown_sample_type() -> None:
    """Asking for a sample type the profile lacks names the ones it has."""
    with pytest.raises(PprofError, match=r"no sample type 'alloc' \(have \['cpu'\]\)"):
        top_self_from_pprof(parse_pprof(PROFILE), "alloc")
