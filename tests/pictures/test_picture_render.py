"""The PNG and SVG backends: valid files, labels that fit, the same bytes for the same input."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

from PIL import Image

from enrichers.flamegraph import profile_unit
from enrichers.flamegraph_tree import graph_from_stacks
from enrichers.pictures.capture import flamegraph_data
from enrichers.pictures.layout import Geometry, layout
from enrichers.pictures.picture import Picture, picture_from_data
from enrichers.pictures.png import _font, _measure, render_png, warm
from enrichers.pictures.svg import render_svg
from enrichers.pprof import flamegraph_from_pprof, parse_pprof
from enrichers.presets import JVM
from enrichers.profile_types import PROCESS_CPU
from enrichers.result import Window
from receiver.demo.fleet import DEFAULT_SCENARIO

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO.parent / "shared" / "fixtures" / "pyroscope"
NOW = DEFAULT_SCENARIO.now
WINDOW = Window(start=NOW - timedelta(minutes=16), end=NOW)
BASELINE = Window(start=WINDOW.start - timedelta(hours=1), end=WINDOW.end - timedelta(hours=1))
# Golden hashes: the pictures below, drawn with the pinned Pillow (constraints.txt). A change
# of the layout, the colours or Pillow changes them: look at the new pictures, then update.
PAYMENT_DIFF_PNG = "58bde7f7"
PAYMENT_DIFF_SVG = "66fb1ca7"
KAFKA_PNG = "2e242624"


def payment_diff() -> Picture:
    """The demo's payment-service CPU picture, against its baseline window."""
    profile = DEFAULT_SCENARIO.services["payment-service"].profiles["cpu"]
    data = flamegraph_data(
        "cpu",
        PROCESS_CPU,
        graph_from_stacks(profile.stacks(True).items()),
        graph_from_stacks(profile.stacks(False).items()),
        frames=JVM.frames,
        app_prefixes=["com.example."],
    )
    assert data is not None
    return picture_from_data(
        data,
        "payment-service",
        window=WINDOW,
        baseline_window=BASELINE,
        hotspot="com.example.PaymentVerticle.sha256",
    )


def kafka() -> Picture:
    graph = flamegraph_from_pprof(
        parse_pprof((FIXTURES / "pprof_java_jfr_kafka_process_cpu.pb.gz").read_bytes()), "cpu"
    )
    data = flamegraph_data(
        "cpu", PROCESS_CPU, graph, None, frames=JVM.frames, app_prefixes=["kafka."]
    )
    assert data is not None
    return picture_from_data(
        data, "kafka", hotspot="java.util.regex.Pattern$CharPropertyGreedy.match"
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


def test_png_is_a_palette_png_without_metadata() -> None:
    """1200 px wide, as high as its rows, at most 256 colours, no text or time chunks."""
    png = render_png(payment_diff())
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.mode, image.size) == (
            "PNG",
            "P",
            (1200, 12 + 52 + 7 * 18 + 34 + 12),
        )
        assert set(image.info) <= {"transparency"}
    assert [chunk for chunk in (b"tEXt", b"iTXt", b"zTXt", b"tIME") if chunk in png] == []


def test_svg_is_well_formed_with_one_tooltip_per_frame() -> None:
    """Every frame is a <g> with a <title>; the document parses as XML."""
    picture = payment_diff()
    root = ET.fromstring(render_svg(picture))
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    frames = layout(picture, Geometry(), lambda text: 0.0).frames
    assert len(titles) == len(frames) == 14
    assert titles[0] == "total\nself 0.0% · total 100.0% · +0.0 pp since the baseline"


def test_png_labels_fit_their_frames_in_the_bundled_font() -> None:
    """The drawn width of every label, by the font itself, stays inside its frame."""
    geometry = Geometry()
    font = _font(geometry.font_size)
    for picture in (payment_diff(), kafka()):
        frames = layout(picture, geometry, _measure(geometry.font_size)).frames
        for frame in frames:
            room = frame.width - geometry.gap - 2 * geometry.pad
            assert font.getlength(frame.label) <= max(room, 0), frame


def test_the_same_picture_gives_the_same_bytes() -> None:
    """Rendered twice in this process: identical; and equal to the golden hashes."""
    assert render_png(payment_diff()) == render_png(payment_diff())
    assert (sha(render_png(payment_diff())), sha(render_svg(payment_diff()))) == (
        PAYMENT_DIFF_PNG,
        PAYMENT_DIFF_SVG,
    )
    assert sha(render_png(kafka())) == KAFKA_PNG


def test_another_process_with_another_hash_seed_draws_the_same_bytes() -> None:
    """No dict or set order leaks into the pictures (PYTHONHASHSEED differs)."""
    code = (
        "import hashlib, sys; sys.path.insert(0, '.');"
        "from tests.pictures.test_picture_render import kafka, render_png;"
        "print(hashlib.sha256(render_png(kafka())).hexdigest()[:8])"
    )
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env={"PYTHONHASHSEED": seed},
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert done.stdout.strip() == KAFKA_PNG


def test_units_come_from_the_profile_type() -> None:
    """The picture of stored data takes its unit from the profile type ID."""
    assert (payment_diff().unit, payment_diff().scale) == profile_unit(PROCESS_CPU)
    assert payment_diff().window == WINDOW
    assert payment_diff().baseline_window == BASELINE


def test_warm_loads_the_fonts_so_the_first_picture_loads_none() -> None:
    """After warm(), both font sizes and the label widths are loaded; drawing adds no load."""
    _font.cache_clear()
    _measure.cache_clear()
    warm()
    g = Geometry()
    assert (_font.cache_info().currsize, _measure.cache_info().currsize) == (2, 1)
    assert {g.font_size, g.title_size} == {12, 16}
    loaded = (_font.cache_info().misses, _measure.cache_info().misses)
    render_png(payment_diff())
    assert (_font.cache_info().misses, _measure.cache_info().misses) == loaded
