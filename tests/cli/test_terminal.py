"""Colour only on a terminal without NO_COLOR; a status line only when the work is slow."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import pytest

from enrichers.analysis import build_enricher
from receiver.commands.terminal import DelayedStatus, wants_colour
from receiver.commands.triage import run_triage
from receiver.commands.triage_report import render_triage
from receiver.config import Config
from receiver.demo.fleet import DEFAULT_SCENARIO, NOW
from receiver.demo.simulation import Simulation
from tests.fakes.clock import ScriptedSleep

SETTLE_SECONDS = 30.0  # only ever waited out when the code under test is broken


class Stream(io.StringIO):
    """A text stream (not a terminal) that says when something was written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.written = asyncio.Event()

    def write(self, text: str) -> int:
        self.written.set()
        return super().write(text)


class Terminal(Stream):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "environ", "expected"),
    [
        (Terminal(), {}, True),
        (Terminal(), {"NO_COLOR": "1"}, False),
        (Terminal(), {"TERM": "dumb"}, False),
        (io.StringIO(), {}, False),
    ],
    ids=["terminal", "no-color", "dumb-terminal", "pipe"],
)
def test_colour_only_on_a_terminal(
    stream: io.StringIO, environ: dict[str, str], expected: bool
) -> None:
    """https://no-color.org: NO_COLOR set (any value) means no colour."""
    assert wants_colour(stream, environ) is expected


async def test_status_appears_once_after_the_delay_outside_a_terminal() -> None:
    """A CI log gets one plain line once the delay has passed, and nothing for fast work."""
    slow, fast = Stream(), Stream()
    delay_passed = ScriptedSleep(steps=1)
    async with DelayedStatus(slow, "triage: querying...", delay=0.5, sleep=delay_passed):
        await asyncio.wait_for(slow.written.wait(), SETTLE_SECONDS)
    work_first = ScriptedSleep(steps=0)  # the work ends while the delay still runs
    async with DelayedStatus(fast, "triage: querying...", delay=0.5, sleep=work_first):
        await asyncio.wait_for(work_first.parked.wait(), SETTLE_SECONDS)
    assert (slow.getvalue(), fast.getvalue()) == ("triage: querying...\n", "")
    assert (delay_passed.calls, work_first.calls) == ([0.5], [0.5])


async def test_status_spins_on_a_terminal_and_is_erased() -> None:
    """On a terminal the line is redrawn with a spinner every 0.1 s, then cleared."""
    stream = Terminal()
    three_frames = ScriptedSleep(steps=3)  # the delay, then two frames' pauses
    async with DelayedStatus(stream, "querying", delay=1.0, sleep=three_frames):
        await asyncio.wait_for(three_frames.parked.wait(), SETTLE_SECONDS)
    assert stream.getvalue() == "\r| querying\r/ querying\r- querying\r\x1b[K"
    assert three_frames.calls == [1.0, 0.1, 0.1, 0.1]


async def test_triage_colours_the_marker_and_verdict_by_severity() -> None:
    """Critical red, warning yellow, ok green; the metric lines stay plain."""
    async with Simulation(DEFAULT_SCENARIO, clock=NOW.timestamp) as sim:
        config = Config.model_validate(
            {
                "prometheus": {"url": sim.prometheus_url},
                "pyroscope": {"url": sim.pyroscope_url},
                "enrichment": {"service_map": DEFAULT_SCENARIO.service_map()},
            }
        )
        enricher = build_enricher(config)
        try:
            triage = await run_triage(enricher, service=None, now=NOW)
        finally:
            await enricher.aclose()
    lines = render_triage(triage, colour=True).splitlines()
    assert triage.generated_at == datetime(2026, 11, 25, 17, 26, 30, tzinfo=UTC)
    assert lines[2] == "  \x1b[1;31m[!!!] payment-service  →  CPU-BOUND\x1b[0m"
    assert "  \x1b[33m[ ! ] order-service  →  LOCK-BOUND\x1b[0m" in lines
    assert "  \x1b[32m[ . ] stream-service  →  HEALTHY\x1b[0m" in lines
    assert (
        lines[3]
        == "       CPU: 0.82 cores  Heap: 45%  GC: 0.012s/s  Threads: 24  Lat: 340ms  Err: 0.0%"
    )
