"""`flamebot gate` over a fleet: wall time and backend requests, against the same queries
made one after another.

Run by hand: `.venv/bin/python bench/gate.py [--services 20] [--latency-ms 20] [--artifacts]`.

The fakes of bench/harness.py on loopback (Prometheus and the strict Pyroscope, every
service with the four JVM profile types, each request answered after L ms). A baseline is
written first with `snapshot` (not timed), then `gate` runs in this process over the same
services: per service the profile types (`Series`), one `SelectMergeStacktraces` per
profile type and sub-window (4 x 10), and the analysis of the window (7 Prometheus queries,
8 flame graphs). Reported: the gate's wall time and its requests as the fakes counted them,
then the same requests replayed one after another on fresh connections (a script with curl
per query), and the ratio. `--artifacts` also writes the gate's artifacts (two more
`SelectMergeStacktraces` per service and profile type, and a PNG each) into a scratch
directory, timed with the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from pathlib import Path

from harness import Fakes, by_method, machine, pyroscope_name

from enrichers.regression import DEFAULT_WINDOWS
from receiver.commands.gate import GateOptions, print_gate
from receiver.commands.measure import PARALLEL_QUERIES
from receiver.commands.snapshot import print_snapshot
from receiver.commands.terminal import Terminal
from receiver.config import Config


def config(fakes: Fakes, services: list[str]) -> Config:
    return Config.model_validate(
        {
            "prometheus": {"url": fakes.prometheus.url, "timeout_seconds": 30},
            "pyroscope": {"url": fakes.pyroscope.url, "timeout_seconds": 30},
            "enrichment": {
                "service_map": {s: pyroscope_name(s) for s in services},
                "app_prefixes": ["com.example."],
                "deadline_seconds": 60,
            },
            "notifiers": [{"name": "console", "type": "console"}],
        }
    )


async def measure(args: argparse.Namespace) -> None:
    services = [f"svc-{n:02d}" for n in range(args.services)]
    async with Fakes(args.latency_ms / 1000, services) as fakes:
        settings = config(fakes, services)
        with tempfile.TemporaryDirectory() as scratch:
            baseline = Path(scratch) / "baseline.json"
            err = io.StringIO()
            code = await print_snapshot(
                settings, services=services, window="10m", at="now-20m", windows=args.windows,
                labels=[], out_path=baseline, term=Terminal(io.StringIO(), err),
            )  # fmt: skip
            if code != 0:
                raise SystemExit(f"snapshot failed ({code}): {err.getvalue()}")
            mark = len(fakes.hits())
            out = io.StringIO()
            started = time.perf_counter()
            artifacts = Path(scratch) / "artifacts" if args.artifacts else None
            options = GateOptions(baseline=baseline, windows=args.windows, artifacts=artifacts)
            code = await print_gate(settings, options, term=Terminal(out, err))
            wall = time.perf_counter() - started
            pictures = len(list(artifacts.glob("*.png"))) if artifacts else 0
        hits = fakes.hits()[mark:]
        most = (fakes.prometheus.in_flight.most, fakes.pyroscope.in_flight.most)
        sequential = await fakes.replay(hits)
    counts = by_method(hits)
    print(
        f"gate over {args.services} services x 4 profile types, {args.windows} sub-windows each;"
        f" every backend request takes {args.latency_ms:g} ms; at most {PARALLEL_QUERIES}"
        " sub-window queries in flight"
        + (f"; --artifacts: {pictures} pictures" if pictures else "")
    )
    print(f"gate exit code {code}: {out.getvalue().splitlines()[0]}")
    methods = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    print(f"backend requests: {len(hits)} ({methods})")
    print(f"  per service: {len(hits) / args.services:g}")
    print(f"max in flight, prometheus / pyroscope: {most[0]} / {most[1]}")
    print(f"gate wall time: {wall:.2f} s")
    print(f"the same {len(hits)} requests one after another: {sequential:.2f} s")
    print(f"ratio: gate {wall:.2f} s = {wall / sequential:.3f} x sequential ({sequential:.2f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--windows", type=int, default=DEFAULT_WINDOWS)
    parser.add_argument("--artifacts", action="store_true", help="also draw the pictures")
    parsed = parser.parse_args()
    print(machine(), flush=True)
    asyncio.run(measure(parsed))
