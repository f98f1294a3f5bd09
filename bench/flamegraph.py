"""What decoding and ranking a large Pyroscope flame graph costs, against `json.loads` alone,
and what drawing one as a picture costs, against parsing it.

Run by hand: `.venv/bin/python bench/flamegraph.py [--nodes 200000] [--picture-nodes 10000]
[--repeat 7]`.

A synthetic Connect `SelectMergeStacktraces` response (pyroscope-api.md §1.4) is built from
a seeded random call graph of a Java service: `com/example/...` application frames over
framework, JDK and native frames, up to ~56 levels deep, some recursion, and truncation
nodes named `other`. It is encoded like the server (§1.6): 4 values per node, x offsets
delta-encoded per level, every int64 a JSON string. The project's parser checks it first.

The baseline is `json.loads` of the response bytes, the floor of any JSON client. The real
path is what flamebot does with the body of each flame graph: the client's decode, then
`parse_connect`, then `top_functions` by self as `enrichers.assessment` calls it (JVM preset).
`self_percentages` only runs for the hotspot's profile type, when the baseline window
answered too, so it is a row of its own. Each case reports the median and minimum of
`--repeat` runs and the tracemalloc peak of one more run.

Pictures: a `--picture-nodes` graph (10,000 by default) of the same generator, drawn as the
`flamebot flamegraph` command and the Slack upload draw it (`enrichers.pictures`: layout,
then the PNG or SVG backend, JVM frame classes), against decode + `parse_connect` of the
same response in the same run. Targets: PNG <= 150 ms and <= 250 KB, SVG <= 100 ms.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from enrichers.flamegraph import (
    FlameGraph,
    TopFunctions,
    parse_connect,
    profile_unit,
    ranked_in_unit,
    self_percentages,
)
from enrichers.presets import JVM

SEED = 20261125
MAX_DEPTH = 56
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
TICK = 10_000_000  # one CPU sample at 100 Hz, in nanoseconds
TOP_N = 5  # EnrichmentSettings.top_n's default
APP_PREFIXES = ("com/example/",)
TARGET_MS = 150.0
PNG_TARGET_MS, SVG_TARGET_MS, PNG_TARGET_KB = 150.0, 100.0, 250.0

# The client decodes a body with `httpx.Response.json()`, which is `json.loads(content)`.
decode: Callable[[bytes], Any] = json.loads


# --- the synthetic response ------------------------------------------------------------


def function_names(rng: random.Random) -> list[tuple[str, int]]:
    """About 3,000 distinct frames, each with the call-graph layer it lives in (0 = top)."""
    words = [
        "order", "payment", "cart", "user", "price", "stock", "ship", "auth", "search",
        "report", "ledger", "invoice", "catalog", "event", "session", "rule",
    ]  # fmt: skip
    verbs = [
        "get", "put", "load", "save", "parse", "render", "check", "apply", "build", "merge",
        "find", "update", "encode", "decode", "handle", "compute",
    ]  # fmt: skip
    frames: list[tuple[str, int]] = [
        ("java/lang/Thread.run", 0),
        ("start_thread", 0),
        ("[unknown]", 0),
        ("thread_native_entry(Thread*)", 1),
        ("JavaThread::run", 2),
    ]
    for lib in ("io/netty/channel", "org/springframework/web", "com/fasterxml/jackson/core"):
        for c in range(25):
            for m in range(8):
                frames.append((f"{lib}/C{c}$Inner.{verbs[m]}{c}", rng.randint(1, 14)))
    for module in words:
        for c in range(15):
            cls = f"com/example/{module}/{module.title()}Service{c}"
            for m in range(9):
                frames.append((f"{cls}.{rng.choice(verbs)}{words[m]}", rng.randint(6, 40)))
            frames.append((f"{cls}$$Lambda$17/0x0000000800c0{c:04x}.apply", rng.randint(6, 40)))
    for pkg in ("java/util", "java/lang", "java/util/concurrent", "jdk/internal/misc"):
        for c in range(12):
            for m in range(6):
                frames.append((f"{pkg}/Type{c}.{verbs[m + c % 8]}", rng.randint(30, 50)))
    for lib in ("libc.so.6", "libjvm.so", "libpthread.so.0"):
        for f in range(40):
            frames.append((f"{lib}.native_{f}", rng.randint(44, 56)))
    frames += [(f"G1ParScanThreadState::trim_queue_{i}", rng.randint(40, 56)) for i in range(30)]
    return list(dict.fromkeys(frames))


class Tree:
    """Nodes in creation order (a child after its parent), children kept in insertion order."""

    def __init__(self) -> None:
        self.name: list[str] = ["total"]
        self.parent: list[int] = [-1]
        self.self: list[int] = [0]
        self.children: list[dict[str, int]] = [{}]

    def child(self, node: int, name: str) -> int:
        found = self.children[node].get(name)
        if found is None:
            found = len(self.name)
            self.name.append(name)
            self.parent.append(node)
            self.self.append(0)
            self.children.append({})
            self.children[node][name] = found
        return found


def synthetic_tree(nodes: int, rng: random.Random) -> Tree:
    """Random walks down a layered call graph, merged into a tree of exactly `nodes` nodes."""
    frames = function_names(rng)
    by_layer: dict[int, list[str]] = {}
    for name, layer in frames:
        by_layer.setdefault(layer, []).append(name)
    callees: dict[str, list[str]] = {}
    hotness: dict[str, float] = {}
    for name, layer in frames:
        below = [f for d in range(3) for f in by_layer.get(layer + d, []) if f != name]
        callees[name] = rng.sample(below, min(len(below), rng.randint(1, 6)))
        if name.startswith("com/example/") and rng.random() < 0.05:
            callees[name].append(name)  # recursion: a -> a
        hotness[name] = min(rng.paretovariate(1.1), 200.0)
    entries = [name for name, layer in frames if layer == 0]
    n_other = max(1, nodes // 500)
    tree = Tree()
    while len(tree.name) < nodes - n_other:
        name, node = rng.choice(entries), 0
        for depth in range(1, MAX_DEPTH + 1):
            node = tree.child(node, name)
            stop = 0.02 + 0.006 * max(0, depth - 30)  # most stacks end before MAX_DEPTH
            if len(tree.name) == nodes - n_other or not callees[name] or rng.random() < stop:
                break
            if depth < MAX_DEPTH:
                name = rng.choice(callees[name])
        tree.self[node] += max(1, round(hotness[name] * rng.randint(1, 20))) * TICK
    for node in range(1, len(tree.name)):  # some inner frames run code of their own too
        if tree.children[node] and rng.random() < 0.2:
            tree.self[node] += rng.randint(1, 30) * TICK
    inner = [n for n in range(1, len(tree.name)) if tree.children[n]]
    for parent in rng.sample(inner, n_other):  # what the server merged under maxNodes
        tree.self[tree.child(parent, "other")] = rng.randint(1, 50) * TICK
    return tree


def encode(tree: Tree) -> dict[str, Any]:
    """The Connect response, encoded as the server does (pyroscope-api.md §1.4, §1.6)."""
    total = tree.self.copy()
    for node in range(len(total) - 1, 0, -1):
        total[tree.parent[node]] += total[node]
    index: dict[str, int] = {}
    levels = []
    frontier = [(0, 0)]  # (node, absolute x)
    while frontier:
        values: list[int] = []
        following = []
        prev_end = 0
        for node, x in frontier:
            name = index.setdefault(tree.name[node], len(index))
            values += [x - prev_end, total[node], tree.self[node], name]  # x delta-encoded
            prev_end = x + total[node]
            child_x = x + tree.self[node]  # the self part first, then the children (§1.6)
            for child in tree.children[node].values():
                following.append((child, child_x))
                child_x += total[child]
        levels.append({"values": [str(value) for value in values]})  # int64 as strings
        frontier = following
    return {
        "flamegraph": {
            "names": list(index),
            "levels": levels,
            "total": str(total[0]),
            "maxSelf": str(max(tree.self)),
        }
    }


def synthetic_response(nodes: int, seed: int) -> tuple[bytes, dict[str, int]]:
    """The response body, and its shape, checked by the project's parser."""
    tree = synthetic_tree(nodes, random.Random(seed))
    body = json.dumps(encode(tree), separators=(",", ":")).encode()
    graph = parse_connect(json.loads(body))  # raises FlameGraphError if malformed
    found = sum(len(level) for level in graph.levels) // 4
    if found != nodes:
        raise SystemExit(f"built {found} nodes, not {nodes}")
    # Sum(self) over all nodes == total (pyroscope-api.md §1.6).
    if sum(sum(level[2::4]) for level in graph.levels) != graph.total:
        raise SystemExit("the self values do not add up to the total")
    recursive = 0
    for node in range(1, len(tree.name)):
        up = tree.parent[node]
        while up > 0 and tree.name[up] != tree.name[node]:
            up = tree.parent[up]
        recursive += up > 0
    shape = {
        "levels": len(graph.levels),
        "names": len(graph.names),
        "other": tree.name.count("other"),
        "recursive": recursive,
        "bytes": len(body),
    }
    return body, shape


# --- the measured paths ----------------------------------------------------------------


def rank(graph: FlameGraph) -> TopFunctions:
    """`top_functions` as `enrichers.assessment` calls it with the JVM preset."""
    return ranked_in_unit(graph, CPU, n=TOP_N, frames=JVM.frames, app_prefixes=APP_PREFIXES)


def baseline(body: bytes) -> Any:
    return json.loads(body)


def decode_and_parse(body: bytes) -> FlameGraph:
    return parse_connect(decode(body))


def decode_and_rank(body: bytes) -> TopFunctions:
    return rank(parse_connect(decode(body)))


def decode_rank_and_share(body: bytes) -> tuple[TopFunctions, dict[str, float]]:
    graph = parse_connect(decode(body))
    return rank(graph), self_percentages(graph, frames=JVM.frames)


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and minimum wall time in ms; the garbage collector on, as in the service."""
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def peak_mb(run: Callable[[], Any]) -> float:
    """Peak traced Python memory of one run, in MB (the input bytes are not counted)."""
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main(nodes: int, repeat: int, seed: int) -> None:
    started = time.perf_counter()
    body, shape = synthetic_response(nodes, seed)
    print(
        f"synthetic SelectMergeStacktraces (seed {seed}): {nodes} nodes, {shape['levels']}"
        f" levels, {shape['names']} names, {shape['recursive']} nodes under a same-named"
        f" ancestor, {shape['other']} `other` nodes, {shape['bytes'] / 1e6:.1f} MB JSON"
        f" (built in {time.perf_counter() - started:.1f} s)"
    )
    doc = decode(body)
    graph = parse_connect(doc)
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("json.loads (baseline)", lambda: baseline(body)),
        ("parse_connect (decoded doc)", lambda: parse_connect(doc)),
        ("top_functions (parsed graph)", lambda: rank(graph)),
        (
            "self_percentages (parsed graph)",
            lambda: self_percentages(graph, frames=JVM.frames),
        ),
        ("decode + parse_connect", lambda: decode_and_parse(body)),
        ("decode + parse + top_functions", lambda: decode_and_rank(body)),
        ("  + self_percentages (hotspot kind)", lambda: decode_rank_and_share(body)),
    ]
    results = {}
    print(f"{'case':38s} {'median ms':>10s} {'min ms':>8s} {'peak MB':>8s}")
    for name, run in cases:
        median, least = timed(run, repeat)
        peak = peak_mb(run)
        results[name] = (median, least, peak)
        print(f"{name:38s} {median:10.1f} {least:8.1f} {peak:8.1f}")
    base, _, base_peak = results["json.loads (baseline)"]
    real, _, real_peak = results["decode + parse + top_functions"]
    print(
        f"decode+rank {nodes} nodes: {real:.1f} ms median = {real / base:.2f} x json.loads"
        f" alone ({base:.1f} ms); peak memory {real_peak:.1f} MB = {real_peak / base_peak:.2f} x"
        f" ({base_peak:.1f} MB); target <= {TARGET_MS:.0f} ms:"
        f" {'met' if real <= TARGET_MS else 'MISSED'}"
    )


def picture_of(graph: FlameGraph) -> Any:
    """The picture `flamebot flamegraph` draws of a graph: JVM names and frame classes."""
    from enrichers.pictures.picture import Picture

    names = [JVM.frames.show(name) for name in graph.names]
    classes = {name: JVM.frames.classify(name, APP_PREFIXES) for name in names}
    unit, scale = profile_unit(CPU)
    shown = FlameGraph(names, graph.levels, graph.total)
    return Picture(shown, "synthetic-service", CPU, unit, scale, classes=classes)


def pictures(nodes: int, repeat: int, seed: int) -> None:
    from enrichers.pictures.png import render_png
    from enrichers.pictures.svg import render_svg

    body, shape = synthetic_response(nodes, seed)
    picture = picture_of(decode_and_parse(body))
    png, svg = render_png(picture), render_svg(picture)
    print()
    print(
        f"pictures of a {nodes}-node graph ({shape['levels']} levels, {shape['names']} names,"
        f" {shape['bytes'] / 1e3:.0f} KB JSON): PNG {len(png) / 1e3:.0f} KB, SVG"
        f" {len(svg) / 1e3:.0f} KB"
    )
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("decode + parse_connect (baseline)", lambda: decode_and_parse(body)),
        ("render_png (layout + Pillow + PNG)", lambda: render_png(picture)),
        ("render_svg (layout + SVG text)", lambda: render_svg(picture)),
        ("decode + parse + render_png", lambda: render_png(picture_of(decode_and_parse(body)))),
    ]
    results = {}
    print(f"{'case':38s} {'median ms':>10s} {'min ms':>8s}")
    for name, run in cases:
        median, least = timed(run, repeat)
        results[name] = median
        print(f"{name:38s} {median:10.1f} {least:8.1f}")
    base = results["decode + parse_connect (baseline)"]
    png_ms = results["render_png (layout + Pillow + PNG)"]
    svg_ms = results["render_svg (layout + SVG text)"]
    met = png_ms <= PNG_TARGET_MS and svg_ms <= SVG_TARGET_MS and len(png) / 1e3 <= PNG_TARGET_KB
    print(
        f"pictures of {nodes} nodes: PNG {png_ms:.1f} ms = {png_ms / base:.2f} x parsing"
        f" ({base:.1f} ms), {len(png) / 1e3:.0f} KB; SVG {svg_ms:.1f} ms = {svg_ms / base:.2f} x;"
        f" targets PNG <= {PNG_TARGET_MS:.0f} ms and {PNG_TARGET_KB:.0f} KB, SVG <="
        f" {SVG_TARGET_MS:.0f} ms: {'met' if met else 'MISSED'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--picture-nodes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    if min(args.nodes, args.picture_nodes) < 1000 or args.repeat < 1:
        parser.error("--nodes and --picture-nodes must be at least 1000, --repeat at least 1")
    main(args.nodes, args.repeat, args.seed)
    pictures(args.picture_nodes, args.repeat, args.seed)
