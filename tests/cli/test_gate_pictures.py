"""`gate --artifacts`: the diff flame-graph pictures, drawn from the strict fake Pyroscope.

The baseline window serves order-service's CPU profile, the build window the same profile
with `com.example.OrderVerticle.validate` 8 points hotter (tests/cli/test_gate_command.py).
Geometry (enrichers/pictures/layout.py): 1200 px wide; 12 px margin, 52 px header, 18 px a
row, 34 px legend, 12 px margin: the CPU stacks are 5 frames deep under the root (6 rows,
218 px), the mutex stacks 2 (3 rows, 164 px).
"""

from __future__ import annotations

import io
import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from enrichers.pictures.colours import diff_colour
from tests.cli.conftest import flamebot
from tests.cli.test_gate_command import (
    BASELINE_AT,
    LOCKS,
    MUTEX,
    NOW,
    config_for,
    snapshot,
)
from tests.fakes.pyroscope import FakePyroscope
from tests.support.gate_simulation import BASE_STACKS, CPU, RISER, resampled, shifted
from tests.support.prometheus import RealPrometheus

SWITCH_MS = (BASELINE_AT + 60) * 1000
GRAPH_LEFT, GRAPH_WIDTH = 12, 1176
# Depth 4 (under root, Thread.run, EventLoop.run, handle) starts at y 136; 3 px lower is
# inside the hotspot's 2 px outline and above the labels' glyphs.
RISER_ROW_Y = 12 + 52 + 4 * 18 + 3


class Retention:
    """The CPU source; after `expire()`, the baseline window is gone from Pyroscope."""

    def __init__(self, build: Mapping[tuple[str, ...], float]) -> None:
        self.build = build
        self.expired = False

    def expire(self) -> None:
        self.expired = True

    def __call__(self, service: str, ptype: str, start_ms: int, end_ms: int) -> Mapping[Any, Any]:
        if end_ms <= SWITCH_MS:
            return {} if self.expired else resampled(BASE_STACKS, random.Random(start_ms))
        return resampled(self.build, random.Random(start_ms))


@pytest.fixture
def retention() -> Retention:
    return Retention(shifted(BASE_STACKS, RISER, 8.0))


@pytest.fixture
async def pyroscope(retention: Retention) -> AsyncIterator[FakePyroscope]:
    async with FakePyroscope({"bank-order-service": {CPU: retention, MUTEX: LOCKS}}) as fake:
        yield fake


def riser_pct(stacks: Mapping[tuple[str, ...], float], start_s: int) -> float:
    """RISER's share of the fake's answer for the 10-minute window starting at `start_s`."""
    drawn = resampled(stacks, random.Random(start_s * 1000))
    return 100 * sum(v for k, v in drawn.items() if k[-1] == RISER) / sum(drawn.values())


def red(pixel: tuple[int, ...]) -> bool:
    """A frame coloured by a grown share (towards GREW (214, 39, 40)), not the app orange."""
    r, g, b = pixel[:3]
    return r - g > 60 and r - b > 60 and abs(g - b) < 25


def orange(pixel: tuple[int, ...]) -> bool:
    """The application class colour (242, 142, 43), shaded a little by name."""
    r, g, b = pixel[:3]
    return r > 190 and 100 < g < 180 and b < 80


def row(image: Image.Image, y: int) -> list[tuple[int, ...]]:
    rgb = image.convert("RGB")
    return [rgb.getpixel((x, y)) for x in range(GRAPH_LEFT, GRAPH_LEFT + GRAPH_WIDTH)]  # type: ignore[misc]


def runs(pixels: list[tuple[int, ...]]) -> list[tuple[tuple[int, ...], int]]:
    """Consecutive equal pixels as (colour, width)."""
    found: list[tuple[tuple[int, ...], int]] = []
    for pixel in pixels:
        if found and found[-1][0] == pixel:
            found[-1] = (pixel, found[-1][1] + 1)
        else:
            found.append((pixel, 1))
    return found


def opened(path: Path) -> Image.Image:
    image = Image.open(io.BytesIO(path.read_bytes()))
    image.load()
    return image


@dataclass(frozen=True)
class Gating:
    """The gate's config and the baseline snapshot taken with it, before the test acts."""

    tmp_path: Path
    config: Path
    baseline: Path

    @property
    def artifacts(self) -> Path:
        return self.tmp_path / "artifacts"

    async def gate(self) -> Any:
        """`flamebot gate --artifacts` against the baseline, at NOW."""
        return await flamebot(
            "gate", "--baseline", self.baseline, "--at", str(NOW), "--artifacts", self.artifacts,
            "--config", self.config, cwd=self.tmp_path,
        )  # fmt: skip


@pytest.fixture
async def gating(
    tmp_path: Path, real_prometheus: RealPrometheus, pyroscope: FakePyroscope
) -> Gating:
    """A baseline snapshot of the fleet, ready to gate against."""
    config = config_for(tmp_path, real_prometheus.url, pyroscope.url)
    return Gating(tmp_path, config, await snapshot(tmp_path, config))


async def test_gate_artifacts_hold_a_diff_picture_per_profile_red_where_it_grew(
    gating: Gating, pyroscope: FakePyroscope, retention: Retention
) -> None:
    """One PNG per service and profile type, decodable, sized by depth; the riser is red."""
    before = len(pyroscope.requests)
    run = await gating.gate()
    artifacts = gating.artifacts
    assert (run.code, run.error_lines) == (1, [])
    pictures = sorted(p.name for p in artifacts.glob("*.png"))
    assert pictures == ["diff-order-service-cpu.png", "diff-order-service-mutex.png"]
    cpu = opened(artifacts / "diff-order-service-cpu.png")
    mutex = opened(artifacts / "diff-order-service-mutex.png")
    assert (cpu.format, cpu.size) == ("PNG", (1200, 218))
    assert (mutex.format, mutex.size) == ("PNG", (1200, 164))

    # Both whole windows were asked for each profile, with the windows of the file and the gate.
    whole = {
        (r.body["profileTypeID"], r.body["start"], r.body["end"])
        for r in pyroscope.requests[before:]
        if r.path.endswith("SelectMergeStacktraces") and r.body["end"] - r.body["start"] == 600_000
    }
    assert whole == {
        (ptype, start * 1000, end * 1000)
        for ptype in (CPU, MUTEX)
        for start, end in ((BASELINE_AT - 600, BASELINE_AT), (NOW - 600, NOW))
    }

    # The riser's frame is the reddest run of its row, as wide as its share of the build's
    # window, coloured by its rise since the baseline window (the fake's answers, recomputed).
    now_pct = riser_pct(retention.build, NOW - 600)
    rise = now_pct - riser_pct(BASE_STACKS, BASELINE_AT - 600)
    pixels = row(cpu, RISER_ROW_Y)
    assert not any(orange(p) for p in pixels)
    colour, width = max((r for r in runs(pixels) if red(r[0])), key=lambda r: r[0][0] - r[0][1])
    assert width == pytest.approx(now_pct / 100 * GRAPH_WIDTH - 4, abs=3)  # inside the outline
    # A palette PNG: the octree quantiser averages near colours with what else the picture
    # holds (its text, the other frames), so the colour is the rise's within +-3 pp, not exact.
    more, less = diff_colour(rise + 3), diff_colour(rise - 3)
    assert all(more[i] <= colour[i] <= less[i] for i in range(3)), (colour, rise)
    assert not any(red(p) for y in range(64, 118) for p in row(mutex, y))  # the same locks


async def test_gate_pictures_are_plain_and_say_so_when_the_baseline_window_is_gone(
    gating: Gating, retention: Retention
) -> None:
    """No CPU samples in the baseline window now: a plain CPU picture, said on stderr."""
    retention.expire()
    run = await gating.gate()
    artifacts = gating.artifacts
    start = datetime.fromtimestamp(BASELINE_AT - 600, UTC)
    window = f"{start:%Y-%m-%d %H:%M:%S} to {start + timedelta(minutes=10):%H:%M:%S} UTC"
    assert (run.code, run.error_lines) == (
        1,
        [f"gate: diff-order-service-cpu.png: not a diff: no cpu samples in the baseline window"
         f" {window}"],
    )  # fmt: skip
    cpu = opened(artifacts / "diff-order-service-cpu.png")
    assert (cpu.format, cpu.size) == ("PNG", (1200, 218))
    pixels = row(cpu, RISER_ROW_Y)
    assert not any(red(p) for p in pixels)
    assert sum(1 for p in pixels if orange(p)) > 0.3 * GRAPH_WIDTH  # app frames, by class
    assert opened(artifacts / "diff-order-service-mutex.png").size == (1200, 164)
