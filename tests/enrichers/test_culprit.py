"""Culprits and idle stacks over the flame graph tree, on hand-made graphs."""

from __future__ import annotations

from enrichers.culprit import busy_leader, culprit_of, parents_of
from enrichers.flamegraph import FlameGraph, parse_connect
from enrichers.frames import PLAIN
from enrichers.presets import JVM
from enrichers.result import FunctionStat
from receiver.demo.folded import encode_flamegraph

RUN = "java/lang/Thread.run"
PARK = "jdk/internal/misc/Unsafe.park"
REGEX = "java/util/regex/Pattern.match"


def graph_of(stacks: dict[tuple[str, ...], int]) -> FlameGraph:
    return parse_connect({"flamegraph": encode_flamegraph(stacks)})


def test_parents_follow_the_spans_of_the_level_above() -> None:
    """Each node's parent is the node one level up whose span holds it; the root has none."""
    graph = graph_of({("a", "b"): 3, ("a", "c"): 2, ("d",): 5})
    # levels: [total] / [a(5), d(5)] / [b(3), c(2)]
    assert parents_of(graph) == [[-1], [0, 0], [0, 0]]
    deeper = graph_of({("a", "x"): 1, ("d", "y"): 1})
    assert parents_of(deeper) == [[-1], [0, 0], [0, 1]]


def test_the_culprit_is_the_nearest_application_frame_weighted_by_self_time() -> None:
    """The culprit is the app caller holding most of the leaf's self time, skipping runtime."""
    graph = graph_of(
        {
            (RUN, "com/example/Validator.validate", "java/util/regex/Matcher.find", REGEX): 60,
            (RUN, "com/example/Router.route", REGEX): 30,
            (RUN, "com/example/Router.route"): 10,
        }
    )
    prefixes = ["com.example."]
    assert culprit_of(graph, "java.util.regex.Pattern.match", JVM.frames, prefixes) == (
        "com.example.Validator.validate"
    )
    assert culprit_of(graph, "com.example.Router.route", JVM.frames, prefixes) == (
        "com.example.Router.route"
    )


def test_a_leaf_with_no_application_caller_has_no_culprit() -> None:
    """Only runtime frames on the leaf's stacks: None, never a runtime frame."""
    graph = graph_of({(RUN, PARK): 10, (RUN, "com/example/App.run"): 5})
    assert culprit_of(graph, "jdk.internal.misc.Unsafe.park", JVM.frames, []) is None
    assert culprit_of(graph, "no.such.Function", JVM.frames, []) is None


def test_idle_stacks_never_make_the_wall_hotspot() -> None:
    """Parked threads (80%) never win: the hotspot is the busiest function on a stack with code."""
    graph = graph_of(
        {
            (RUN, PARK): 80,
            (RUN, "com/example/Db.query", "java/net/SocketInputStream.read"): 15,
            (RUN, "com/example/Db.query"): 5,
        }
    )
    leader = busy_leader(graph, frames=JVM.frames, app_prefixes=[], unit="seconds")
    assert leader == FunctionStat(
        function="java.net.SocketInputStream.read",
        self_pct=15.0,
        total_pct=15.0,
        value=15.0,
        unit="seconds",
        frame_class="runtime",
    )


def test_a_profile_of_idle_stacks_only_has_no_busy_leader() -> None:
    """Nothing but parked and waiting threads: no hotspot at all."""
    graph = graph_of({(RUN, PARK): 80, ("libc.so.6.epoll_wait",): 20})
    assert busy_leader(graph, frames=JVM.frames, app_prefixes=[], unit="seconds") is None
    assert busy_leader(graph_of({}), frames=PLAIN, app_prefixes=[], unit="seconds") is None


def test_the_merged_other_node_is_never_the_busy_leader() -> None:
    """Pyroscope's truncation node `other` is no function, even under application code."""
    graph = graph_of({("com/example/App.run", "other"): 70, ("com/example/App.run", "f"): 30})
    leader = busy_leader(graph, frames=JVM.frames, app_prefixes=[], unit="seconds")
    assert leader is not None
    assert (leader.function, leader.self_pct) == ("f", 30.0)
