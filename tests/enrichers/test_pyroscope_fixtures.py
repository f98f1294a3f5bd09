"""Compatibility: every captured Pyroscope response and profile decodes to its known top-3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from enrichers.clients.pyroscope import parse_profile_types, parse_series_points
from enrichers.flamegraph import (
    FlameGraph,
    parse_connect,
    parse_render,
    parse_render_diff,
    profile_unit,
    top_functions,
)
from enrichers.frames import PLAIN
from enrichers.pprof import parse_pprof, parse_pprof_json, top_self_from_pprof
from enrichers.presets import GO, JVM
from enrichers.presets.go import strip_go_type_parameters

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "pyroscope"


def test_the_shared_fixtures_are_beside_the_repository() -> None:
    """The upstream captures live in ../shared/fixtures/pyroscope; without them, fail loudly."""
    assert FIXTURES.is_dir(), f"missing {FIXTURES}: the compatibility tests below need it"


Top = list[tuple[str, int, float]]


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def ranked(graph: FlameGraph, n: int) -> Top:
    """(function, self value, self-% rounded as in the fixture README)."""
    result = top_functions(graph, n=n, unit="samples", frames=PLAIN)
    return [(f.function, int(f.value), round(f.self_pct, 2)) for f in result.functions]


def rounded(top: Top, n: int) -> Top:
    return [(name, value, round(pct, 2)) for name, value, pct in top[:n]]


SINGLE: list[tuple[str, Any, Top]] = [
    (
        "connect_selectmergestacktraces_go_cpu_pyroscope-server.json",
        parse_connect,
        [
            ("runtime.kevent", 2970000000, 26.76),
            ("runtime.pthread_cond_signal", 1950000000, 17.57),
            ("runtime.pthread_cond_wait", 1470000000, 13.24),
        ],
    ),
    (
        "render_single_java_cpu_javaspy.json",
        parse_render,
        [("Main.main", 766, 77.37), ("Main.work", 110, 11.11), ("Main.slowFunction", 68, 6.87)],
    ),
    (
        "render_single_go_cpu_pyroscope-server.json",
        parse_render,
        [
            ("runtime.futex", 5, 19.23),
            ("runtime.netpoll", 3, 11.54),
            ("runtime.gopark", 2, 7.69),
            ("runtime.epollwait", 2, 7.69),
            ("runtime.write1", 2, 7.69),
        ],
    ),
    (
        "render_single_go_alloc_space_pyroscope-server.json",
        parse_render,
        [
            ("compress/flate.NewWriter", 2772745, 22.14),
            ("compress/flate.(*compressor).init", 2664951, 21.28),
            ("runtime/pprof.StartCPUProfile", 1212697, 9.69),
        ],
    ),
    (
        "render_single_python_cpu_pyspy.json",
        parse_render,
        [
            ("jaeger_client/TUDPTransport.py:41 - write", 7686, 94.20),
            ("asyncio/selector_events.py:120 - _read_from_self", 465, 5.70),
            ("services/driver/redis.py:13 - get_driver", 1, 0.01),
        ],
    ),
    (
        "render_single_dotnet_cpu_dotnetspy.json",
        parse_render,
        [
            (
                "System.Console!System.ConsolePal.Write(class Microsoft.Win32.SafeHandles."
                "SafeFileHandle,unsigned int8*,int32,bool)",
                1117,
                34.50,
            ),
            (
                "System.IO.Pipelines!System.IO.Pipelines.Pipe.AdvanceReader(class System.IO."
                "Pipelines.BufferSegment,int32,class System.IO.Pipelines.BufferSegment,int32)",
                605,
                18.68,
            ),
            (
                "System.Net.Sockets!System.Net.Sockets.SocketPal.SysReceive(class System.Net."
                "Sockets.SafeSocketHandle,value class System.Net.Sockets.SocketFlags,value "
                "class System.Span`1<unsigned int8>,value class Error&)",
                604,
                18.65,
            ),
        ],
    ),
]

PPROF: list[tuple[str, str, Top]] = [
    (
        "pprof_java_jfr_kafka_process_cpu.pb.gz",
        "cpu",
        [
            ("java/util/regex/Pattern$CharPropertyGreedy.match", 480000000, 8.25),
            ("java/util/regex/Pattern$Slice.match", 410000000, 7.04),
            ("java/util/regex/Pattern$GroupTail.match", 320000000, 5.50),
        ],
    ),
    (
        "pprof_java_jfr_kafka_alloc_in_new_tlab_bytes.pb.gz",
        "alloc_in_new_tlab_bytes",
        [
            ("java/lang/invoke/DirectMethodHandle.allocateInstance", 194432592, 12.16),
            ("org/xerial/snappy/SnappyInputStream.hasNextChunk", 133073864, 8.33),
            ("java/util/Arrays.copyOf", 126900432, 7.94),
        ],
    ),
    (
        "pprof_java_jfr_kafka_mutex_delay.pb.gz",
        "delay",
        [
            ("kafka/log/UnifiedLog.append", 2302579112, 58.92),
            ("kafka/log/UnifiedLog.maybeIncrementHighWatermark", 1574556602, 40.29),
            ("sun/nio/ch/FileChannelImpl.size", 23035058, 0.59),
        ],
    ),
    (
        "pprof_java_jfr_dump2_wall.pb.gz",
        "wall",
        [
            ("libc.so.6.__GI___futex_abstimed_wait_cancelable64", 105740000000, 71.82),
            ("App.fib", 33450000000, 22.72),
            ("libc.so.6.__libc_read", 4350000000, 2.95),
        ],
    ),
    ("pprof_go_push_mutex.pb.gz", "delay", [("sync.(*Mutex).Unlock", 4688969939, 100.0)]),
    ("pprof_go_push_mutex.pb.gz", "contentions", [("sync.(*Mutex).Unlock", 21, 100.0)]),
    # Node's CPU profile is a wall-type profile; names as the file holds them (no file:line).
    (
        "pprof_nodejs_cpu.pb.gz",
        "wall",
        [
            ("(anonymous)", 7742000, 87.49),
            ("(idle)", 811000, 9.16),
            ("(garbage collector)", 150000, 1.70),
        ],
    ),
    (
        "pprof_nodejs_heap.pb.gz",
        "inuse_space",
        [
            ("./index.js:(anonymous):19", 4194672, 50.19),
            (":(external):0", 984418, 11.78),
            (":test:0", 555360, 6.64),
        ],
    ),
    # A broken agent build: every function id is 0, so read raw everything is `[unknown]`.
    ("pprof_dotnet_3.pb.gz", "cpu", [("[unknown]", 5653000000, 100.0)]),
    (
        "pprof_go_heap_delta.pb",
        "alloc_space",
        [
            ("io.ReadAll", 3051131, 17.16),
            ("reflect.growslice", 2098592, 11.80),
            ("compress/flate.(*dictDecoder).init", 1081685, 6.08),
        ],
    ),
    (
        "pprof_rust_cpu.pb",
        "cpu",
        [("libunwind.rs:93 - backtrace::backtrace::libunwind::trace", 11960000000, 100.0)],
    ),
]

OTHER_FILES = {
    "README.md",
    "render_diff_double_go_cpu.json",
    "connect_series_service_profile_types.json",
    "connect_selectseries_go_cpu_pyroscope-server.json",
    "connect_selectmergeprofile_pprofjson_go_cpu_pyroscope-server.json",
    "go_type_parameters.txt",
    "go_type_parameters.expected.txt",
}


def test_every_fixture_is_covered() -> None:
    """No fixture file is left out of the compatibility checks."""
    covered = {name for name, _, _ in SINGLE} | {name for name, _, _ in PPROF} | OTHER_FILES
    assert {path.name for path in FIXTURES.iterdir()} == covered


@pytest.mark.parametrize(("name", "parse", "expected"), SINGLE, ids=[s[0] for s in SINGLE])
def test_single_flame_graph_top_self(name: str, parse: Any, expected: Top) -> None:
    """Top self functions, values and % of total as the README lists; self sums to total."""
    graph = parse(load(name))
    assert ranked(graph, len(expected)) == expected
    assert sum(sum(level[2::4]) for level in graph.levels) == graph.total


def test_connect_flame_graph_shape() -> None:
    """The Connect capture has 65 levels, 1071 names and 2110 nodes, total 11.1 s."""
    graph = parse_connect(load("connect_selectmergestacktraces_go_cpu_pyroscope-server.json"))
    assert (len(graph.levels), len(graph.names), graph.total) == (65, 1071, 11100000000)
    assert sum(len(level) // 4 for level in graph.levels) == 2110
    unit, scale = profile_unit("process_cpu:cpu:nanoseconds:cpu:nanoseconds")
    first = top_functions(graph, n=1, unit=unit, unit_scale=scale, frames=GO.frames).functions[0]
    assert (first.function, first.value, first.unit, first.frame_class) == (
        "runtime.kevent",
        pytest.approx(2.97),
        "seconds",
        "runtime",
    )


def test_render_diff_top_self_per_side() -> None:
    """Both sides of the diff rank against leftTicks and rightTicks."""
    left, right = parse_render_diff(load("render_diff_double_go_cpu.json"))
    assert (left.total, right.total) == (991, 987)
    assert ranked(left, 4) == [
        ("main.work", 983, 99.19),
        ("main.main", 6, 0.61),
        ("main.becomesSlower", 1, 0.10),
        ("runtime.asyncPreempt", 1, 0.10),
    ]
    assert ranked(right, 5) == [
        ("main.work", 980, 99.29),
        ("main.main", 4, 0.41),
        ("main.becomesAdded", 1, 0.10),
        ("runtime.heapBitsSetType", 1, 0.10),
        ("runtime.arenaIndex", 1, 0.10),
    ]


def test_connect_series_lists_profile_types() -> None:
    """Series with labelNames [service_name, __profile_type__] gives the 11 Go IDs."""
    found = parse_profile_types(load("connect_series_service_profile_types.json"))
    assert found.spies == frozenset()
    assert found.types == {
        "block:contentions:count:contentions:count",
        "block:delay:nanoseconds:contentions:count",
        "goroutines:goroutine:count:goroutine:count",
        "memory:alloc_objects:count:space:bytes",
        "memory:alloc_space:bytes:space:bytes",
        "memory:inuse_objects:count:space:bytes",
        "memory:inuse_space:bytes:space:bytes",
        "mutex:contentions:count:contentions:count",
        "mutex:delay:nanoseconds:contentions:count",
        "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
        "process_cpu:samples:count:cpu:nanoseconds",
    }


def test_connect_select_series_points() -> None:
    """SelectSeries: one series of 52 points, timestamps in ms (strings), values doubles."""
    series = parse_series_points(load("connect_selectseries_go_cpu_pyroscope-server.json"))
    assert [len(points) for points in series] == [52]
    assert series[0][0] == (1779729327372, 270000000.0)


def test_connect_select_merge_profile_pprof_json() -> None:
    """pprof as Connect JSON: the leaf line's function, with the four-way tie in order."""
    profile = parse_pprof_json(
        load("connect_selectmergeprofile_pprofjson_go_cpu_pyroscope-server.json")
    )
    assert (profile.sample_types, len(profile.samples)) == ([("cpu", "nanoseconds")], 21)
    top = top_self_from_pprof(profile, "cpu")
    assert sum(value for _, value, _ in top) == 240000000
    assert rounded(top, 5) == [
        ("runtime.(*unwinder).resolveInternal", 30000000, 12.50),
        ("runtime.getitab", 20000000, 8.33),
        ("time.now", 20000000, 8.33),
        ("runtime.step", 20000000, 8.33),
        ("runtime.stkbucket", 20000000, 8.33),
    ]


@pytest.mark.parametrize(("name", "sample_type", "expected"), PPROF, ids=[p[0] for p in PPROF])
def test_pprof_top_self(name: str, sample_type: str, expected: Top) -> None:
    """gzip pprof: self of each sample's leaf function, % of the sample type's sum."""
    profile = parse_pprof((FIXTURES / name).read_bytes())
    assert rounded(top_self_from_pprof(profile, sample_type), 3) == expected


def test_jfr_frames_normalize_and_classify() -> None:
    """JFR names read as Java names; libc and java.* are runtime, App.* is the app."""
    profile = parse_pprof((FIXTURES / "pprof_java_jfr_dump2_wall.pb.gz").read_bytes())
    names = [JVM.frames.show(name) for name, _, _ in top_self_from_pprof(profile, 0)[:3]]
    assert [(name, JVM.frames.classify(name, ["App."])) for name in names] == [
        ("libc.so.6.__GI___futex_abstimed_wait_cancelable64", "runtime"),
        ("App.fib", "app"),
        ("libc.so.6.__libc_read", "runtime"),
    ]
    cpu = parse_pprof((FIXTURES / "pprof_java_jfr_kafka_process_cpu.pb.gz").read_bytes())
    first = JVM.frames.show(top_self_from_pprof(cpu, "cpu")[0][0])
    assert (first, JVM.frames.classify(first, ["kafka."])) == (
        "java.util.regex.Pattern$CharPropertyGreedy.match",
        "runtime",
    )


def test_go_type_parameters_are_stripped_as_pyroscope_shows_them() -> None:
    """Go generic names lose their `[go.shape...]` type arguments, line for line."""
    names = (FIXTURES / "go_type_parameters.txt").read_text().splitlines()
    expected = (FIXTURES / "go_type_parameters.expected.txt").read_text().splitlines()
    assert len(names) == len(expected) == 11
    assert [strip_go_type_parameters(name) for name in names] == expected


@pytest.mark.parametrize("name", ["[unknown]", "[vdso]", "main.main", "runtime.mallocgc"])
def test_names_without_type_parameters_stay_as_they_are(name: str) -> None:
    """Pseudo frames such as `[unknown]` and plain Go names are kept."""
    assert strip_go_type_parameters(name) == name
