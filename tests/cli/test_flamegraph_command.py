"""`flamebot flamegraph`: pictures of the simulated fleet and of pprof files, as a child process."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

from tests.cli.conftest import flamebot, unused_url, write_config

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "pyroscope"
KAFKA_CPU = FIXTURES / "pprof_java_jfr_kafka_process_cpu.pb.gz"
SVG = "{http://www.w3.org/2000/svg}"


def tooltips(path: Path) -> list[str]:
    root = ET.fromstring(path.read_bytes())
    return [title.text or "" for title in root.iter(f"{SVG}title")]


def outlined(path: Path) -> list[str]:
    root = ET.fromstring(path.read_bytes())
    return [r.get("stroke", "") for r in root.iter(f"{SVG}rect") if r.get("fill") == "none"]


async def test_svg_of_a_service_has_tooltips_and_the_hotspot_outlined(
    tmp_path: Path, sim_config: Path
) -> None:
    """The CPU picture of payment-service: each frame's numbers, sha256 outlined."""
    out = tmp_path / "payment.svg"
    result = await flamebot(
        "flamegraph", "payment-service", "--config", sim_config, "--out", out, cwd=tmp_path
    )
    assert (result.code, result.error_lines) == (0, [])
    assert result.stdout == (
        f"flamegraph: wrote {out} (payment-service, process_cpu:cpu:nanoseconds:cpu:nanoseconds)\n"
    )
    tips = tooltips(out)
    assert "com.example.PaymentVerticle.sha256\nself 34.2% · total 52.0%" in tips
    assert "java.lang.Thread.run\nself 0.0% · total 94.8%" in tips
    assert outlined(out) == ["#000000", "#000000"]  # the hotspot's one frame, and the legend


async def test_diff_colours_by_change_since_the_baseline_window(
    tmp_path: Path, sim_config: Path
) -> None:
    """`--diff`: sha256's total share went from 16.6% to 52.0% of CPU."""
    out = tmp_path / "payment-diff.svg"
    result = await flamebot(
        "flamegraph", "payment-service", "--diff", "--config", sim_config, "--out", out,
        cwd=tmp_path,
    )  # fmt: skip
    assert (result.code, result.error_lines) == (0, [])
    assert (
        "com.example.PaymentVerticle.sha256\nself 34.2% · total 52.0% · +35.4 pp since the baseline"
        in tooltips(out)
    )


async def test_png_of_the_mutex_profile(tmp_path: Path, sim_config: Path) -> None:
    """A PNG of order-service's lock contention, 1200 px wide, six rows of frames."""
    out = tmp_path / "order.png"
    result = await flamebot(
        "flamegraph", "order-service", "--type", "mutex", "--from", "now-15m", "--to", "now",
        "--config", sim_config, "--out", out, cwd=tmp_path,
    )  # fmt: skip
    assert (result.code, result.error_lines) == (0, [])
    with Image.open(out) as image:
        assert (image.format, image.size) == ("PNG", (1200, 12 + 52 + 6 * 18 + 34 + 12))


async def test_a_pprof_file_needs_no_backend(tmp_path: Path) -> None:
    """`--profile`: the Kafka CPU fixture with JVM frame rules, no config and no Pyroscope."""
    out = tmp_path / "kafka.svg"
    result = await flamebot(
        "flamegraph", "--profile", KAFKA_CPU, "--runtime", "jvm", "--out", out, cwd=tmp_path
    )
    assert (result.code, result.stderr) == (0, "")
    tips = tooltips(out)
    assert tips[0] == "total\nself 0.0% · total 100.0%"
    assert "java.util.regex.Pattern$CharPropertyGreedy.match\nself 1.0% · total 14.4%" in tips
    again = tmp_path / "again.svg"
    await flamebot(
        "flamegraph", "--profile", KAFKA_CPU, "--runtime", "jvm", "--out", again, cwd=tmp_path
    )
    assert again.read_bytes() == out.read_bytes()


async def test_failures_have_their_exit_codes(tmp_path: Path, sim_config: Path) -> None:
    """64 bad usage, 3 nothing to draw, 2 Pyroscope down; one line on stderr each."""
    (tmp_path / "down").mkdir()
    down = write_config(tmp_path / "down", unused_url(), unused_url(), {})
    cases = [
        (["payment-service", "--out", "x.gif"], 64, "--out x.gif: must end in .png or .svg"),
        (["--out", "x.png"], 64, "name a SERVICE, or a pprof file with --profile"),
        (["payment-service", "--from", "now", "--to", "now-1h", "--out", "x.png"], 64,
         "--from must be before --to"),
        (["payment-service", "--type", "heap", "--out", "x.png"], 64,
         "--type 'heap': not cpu, alloc, memory, mutex, wall"),
        (["payment-service", "--type", "mutex", "--out", "x.png"], 3,
         "bank-payment-service has no mutex profile (it has: "
         "memory:alloc_in_new_tlab_bytes:bytes:space:bytes,"
         " process_cpu:cpu:nanoseconds:cpu:nanoseconds, wall:wall:nanoseconds:wall:nanoseconds)"),
        (["--profile", "missing.pb.gz", "--out", "x.png"], 3,
         "cannot read missing.pb.gz: [Errno 2] No such file or directory: 'missing.pb.gz'"),
    ]  # fmt: skip
    for args, code, message in cases:
        result = await flamebot("flamegraph", *args, "--config", sim_config, cwd=tmp_path)
        assert (result.code, result.error_lines) == (code, [f"flamegraph: {message}"])
    result = await flamebot(
        "flamegraph", "payment-service", "--config", down, "--out", "x.png", cwd=tmp_path
    )
    assert result.code == 2
    assert result.error_lines[0].startswith("flamegraph: pyroscope (http://127.0.0.1:")
    assert not (tmp_path / "x.png").exists()
