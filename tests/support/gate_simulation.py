"""Production-shaped CPU profiles with sampling noise, seeded, for the regression gate.

A service's profile is a set of folded stacks with weights (a few wide frames and a long
tail, as the reference fleet's). Each sub-window resamples it: the mix of work itself wanders
from minute to minute (the stack proportions are drawn from a Dirichlet around the weights,
`concentration` 700: the mix of a 5 % function has a spread of 0.8 pp), then the profiler
takes `samples` samples from that mix (a multinomial draw: 1,000 samples is a service at 0.17
cores sampled at 100 Hz for a minute); together a 5 % function's share moves by about 1.1 pp
(one standard deviation) from one sub-window to the next. `shifted()` moves a function's
share by an exact number of points, the other stacks shrinking in proportion.

`gate_outcomes()` runs the gate's statistics on many seeds; `python -m
tests.support.gate_simulation` prints the false-positive rate and the power at other noise
levels (`--concentration`, `--samples`).
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from collections.abc import Mapping
from typing import NamedTuple

from enrichers.flamegraph import FlameGraph, parse_connect
from enrichers.presets import JVM
from enrichers.regression import DEFAULT_WINDOWS, GateRule, assess
from enrichers.windowed import windowed_profile
from receiver.demo.folded import encode_flamegraph

__all__ = [
    "BASE_STACKS",
    "CPU",
    "RISER",
    "Outcome",
    "Stacks",
    "gate_outcome",
    "gate_outcomes",
    "resampled",
    "shifted",
    "window_graphs",
]

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
Stacks = dict[tuple[str, ...], float]
RISER = "com.example.OrderVerticle.validate"  # 5 % of CPU in the baseline


class Outcome(NamedTuple):
    regressed: bool  # the gate would fail
    caught: bool  # ... naming RISER


_LOOP = ("java.lang.Thread.run", "io.vertx.core.impl.EventLoop.run")
_HANDLE = (*_LOOP, "com.example.OrderVerticle.handle")
BASE_STACKS: Stacks = {
    (*_HANDLE, "com.example.OrderVerticle.processOrders"): 18.0,
    (*_HANDLE, "com.example.OrderVerticle.price", "java.math.BigDecimal.multiply"): 11.0,
    (*_HANDLE, "com.fasterxml.jackson.databind.ObjectMapper.writeValueAsString"): 9.0,
    (*_HANDLE, "com.example.OrderVerticle.price"): 7.0,
    (*_HANDLE, RISER): 5.0,
    (*_HANDLE, "java.util.HashMap.get"): 4.0,
    (*_HANDLE, "com.example.OrderVerticle.audit", "java.lang.String.format"): 4.0,
    (*_LOOP, "io.netty.channel.nio.NioEventLoop.select"): 8.0,
    (*_LOOP, "io.netty.buffer.PooledByteBufAllocator.newDirectBuffer"): 3.0,
    (*_LOOP, "io.netty.channel.AbstractChannelHandlerContext.write"): 6.0,
    ("java.lang.Thread.run", "jdk.internal.misc.Unsafe.park"): 5.0,
    ("GC Thread", "G1ParScanThreadState.trim_queue"): 4.0,
    ("GC Thread", "G1ConcurrentMark.mark_from_roots"): 2.0,
    ("JIT", "C2Compiler.compile_method"): 3.0,
    **{(*_HANDLE, f"com.example.OrderVerticle.step{n}"): 0.5 for n in range(12)},
    **{(*_LOOP, f"io.vertx.core.impl.Task{n}.run"): 0.25 for n in range(16)},
}


def _leaf_share(stacks: Mapping[tuple[str, ...], float], function: str) -> float:
    total = sum(stacks.values())
    return sum(w for s, w in stacks.items() if s[-1] == function) / total


def shifted(stacks: Mapping[tuple[str, ...], float], function: str, pp: float) -> Stacks:
    """The same profile with `function`'s self share `pp` points higher (others scaled)."""
    total = sum(stacks.values())
    before = _leaf_share(stacks, function)
    after = before + pp / 100
    rest = (1 - after) / (1 - before)
    return {
        stack: (weight / total) * (after / before if stack[-1] == function else rest)
        for stack, weight in stacks.items()
    }


def resampled(
    stacks: Mapping[tuple[str, ...], float],
    rng: random.Random,
    *,
    samples: int = 1000,
    concentration: float = 700.0,
) -> dict[tuple[str, ...], int]:
    """One sub-window: the mix drawn around `stacks`, then `samples` samples of it."""
    total = sum(stacks.values())
    keys = list(stacks)
    mix = [rng.gammavariate(concentration * stacks[k] / total, 1.0) for k in keys]
    drawn = Counter(rng.choices(range(len(keys)), weights=mix, k=samples))
    # 10 ms per sample, in nanoseconds, as a CPU profile counts them.
    return {keys[i]: count * 10_000_000 for i, count in drawn.items()}


def window_graphs(
    stacks: Mapping[tuple[str, ...], float],
    rng: random.Random,
    windows: int = DEFAULT_WINDOWS,
    **noise: float,
) -> list[FlameGraph]:
    """`windows` sub-window flame graphs, encoded and parsed as Pyroscope would serve them."""
    return [
        parse_connect({"flamegraph": encode_flamegraph(resampled(stacks, rng, **noise))})
        for _ in range(windows)
    ]


def gate_outcome(seed: int, pp: float, windows: int = DEFAULT_WINDOWS, **noise: float) -> Outcome:
    """One seeded run: a baseline window and a build window `pp` points hotter in RISER."""
    rng = random.Random(seed)
    build = shifted(BASE_STACKS, RISER, pp) if pp else BASE_STACKS
    before, after = (
        windowed_profile(CPU, window_graphs(s, rng, windows, **noise), frames=JVM.frames)
        for s in (BASE_STACKS, build)
    )
    findings = assess([(("order-service", "cpu"), before.shares(), after.shares())], GateRule())
    regressed = [f.function for f in findings if f.regressed]
    return Outcome(regressed=bool(regressed), caught=RISER in regressed)


def gate_outcomes(
    pp: float, seeds: int = 100, windows: int = DEFAULT_WINDOWS, **noise: float
) -> tuple[int, int]:
    """Over `seeds` seeds: how many runs the gate failed, and how many named RISER."""
    outcomes = [gate_outcome(seed, pp, windows, **noise) for seed in range(seeds)]
    return sum(o.regressed for o in outcomes), sum(o.caught for o in outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(description="false-positive rate and power of the gate")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--concentration", type=float, default=700.0)
    parser.add_argument("--windows", type=int, default=DEFAULT_WINDOWS)
    args = parser.parse_args()
    noise = {"samples": args.samples, "concentration": args.concentration}
    for pp in (0.0, 2.0, 3.0, 8.0):
        failed, caught = gate_outcomes(pp, args.seeds, args.windows, **noise)
        print(f"+{pp:g} pp: gate failed {failed}/{args.seeds}, named {RISER} {caught}/{args.seeds}")


if __name__ == "__main__":
    main()
