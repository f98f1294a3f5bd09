"""Compatibility: every real profile of ../shared/fixtures/pyroscope, for every runtime, served
by the strict fake as Pyroscope would serve it and ranked by flamebot, equals a computation
written here from the raw samples (pprof) or levels (flame graph JSON).

The production path is `flamebot top`'s: `Series` (the agent's `pyroscope_spy` and the
profile type tell the runtime), `SelectMergeStacktraces`, the runtime's frame rules. The
independent computation: a function's self value is the sum of the samples whose leaf it
is, its total the sum of the samples it appears in (once per sample, whatever the
recursion). Names are shown as their runtime writes them: JFR `/` as `.` for the JVM, Go's
type arguments dropped, everything else exactly as the agent wrote it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from enrichers import profile_types as ids
from enrichers.analysis import GroupEnricher
from enrichers.clients.prometheus import PrometheusClient
from enrichers.clients.pyroscope import PyroscopeClient
from enrichers.flamegraph import parse_render_diff, profile_unit, top_functions
from enrichers.pprof import parse_pprof, parse_pprof_json, stacks
from enrichers.presets import PRESETS
from enrichers.promql import label_selector
from enrichers.result import ProfileKind
from enrichers.settings import (
    EnrichmentSettings,
    GrafanaSettings,
    PrometheusSettings,
    PyroscopeSettings,
)
from enrichers.targets import recent_windows, service_target
from enrichers.times import epoch_ms
from receiver.commands.top import run_top
from tests.fakes.pyroscope import AGENTS, FakePyroscope

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "pyroscope"
NOW = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
N = 5
Stacks = list[tuple[tuple[str, ...], int]]


# --- the independent computation ------------------------------------------------------


def jfr(name: str) -> str:
    """JFR's `/` as `.`, except before a hidden class's address and in native paths."""
    return name if name.startswith(("/", ".")) else re.sub(r"/(?!0x)", ".", name)


def go(name: str) -> str:
    """Go's type arguments dropped: every bracketed group after the first character."""
    head, rest = name[:1], name[1:]
    while re.search(r"\[[^\[\]]*\]", rest):
        rest = re.sub(r"\[[^\[\]]*\]", "", rest)
    return head + rest


SHOWN: dict[str, Callable[[str], str]] = {"jvm": jfr, "go": go}


def independent(samples: Stacks, runtime: str) -> tuple[Counter[str], Counter[str]]:
    """(self, total) per function from whole stacks."""
    show = SHOWN.get(runtime, lambda name: name)
    selfs: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for stack, value in samples:
        names = [show(name) for name in stack]
        selfs[names[-1]] += value
        for name in set(names):
            totals[name] += value
    return selfs, totals


def level_stacks(names: list[str], levels: list[list[int]], step: int = 4, at: int = 0) -> Stacks:
    """The stacks of a flame graph's levels: each node's parent is the node one level up
    whose span holds its start (x delta-decoded per level); a node's self is one sample."""
    spans: list[list[tuple[int, int, tuple[str, ...]]]] = []
    found: Stacks = []
    for depth, level in enumerate(levels):
        row, x = [], 0
        for i in range(0, len(level), step):
            x += level[i + at]
            total, self_, name = level[i + at + 1], level[i + at + 2], level[i + step - 1]
            parent = next(
                (s for s in (spans[depth - 1] if depth else []) if s[0] <= x < s[0] + s[1]),
                (0, 0, ()),
            )
            stack = (*parent[2], names[name]) if depth else ()
            row.append((x, total, stack))
            if self_ and depth:
                found.append((stack, self_))
            x += total
        spans.append(row)
    return found


# --- the fixtures ---------------------------------------------------------------------


def pprof_samples(name: str, sample_type: str) -> Stacks:
    if name.endswith(".json"):
        return stacks(parse_pprof_json(json.loads((FIXTURES / name).read_text())), sample_type)
    return stacks(parse_pprof((FIXTURES / name).read_bytes()), sample_type)


def graph_samples(name: str) -> Stacks:
    doc = json.loads((FIXTURES / name).read_text())
    if "flamegraph" in doc:  # Connect: int64 strings
        graph = doc["flamegraph"]
        levels = [[int(v) for v in level["values"]] for level in graph["levels"]]
    else:
        graph, levels = doc["flamebearer"], doc["flamebearer"]["levels"]
    return level_stacks(graph["names"], levels)


# (file, runtime, profile kind and type as the agent stores it, the samples, the top name)
CASES: list[tuple[str, str, ProfileKind, str, Callable[[], Stacks], str]] = [
    (
        "pprof_java_jfr_kafka_process_cpu.pb.gz",
        "jvm",
        "cpu",
        ids.PROCESS_CPU,
        lambda: pprof_samples("pprof_java_jfr_kafka_process_cpu.pb.gz", "cpu"),
        "java.util.regex.Pattern$CharPropertyGreedy.match",
    ),
    (
        "pprof_java_jfr_kafka_alloc_in_new_tlab_bytes.pb.gz",
        "jvm",
        "alloc",
        ids.JAVA_ALLOC_BYTES,
        lambda: pprof_samples(
            "pprof_java_jfr_kafka_alloc_in_new_tlab_bytes.pb.gz", "alloc_in_new_tlab_bytes"
        ),
        "java.lang.invoke.DirectMethodHandle.allocateInstance",
    ),
    (
        "pprof_java_jfr_kafka_mutex_delay.pb.gz",
        "jvm",
        "mutex",
        ids.JAVA_MUTEX_DELAY,
        lambda: pprof_samples("pprof_java_jfr_kafka_mutex_delay.pb.gz", "delay"),
        "kafka.log.UnifiedLog.append",
    ),
    (
        "pprof_java_jfr_dump2_wall.pb.gz",
        "jvm",
        "wall",
        ids.JAVA_WALL,
        lambda: pprof_samples("pprof_java_jfr_dump2_wall.pb.gz", "wall"),
        "libc.so.6.__GI___futex_abstimed_wait_cancelable64",
    ),
    (
        "pprof_go_push_mutex.pb.gz",
        "go",
        "mutex",
        ids.GO_MUTEX_DELAY,
        lambda: pprof_samples("pprof_go_push_mutex.pb.gz", "delay"),
        "sync.(*Mutex).Unlock",
    ),
    (
        "pprof_go_heap_delta.pb",
        "go",
        "alloc",
        ids.GO_ALLOC_SPACE,
        lambda: pprof_samples("pprof_go_heap_delta.pb", "alloc_space"),
        "io.ReadAll",
    ),
    (
        "connect_selectmergeprofile_pprofjson_go_cpu_pyroscope-server.json",
        "go",
        "cpu",
        ids.PROCESS_CPU,
        lambda: pprof_samples(
            "connect_selectmergeprofile_pprofjson_go_cpu_pyroscope-server.json", "cpu"
        ),
        "runtime.(*unwinder).resolveInternal",
    ),
    (
        "connect_selectmergestacktraces_go_cpu_pyroscope-server.json",
        "go",
        "cpu",
        ids.PROCESS_CPU,
        lambda: graph_samples("connect_selectmergestacktraces_go_cpu_pyroscope-server.json"),
        "runtime.kevent",
    ),
    (
        "render_single_go_cpu_pyroscope-server.json",
        "go",
        "cpu",
        ids.PROCESS_CPU,
        lambda: graph_samples("render_single_go_cpu_pyroscope-server.json"),
        "runtime.futex",
    ),
    (
        "render_single_go_alloc_space_pyroscope-server.json",
        "go",
        "alloc",
        ids.GO_ALLOC_SPACE,
        lambda: graph_samples("render_single_go_alloc_space_pyroscope-server.json"),
        "compress/flate.NewWriter",
    ),
    (
        "render_single_java_cpu_javaspy.json",
        "jvm",
        "cpu",
        ids.PROCESS_CPU,
        lambda: graph_samples("render_single_java_cpu_javaspy.json"),
        "Main.main",
    ),
    (
        "render_single_python_cpu_pyspy.json",
        "python",
        "cpu",
        ids.PYSPY_CPU,
        lambda: graph_samples("render_single_python_cpu_pyspy.json"),
        "jaeger_client/TUDPTransport.py:41 - write",
    ),
    (
        "render_single_dotnet_cpu_dotnetspy.json",
        "dotnet",
        "cpu",
        ids.PROCESS_CPU,
        lambda: graph_samples("render_single_dotnet_cpu_dotnetspy.json"),
        "System.Console!System.ConsolePal.Write(class Microsoft.Win32.SafeHandles."
        "SafeFileHandle,unsigned int8*,int32,bool)",
    ),
    (
        "pprof_dotnet_3.pb.gz",
        "dotnet",
        "cpu",
        ids.DOTNET_CPU,
        lambda: pprof_samples("pprof_dotnet_3.pb.gz", "cpu"),
        "[unknown]",
    ),
    (
        "pprof_nodejs_cpu.pb.gz",
        "nodejs",
        "cpu",
        ids.NODE_WALL,
        lambda: pprof_samples("pprof_nodejs_cpu.pb.gz", "wall"),
        "(anonymous)",
    ),
    (
        "pprof_nodejs_heap.pb.gz",
        "nodejs",
        "alloc",
        ids.NODE_INUSE_SPACE,
        lambda: pprof_samples("pprof_nodejs_heap.pb.gz", "inuse_space"),
        "./index.js:(anonymous):19",
    ),
    (
        "pprof_rust_cpu.pb",
        "ebpf",
        "cpu",
        ids.PROCESS_CPU,
        lambda: pprof_samples("pprof_rust_cpu.pb", "cpu"),
        "libunwind.rs:93 - backtrace::backtrace::libunwind::trace",
    ),
]
NOT_PROFILES = {
    "README.md",
    "connect_series_service_profile_types.json",  # a Series answer
    "connect_selectseries_go_cpu_pyroscope-server.json",  # a time series
    "go_type_parameters.txt",  # names only (tests/enrichers/test_pyroscope_fixtures.py)
    "go_type_parameters.expected.txt",
}
DIFF = "render_diff_double_go_cpu.json"


def test_every_profile_of_every_runtime_is_a_case() -> None:
    """Each profile file of the shared fixtures is ranked below; every runtime has one."""
    cased = {case[0] for case in CASES} | {DIFF}
    assert {path.name for path in FIXTURES.iterdir()} - NOT_PROFILES == cased
    assert {case[1] for case in CASES} == set(PRESETS) - {"ruby"}  # no Ruby capture exists


def served(samples: Stacks) -> dict[tuple[str, ...], int]:
    """Folded stacks as Pyroscope merges them: same stack, one node."""
    merged: dict[tuple[str, ...], int] = {}
    for stack, value in samples:
        merged[stack] = merged.get(stack, 0) + value
    return merged


@pytest.fixture
async def fleet() -> Iterator[FakePyroscope]:
    """One service per case, as the case's agent stores it."""
    services = {case[0]: {case[3]: served(case[4]())} for case in CASES}
    labels = {case[0]: {"pyroscope_spy": AGENTS[case[1]].spy} for case in CASES}
    async with FakePyroscope(services, labels=labels) as fake:
        yield fake  # type: ignore[misc]


def enricher_for(fake: FakePyroscope) -> GroupEnricher:
    return GroupEnricher(
        EnrichmentSettings(),
        GrafanaSettings(),
        PrometheusClient(PrometheusSettings()),
        PyroscopeClient(PyroscopeSettings(url=fake.url)),
        clock=lambda: NOW,
    )


def expected_top(values: Counter[str], totals: Counter[str], n: int) -> list[float]:
    """The `n` largest values, for comparing rankings that may order ties differently."""
    return sorted((v for v in values.values() if v > 0), reverse=True)[:n]


@pytest.mark.parametrize(
    ("name", "runtime", "kind", "ptype", "samples", "first"), CASES, ids=[c[0] for c in CASES]
)
async def test_top_functions_equal_the_independent_computation(
    fleet: FakePyroscope,
    name: str,
    runtime: str,
    kind: ProfileKind,
    ptype: str,
    samples: Callable[[], Stacks],
    first: str,
) -> None:
    """Top-N by self and by total, through `top`'s path, equal the raw samples' numbers."""
    selfs, totals = independent(samples(), runtime)
    grand = sum(selfs.values())
    enricher = enricher_for(fleet)
    try:
        result = await run_top(enricher, kind, name, n=N, now=NOW)
        window, _ = recent_windows(enricher.settings, NOW)
        graph = await enricher.pyroscope.flamegraph(
            ptype, label_selector(name), epoch_ms(window.start), epoch_ms(window.end)
        )
    finally:
        await enricher.aclose()
    assert (result.failure, result.profile_type) == (None, ptype)
    assert result.top is not None
    unit, scale = profile_unit(ptype)
    by_self = result.top.functions
    assert by_self[0].function == first
    assert [s.value / scale for s in by_self] == pytest.approx(expected_top(selfs, totals, N))
    for stat in by_self:
        assert stat.self_pct == pytest.approx(100 * selfs[stat.function] / grand)
        assert stat.total_pct == pytest.approx(100 * totals[stat.function] / grand)
    by_total = top_functions(
        graph, n=N, by="total", unit=unit, unit_scale=scale, frames=PRESETS[runtime].frames
    ).functions
    assert [s.value / scale for s in by_total] == pytest.approx(expected_top(totals, selfs, N))
    for stat in by_total:
        assert stat.total_pct == pytest.approx(100 * totals[stat.function] / grand)
        assert stat.self_pct == pytest.approx(100 * selfs[stat.function] / grand)


def test_both_sides_of_a_real_diff_equal_the_independent_computation() -> None:
    """The render-diff capture: each side's self and total, from its own raw columns."""
    doc = json.loads((FIXTURES / DIFF).read_text())
    names, levels = doc["flamebearer"]["names"], doc["flamebearer"]["levels"]
    graphs = parse_render_diff(doc)
    for at, graph in zip((0, 3), graphs, strict=True):
        selfs, totals = independent(level_stacks(names, levels, step=7, at=at), "go")
        ranked = top_functions(graph, n=N, unit="samples", frames=PRESETS["go"].frames)
        assert [s.value for s in ranked.functions] == expected_top(selfs, totals, N)
        for stat in ranked.functions:
            assert stat.total_pct == pytest.approx(100 * totals[stat.function] / graph.total)


# --- culprits and idle time on real profiles -----------------------------------------------


def prometheus(cpu: float, latency_ms: float) -> httpx.MockTransport:
    """A Prometheus that has the jvm preset's CPU and latency for the service, nothing else."""

    def handle(request: httpx.Request) -> httpx.Response:
        body: dict[str, Any] = {"status": "success", "data": ["process_cpu_seconds_total"]}
        if request.url.path == "/api/v1/query":
            query = request.content.decode()
            value = cpu if "process_cpu" in query else latency_ms if "response_time" in query else 0
            result = [{"metric": {}, "value": [1, str(value)]}] if value else []
            body["data"] = {"resultType": "vector", "result": result}
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


async def analysed(fake: FakePyroscope, service: str, cpu: float, latency_ms: float) -> Any:
    settings = EnrichmentSettings()
    enricher = GroupEnricher(
        settings,
        GrafanaSettings(),
        PrometheusClient(PrometheusSettings(), transport=prometheus(cpu, latency_ms)),
        PyroscopeClient(PyroscopeSettings(url=fake.url)),
        clock=lambda: NOW,
    )
    try:
        incident, baseline = recent_windows(settings, NOW)
        return await enricher.analyze(service_target(service, settings), incident, baseline)
    finally:
        await enricher.aclose()


async def test_idle_threads_are_never_the_wall_hotspot(fleet: FakePyroscope) -> None:
    """The JFR wall capture's idle futex wait (71.8%) loses the hotspot to App.fib (22.7%)."""
    analysis = await analysed(fleet, "pprof_java_jfr_dump2_wall.pb.gz", cpu=0.1, latency_ms=900)
    assert (analysis.verdict, analysis.runtime) == ("I/O-BOUND", "jvm")
    assert analysis.top["wall"][0].function == "libc.so.6.__GI___futex_abstimed_wait_cancelable64"
    assert analysis.hotspot is not None
    assert (analysis.hotspot.function, round(analysis.hotspot.self_pct, 2)) == ("App.fib", 22.72)
    assert analysis.hotspot.culprit == "App.fib"
    assert (
        analysis.action
        == "add pools, timeouts and circuit breakers on the dependency behind App.fib"
    )


async def test_a_runtime_leaf_is_acted_on_through_its_application_caller(
    fleet: FakePyroscope,
) -> None:
    """Kafka's hot JDK regex leaf is acted on through its caller, the JMX exporter."""
    analysis = await analysed(
        fleet, "pprof_java_jfr_kafka_process_cpu.pb.gz", cpu=0.9, latency_ms=100
    )
    assert analysis.verdict == "CPU-BOUND"
    assert analysis.hotspot is not None
    regex = "java.util.regex.Pattern$CharPropertyGreedy.match"
    jmx = "io.prometheus.jmx.JmxCollector$Receiver.recordBean"
    assert (analysis.hotspot.function, analysis.hotspot.culprit) == (regex, jmx)
    assert (
        analysis.action
        == f"optimise {jmx} (time is in {regex}) (algorithm, caching, async offload)"
    )
