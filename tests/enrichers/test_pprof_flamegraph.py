"""pprof profiles as flame graphs: the merged tree agrees with sums over the raw samples."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from enrichers.flamegraph import FlameGraph, parse_connect, top_functions
from enrichers.flamegraph_tree import graph_from_stacks, prune, tree_of
from enrichers.frames import PLAIN
from enrichers.pprof import Profile, flamegraph_from_pprof, parse_pprof, top_self_from_pprof

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "pyroscope"

# Every pprof fixture and each of its sample types that has samples.
CASES = [
    ("pprof_java_jfr_kafka_process_cpu.pb.gz", "cpu"),
    ("pprof_java_jfr_kafka_alloc_in_new_tlab_bytes.pb.gz", "alloc_in_new_tlab_bytes"),
    ("pprof_java_jfr_kafka_mutex_delay.pb.gz", "delay"),
    ("pprof_java_jfr_dump2_wall.pb.gz", "wall"),
    ("pprof_go_push_mutex.pb.gz", "delay"),
    ("pprof_go_push_mutex.pb.gz", "contentions"),
    ("pprof_go_heap_delta.pb", "alloc_space"),
    ("pprof_go_heap_delta.pb", "inuse_space"),
    ("pprof_nodejs_cpu.pb.gz", "wall"),
    ("pprof_nodejs_heap.pb.gz", "inuse_space"),
    ("pprof_dotnet_3.pb.gz", "cpu"),
    ("pprof_rust_cpu.pb", "cpu"),
]


def raw_stacks(profile: Profile, sample_type: str) -> list[tuple[list[str], int]]:
    """Each sample's frames root first, read straight from the profile's tables."""
    index = [kind for kind, _ in profile.sample_types].index(sample_type)
    stacks = []
    for locations, values in profile.samples:
        frames = []
        for location in locations[::-1]:  # the sample lists the leaf first
            for function in profile.functions.get(location, [0])[::-1]:  # caller line last
                frames.append(profile.function_names.get(function, "[unknown]"))
        stacks.append((frames, values[index]))
    return stacks


def as_connect(graph: FlameGraph) -> FlameGraph:
    """The graph through the Connect parser, which checks every node's nesting."""
    levels = [{"values": [str(v) for v in level]} for level in graph.levels]
    doc = {"flamegraph": {"names": graph.names, "levels": levels, "total": str(graph.total)}}
    return parse_connect(json.loads(json.dumps(doc)))


@pytest.mark.parametrize(("name", "sample_type"), CASES)
def test_pprof_flame_graph_matches_sums_over_the_samples(name: str, sample_type: str) -> None:
    """Total, self per leaf function and total per function (once per stack) all match."""
    profile = parse_pprof((FIXTURES / name).read_bytes())
    graph = as_connect(flamegraph_from_pprof(profile, sample_type))
    stacks = raw_stacks(profile, sample_type)
    assert graph.total == sum(value for _, value in stacks) > 0
    leaf_self = {fn: value for fn, value, _ in top_self_from_pprof(profile, sample_type)}
    ranked = top_functions(graph, n=10_000, unit="x")
    assert {f.function: int(f.value) for f in ranked.functions} == {
        fn: value for fn, value in leaf_self.items() if value
    }
    per_stack: Counter[str] = Counter()
    for frames, value in stacks:
        for function in set(frames):
            per_stack[function] += value
    by_total = top_functions(graph, n=10_000, by="total", unit="x")
    assert {f.function: int(f.value) for f in by_total.functions} == dict(+per_stack)


def test_kafka_cpu_flame_graph_keeps_the_fixture_readme_numbers() -> None:
    """The README's top-3 of the Kafka CPU profile, from the merged graph."""
    profile = parse_pprof((FIXTURES / "pprof_java_jfr_kafka_process_cpu.pb.gz").read_bytes())
    graph = flamegraph_from_pprof(profile, "cpu")
    top = top_functions(graph, n=3, unit="ns", frames=PLAIN)
    assert graph.total == 5_820_000_000
    assert [(f.function, int(f.value), round(f.self_pct, 2)) for f in top.functions] == [
        ("java/util/regex/Pattern$CharPropertyGreedy.match", 480_000_000, 8.25),
        ("java/util/regex/Pattern$Slice.match", 410_000_000, 7.04),
        ("java/util/regex/Pattern$GroupTail.match", 320_000_000, 5.5),
    ]


def test_graph_from_stacks_merges_root_first_self_before_sorted_children() -> None:
    """Same-named frames under one parent merge; x: self part first, children by name."""
    graph = graph_from_stacks([(["a", "c"], 3), (["a"], 2), (["a", "b"], 1), (["d"], 4)])
    assert graph == FlameGraph(
        names=["total", "a", "d", "b", "c"],
        levels=[[0, 10, 0, 0], [0, 6, 2, 1, 0, 4, 4, 2], [2, 1, 1, 3, 0, 3, 3, 4]],
        total=10,
    )


def test_pprof_inlined_lines_are_frames_under_their_caller() -> None:
    """A location with inlined lines gives its caller line first, the inlined one below."""
    profile = Profile(
        sample_types=[("cpu", "nanoseconds")],
        samples=[([1, 2], [5]), ([2], [3]), ([3], [0])],
        functions={1: [10, 11], 2: [12]},  # location 1: 10 inlined into 11
        function_names={10: "inlined", 11: "caller", 12: "main"},
    )
    graph = flamegraph_from_pprof(profile, "cpu")
    root = tree_of(graph)
    (main,) = root.children
    assert (main.name, main.total, main.self) == ("main", 8, 3)
    (caller,) = main.children
    (inlined,) = caller.children
    assert [(n.name, n.total, n.self) for n in (caller, inlined)] == [
        ("caller", 5, 0),
        ("inlined", 5, 5),
    ]


def test_prune_drops_small_nodes_and_keeps_the_rest_in_place() -> None:
    """Nodes under the share go with their subtrees; kept nodes keep x, total and self."""
    graph = graph_from_stacks([(["a", "small"], 1), (["a", "big"], 60), (["b"], 39)])
    pruned = prune(graph, 0.05)
    assert pruned == FlameGraph(
        names=["total", "a", "b", "big"],
        levels=[[0, 100, 0, 0], [0, 61, 0, 1, 0, 39, 39, 2], [0, 60, 60, 3]],
        total=100,
    )
    assert as_connect(pruned) == pruned  # still nested
    assert prune(graph, 0.0) == graph
