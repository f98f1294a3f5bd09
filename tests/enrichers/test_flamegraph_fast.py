"""The whole-level parse and the span-based totals against the value-by-value originals.

`Reference` below is the earlier implementation, kept as the oracle: every value checked one
by one, each node's parent found by a walk over the level above, and totals by a depth-first
walk that skips a function below itself. The fast code must give exactly its graphs, its
rankings, its percentages (in the same order) and its error messages.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import pytest

from enrichers.flamegraph import (
    FlameGraph,
    FlameGraphError,
    TopFunctions,
    parse_connect,
    parse_render,
    parse_render_diff,
    self_percentages,
    top_functions,
)
from enrichers.flamegraph_parse import _int, _side, exact_level
from enrichers.frames import FrameRules
from enrichers.presets import JVM
from enrichers.result import FunctionStat
from receiver.demo.folded import encode_flamegraph

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "pyroscope"
CONNECT = "connect_selectmergestacktraces_go_cpu_pyroscope-server.json"
RENDERS = [
    "render_single_java_cpu_javaspy.json",
    "render_single_go_cpu_pyroscope-server.json",
    "render_single_go_alloc_space_pyroscope-server.json",
    "render_single_python_cpu_pyspy.json",
    "render_single_dotnet_cpu_dotnetspy.json",
]
DIFF = "render_diff_double_go_cpu.json"


class Reference:
    """The earlier, value-by-value implementation (the oracle); its level check is the exact
    path the fast parse falls back to (`exact_level`)."""

    @staticmethod
    def levels(raw: list[Any], names: list[str], width: int, where: str) -> list[list[int]]:
        return [
            exact_level(level, names, width, f"{where}.levels[{depth}]")
            for depth, level in enumerate(raw)
        ]

    @staticmethod
    def parents(graph: FlameGraph) -> list[list[int]]:
        parents: list[list[int]] = []
        upper_x: list[int] = []
        for depth, level in enumerate(graph.levels):
            xs, prev_end = [], 0
            for i in range(0, len(level), 4):
                xs.append(level[i] + prev_end)
                prev_end = xs[-1] + level[i + 1]
            row, j = [], 0
            upper = graph.levels[depth - 1] if depth else []
            for k, x in enumerate(xs):
                total = level[4 * k + 1]
                if depth == 0 or total == 0:
                    row.append(-1)
                    continue
                while j < len(upper_x) and upper_x[j] + upper[4 * j + 1] <= x:
                    j += 1
                if j == len(upper_x) or upper_x[j] > x or x + total > upper_x[j] + upper[4 * j + 1]:
                    raise FlameGraphError(
                        f"levels[{depth}]: node {k} at x={x} lies outside every node of the level"
                        " above"
                    )
                row.append(j)
            parents.append(row)
            upper_x = xs
        return parents

    @classmethod
    def parse_connect(cls, doc: dict[str, Any]) -> FlameGraph:
        flamegraph = doc.get("flamegraph", {})
        names = flamegraph.get("names", [])
        raw = [level.get("values", []) for level in flamegraph.get("levels", [])]
        total = _int(flamegraph.get("total", 0), "flamegraph.total")
        graph = FlameGraph(names, cls.levels(raw, names, 4, "flamegraph"), total)
        cls.parents(graph)
        return graph

    @classmethod
    def parse_render(cls, doc: dict[str, Any]) -> FlameGraph:
        bearer = doc["flamebearer"]
        levels = cls.levels(bearer["levels"], bearer["names"], 4, "flamebearer")
        graph = FlameGraph(bearer["names"], levels, bearer["numTicks"])
        cls.parents(graph)
        return graph

    @classmethod
    def parse_render_diff(cls, doc: dict[str, Any]) -> tuple[FlameGraph, FlameGraph]:
        bearer = doc["flamebearer"]
        levels = cls.levels(bearer["levels"], bearer["names"], 7, "flamebearer")
        left = FlameGraph(bearer["names"], _side(levels, 0), doc["leftTicks"])
        right = FlameGraph(bearer["names"], _side(levels, 3), doc["rightTicks"])
        cls.parents(left)
        cls.parents(right)
        return left, right

    @staticmethod
    def labels(graph: FlameGraph, normalize: bool) -> list[str]:
        return [rules(normalize).show(name) for name in graph.names]

    @staticmethod
    def selfs(graph: FlameGraph, labels: list[str]) -> tuple[dict[str, int], int]:
        selfs: dict[str, int] = {}
        other = 0
        for level in graph.levels[1:]:
            for i in range(0, len(level), 4):
                name = labels[level[i + 3]]
                if name == "other":
                    other += level[i + 2]
                else:
                    selfs[name] = selfs.get(name, 0) + level[i + 2]
        return selfs, other

    @classmethod
    def totals(cls, graph: FlameGraph, labels: list[str]) -> Counter[str]:
        parents = cls.parents(graph)
        names: list[str] = []
        totals_of: list[int] = []
        children: list[list[int]] = []
        offsets: list[int] = []
        for depth, level in enumerate(graph.levels):
            offsets.append(len(names))
            for k, parent in enumerate(parents[depth]):
                if depth >= 2 and parent >= 0:
                    children[offsets[depth - 1] + parent].append(len(names))
                names.append(labels[level[4 * k + 3]])
                totals_of.append(level[4 * k + 1])
                children.append([])
        roots = [offsets[1] + k for k, p in enumerate(parents[1]) if p >= 0] if offsets[1:] else []
        totals: Counter[str] = Counter()
        active: Counter[str] = Counter()
        stack = [(node, False) for node in reversed(roots)]
        while stack:
            node, leaving = stack.pop()
            name = names[node]
            if leaving:
                active[name] -= 1
                continue
            if not active[name]:
                totals[name] += totals_of[node]
            active[name] += 1
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children[node]))
        return totals

    @classmethod
    def top(
        cls, graph: FlameGraph, n: int, by: Literal["self", "total"], normalize: bool
    ) -> TopFunctions:
        if graph.total <= 0:
            return TopFunctions([], 0.0, graph.total)
        labels = cls.labels(graph, normalize)
        selfs, other = cls.selfs(graph, labels)
        totals = cls.totals(graph, labels)
        ranking = selfs if by == "self" else {name: totals[name] for name in selfs}
        ranked = sorted((f for f in ranking if ranking[f] > 0), key=lambda f: -ranking[f])
        functions = [
            FunctionStat(
                function=name,
                self_pct=100.0 * selfs[name] / graph.total,
                total_pct=100.0 * totals[name] / graph.total,
                value=ranking[name] * 1e-9,
                unit="seconds",
                frame_class=rules(normalize).classify(name, ["com.example."]),
            )
            for name in ranked[:n]
        ]
        return TopFunctions(functions, 100.0 * other / graph.total, graph.total)

    @classmethod
    def self_percentages(cls, graph: FlameGraph, normalize: bool) -> dict[str, float]:
        if graph.total <= 0:
            return {}
        selfs, _ = cls.selfs(graph, cls.labels(graph, normalize))
        return {name: 100.0 * value / graph.total for name, value in selfs.items() if value > 0}


def rules(normalize: bool) -> FrameRules:
    """The JVM's frame rules, with or without its JFR normalisation."""
    return JVM.frames if normalize else FrameRules(is_runtime=JVM.frames.is_runtime)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def fast_top(
    graph: FlameGraph, n: int, by: Literal["self", "total"], normalize: bool
) -> TopFunctions:
    return top_functions(
        graph,
        n=n,
        by=by,
        unit="seconds",
        unit_scale=1e-9,
        frames=rules(normalize),
        app_prefixes=["com.example."],
    )


FRAMES = [
    "main",
    "com/example/App.run",
    "com.example.App.run",
    "com/example/Parser.parse",
    "java/util/HashMap.get",
    "java.util.HashMap.get",
    "libc.so.6.read",
    "[unknown]",
    "other",
]


def synthetic_graph(seed: int) -> FlameGraph:
    """Seeded random stacks: repeated frames (recursion, mutual recursion), JFR names in both
    spellings, `other` at any depth, inner frames with and without self, and many ties."""
    rng = random.Random(seed)
    stacks: dict[tuple[str, ...], int] = {}
    for _ in range(400):
        stack = tuple(rng.choice(FRAMES) for _ in range(rng.randint(1, 14)))
        stacks[stack] = stacks.get(stack, 0) + rng.choice([0, 1, 1, 2, 3, 10])
    return parse_connect({"flamegraph": encode_flamegraph(stacks)})


def equivalence_cases() -> list[tuple[str, FlameGraph]]:
    cases = [(CONNECT, parse_connect(load(CONNECT)))]
    cases += [(name, parse_render(load(name))) for name in RENDERS]
    left, right = parse_render_diff(load(DIFF))
    cases += [(f"{DIFF} left", left), (f"{DIFF} right", right)]
    cases += [(f"synthetic {seed}", synthetic_graph(seed)) for seed in range(8)]
    return cases


CASES = equivalence_cases()


# --- parsing -----------------------------------------------------------------------------


def test_fixtures_parse_to_the_same_graphs() -> None:
    """Every captured flame graph parses to exactly the graph of the value-by-value parser."""
    assert parse_connect(load(CONNECT)) == Reference.parse_connect(load(CONNECT))
    for name in RENDERS:
        assert parse_render(load(name)) == Reference.parse_render(load(name))
    assert parse_render_diff(load(DIFF)) == Reference.parse_render_diff(load(DIFF))


def test_the_connect_fixture_keeps_its_first_levels() -> None:
    """The int64 strings of the capture become these integers, x still delta-encoded."""
    graph = parse_connect(load(CONNECT))
    assert graph.levels[0] == [0, 11100000000, 0, 0]
    assert graph.levels[1][:12] == [0, 30000000, 0, 1048, 0, 460000000, 0, 960, 0, 60000000, 0, 932]
    assert graph.names[:2] == ["total", "runtime.systemstack"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["0", "7", "0", "0"], [0, 7, 0, 0]),
        (["0", "007", "0", "0"], [0, 7, 0, 0]),  # leading zeros: JSON refuses, int() accepts
        (["-0", "1", "0", "0"], [0, 1, 0, 0]),
        (["0", "18446744073709551615", "0", "0"], [0, 18446744073709551615, 0, 0]),
        (["0", "99999999999999999999", "0", "0"], [0, 99999999999999999999, 0, 0]),
        (["0", 5, "0", 0], [0, 5, 0, 0]),  # numbers and strings mixed
    ],
)
def test_unusual_values_are_read_as_before(values: list[Any], expected: list[int]) -> None:
    """Values the whole-level pass leaves to the exact check come out the same, as ints."""
    doc = {"flamegraph": {"names": ["total"], "levels": [{"values": values}], "total": "1"}}
    graph = parse_connect(doc)
    assert graph == FlameGraph(["total"], [expected], 1)
    assert graph == Reference.parse_connect(doc)
    assert all(type(value) is int for value in graph.levels[0])


def test_huge_json_numbers_stay_exact_in_render_levels() -> None:
    """`/render` numbers beyond 64 bits are still exact ints."""
    doc = {
        "flamebearer": {"names": ["total"], "levels": [[0, 2**70, 0, 0]], "numTicks": 2**70},
        "metadata": {"format": "single"},
    }
    assert parse_render(doc) == FlameGraph(["total"], [[0, 2**70, 0, 0]], 2**70)


def connect(values: list[list[Any]], names: int = 3) -> dict[str, Any]:
    levels = [{"values": level} for level in values]
    return {"flamegraph": {"names": ["total", "a", "b"][:names], "levels": levels, "total": "4"}}


ROOT = ["0", "4", "0", "0"]
# Strings Python's int() reads (spaces, signs, underscores, other digits) or that are no
# int64 at all: the wire's int64 strings are plain ASCII digits.
NOT_INT64 = [" 1", "+1", "1_0", "١", "", "1,2", "1.0", "1" * 21]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        *(
            (
                connect([ROOT, ["0", text, "1", "1"]]),
                "flamegraph.levels[1][1]: expected an integer, got str",
            )
            for text in NOT_INT64
        ),
        (connect([ROOT, ["0", "1", "-1", "1"]]), "flamegraph.levels[1][2]: negative value -1"),
        (
            connect([ROOT, ["0", "1", "1", "1", "0", "1", "1", "3"]]),
            "flamegraph.levels[1][7]: name index 3 out of range (3 names)",
        ),
        (
            connect([ROOT, ["x", "1", "1", "1"], ["0", "1", "1", "9"]]),
            "flamegraph.levels[1][0]: expected an integer, got str",
        ),
        (
            connect([ROOT, ["0", "1", "1", "1"], ["0", "1", "1", "9"]]),
            "flamegraph.levels[2][3]: name index 9 out of range (3 names)",
        ),
        (
            connect([ROOT, [0, 1, 1, 1.0]]),
            "flamegraph.levels[1][3]: expected an integer, got float",
        ),
        (connect([ROOT, [0, 1, 1, -1]]), "flamegraph.levels[1][3]: negative value -1"),
        (
            connect([ROOT, [0, False, 1, 1]]),
            "flamegraph.levels[1][1]: expected an integer, got bool",
        ),
        (
            # a node without a total is never outside; the next one is node 1, x=4
            connect([ROOT, ["1", "0", "0", "1", "3", "1", "1", "2"]]),
            "levels[1]: node 1 at x=4 lies outside every node of the level above",
        ),
        (
            # touching nodes above: one node may not span both
            connect([ROOT, ["0", "2", "0", "1", "0", "2", "0", "2"], ["1", "2", "2", "1"]]),
            "levels[2]: node 0 at x=1 lies outside every node of the level above",
        ),
        (
            connect([ROOT, ["0", "1", "1", "1"], [], ["0", "1", "1", "1"]]),
            "levels[3]: node 0 at x=0 lies outside every node of the level above",
        ),
    ],
)
def test_malformed_levels_fail_with_the_same_message(doc: Any, message: str) -> None:
    """Whatever the whole-level pass cannot vouch for fails exactly as value by value."""
    with pytest.raises(FlameGraphError) as caught:
        parse_connect(doc)
    assert str(caught.value) == message
    with pytest.raises(FlameGraphError) as reference:
        Reference.parse_connect(doc)
    assert str(reference.value) == message


def test_nodes_without_a_total_are_kept_and_skipped_by_the_nesting_check() -> None:
    """A zero-total node lies anywhere; the nodes around it are checked as usual."""
    doc = connect([ROOT, ["1", "0", "0", "1", "0", "2", "2", "2"], ["0", "0", "0", "1"]])
    expected = FlameGraph(
        ["total", "a", "b"], [[0, 4, 0, 0], [1, 0, 0, 1, 0, 2, 2, 2], [0, 0, 0, 1]], 4
    )
    assert parse_connect(doc) == expected
    assert Reference.parse_connect(doc) == expected


# --- ranking -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "graph"), CASES, ids=[name for name, _ in CASES])
@pytest.mark.parametrize("by", ["self", "total"])
@pytest.mark.parametrize("normalize", [False, True])
def test_rankings_equal_the_reference(
    name: str, graph: FlameGraph, by: Literal["self", "total"], normalize: bool
) -> None:
    """Every function, every value and percentage, in the same order (ties included)."""
    for n in (1, 5, 10_000):
        assert fast_top(graph, n, by, normalize) == Reference.top(graph, n, by, normalize)


@pytest.mark.parametrize(("name", "graph"), CASES, ids=[name for name, _ in CASES])
@pytest.mark.parametrize("normalize", [False, True])
def test_self_percentages_equal_the_reference(
    name: str, graph: FlameGraph, normalize: bool
) -> None:
    """The same functions, percentages and order (the order breaks ties downstream)."""
    fast = self_percentages(graph, frames=rules(normalize))
    reference = Reference.self_percentages(graph, normalize)
    assert list(fast.items()) == list(reference.items())


def test_total_counts_recursion_once_with_mutual_recursion() -> None:
    """a -> b -> a -> b: each function's total is its outermost node's, once."""
    graph = parse_connect(
        {"flamegraph": encode_flamegraph({("a", "b", "a", "b"): 6, ("a", "b"): 2, ("a",): 2})}
    )
    result = fast_top(graph, 10, "total", False)
    assert [(f.function, f.self_pct, f.total_pct) for f in result.functions] == [
        ("a", 20.0, 100.0),
        ("b", 80.0, 80.0),
    ]


def test_total_merges_jfr_spellings_nested_in_each_other() -> None:
    """Nested JFR spellings of one function count once: the total is the outer node's."""
    # `com/example/A.f` under `com.example.A.f` is one function once normalized.
    stacks = {("com.example.A.f", "com/example/A.f", "leaf"): 5, ("com.example.A.f",): 5}
    graph = parse_connect({"flamegraph": encode_flamegraph(stacks)})

    def ranked(normalize: bool) -> list[tuple[str, float, float]]:
        result = fast_top(graph, 10, "total", normalize)
        return [(f.function, f.self_pct, f.total_pct) for f in result.functions]

    assert ranked(True) == [("com.example.A.f", 50.0, 100.0), ("leaf", 50.0, 50.0)]
    assert ranked(False) == [
        ("com.example.A.f", 50.0, 100.0),
        ("com/example/A.f", 0.0, 50.0),
        ("leaf", 50.0, 50.0),
    ]
