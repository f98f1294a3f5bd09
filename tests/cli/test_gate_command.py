"""`flamebot snapshot` and `gate` end to end: the strict fake Pyroscope over HTTP, a real
Prometheus, seeded sampling noise in every sub-window (tests/support/gate_simulation.py).

The baseline window serves order-service's production-shaped CPU profile; the build window
serves it again (`unchanged`) or with `com.example.OrderVerticle.validate` 8 points hotter.
Each sub-window query gets its own resample, seeded by its start, so a run is repeatable.
"""

from __future__ import annotations

import json
import random
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.conftest import flamebot, unused_url, write_config
from tests.fakes.pyroscope import FakePyroscope
from tests.support.gate_simulation import BASE_STACKS, CPU, RISER, resampled, shifted
from tests.support.prometheus import RealPrometheus

MUTEX = "mutex:contentions:count:mutex:count"
LOCKS = {
    ("java.lang.Thread.run", "com.example.OrderVerticle.processOrders"): 700,
    ("java.lang.Thread.run", "com.example.OrderVerticle.updateInventory"): 300,
}
SERVICE_MAP = {"order-service": "bank-order-service"}
NOW = int(time.time()) // 60 * 60 - 60  # a whole minute, a minute back: Prometheus has it
BASELINE_AT = NOW - 15 * 60


def noisy(build: Mapping[tuple[str, ...], float], switch_ms: int) -> Callable[..., Any]:
    """A source: baseline stacks until `switch_ms`, `build` after; resampled per query."""

    def source(service: str, ptype: str, start_ms: int, end_ms: int) -> Mapping[Any, Any]:
        stacks = BASE_STACKS if end_ms <= switch_ms else build
        return resampled(stacks, random.Random(start_ms))

    return source


async def fleet(build: Mapping[tuple[str, ...], float]) -> FakePyroscope:
    source = noisy(build, (BASELINE_AT + 60) * 1000)
    return FakePyroscope({"bank-order-service": {CPU: source, MUTEX: LOCKS}})


@pytest.fixture
async def regressed() -> AsyncIterator[FakePyroscope]:
    async with await fleet(shifted(BASE_STACKS, RISER, 8.0)) as fake:
        yield fake


@pytest.fixture
async def unchanged() -> AsyncIterator[FakePyroscope]:
    async with await fleet(BASE_STACKS) as fake:
        yield fake


def config_for(tmp_path: Path, prometheus: str, pyroscope: str) -> Path:
    path = write_config(tmp_path, prometheus, pyroscope, SERVICE_MAP)
    data = yaml.safe_load(path.read_text())
    data["notifiers"] = [{"name": "console", "type": "console"}]
    data["routes"] = {"default": ["console"], "ci": ["console"]}
    path.write_text(yaml.safe_dump(data))
    return path


async def snapshot(tmp_path: Path, config: Path) -> Path:
    out = tmp_path / "baseline.json"
    run = await flamebot(
        "snapshot", "--service", "order-service", "--at", str(BASELINE_AT), "--out", out,
        "--config", config, cwd=tmp_path,
    )  # fmt: skip
    assert (run.code, run.error_lines) == (0, [])
    assert run.stdout.startswith("snapshot: 1 services, 2 profiles, ")
    return out


async def test_gate_fails_on_an_eight_point_rise_naming_it(
    tmp_path: Path, real_prometheus: RealPrometheus, regressed: FakePyroscope
) -> None:
    """Exit 1; the function with both shares in the text, JSON, Markdown, JUnit, artifacts."""
    config = config_for(tmp_path, real_prometheus.url, regressed.url)
    baseline = await snapshot(tmp_path, config)
    document = json.loads(baseline.read_text())
    cpu = document["services"][0]["profiles"]["cpu"]
    assert (cpu["windows"], cpu["profile_type"], cpu["unit"]) == (10, CPU, "seconds")
    validate = next(f for f in cpu["functions"] if f["function"] == RISER)
    assert validate["self_pct"] == pytest.approx(5.0, abs=1.0)
    assert len(validate["window_self_pct"]) == 10
    selects = [r for r in regressed.requests if r.path.endswith("SelectMergeStacktraces")]
    sub_windows = {(r.body["start"], r.body["end"]) for r in selects}
    assert len([w for w in sub_windows if w[1] - w[0] == 60_000]) == 10

    artifacts = tmp_path / "artifacts"
    run = await flamebot(
        "gate", "--baseline", baseline, "--at", str(NOW), "--json", "--markdown",
        tmp_path / "gate.md", "--junit", tmp_path / "gate.xml", "--artifacts", artifacts,
        "--notify", "ci", "--config", config, cwd=tmp_path,
    )  # fmt: skip
    assert (run.code, run.error_lines) == (1, [])
    json_text, _, console = run.stdout.partition("\n}\n")
    result = json.loads(json_text + "\n}")
    [finding] = result["regressions"]
    assert (finding["service"], finding["profile"], finding["function"]) == (
        "order-service",
        "cpu",
        RISER,
    )
    assert finding["baseline_pct"] == pytest.approx(5.05, abs=2.0)  # 5 of 99, resampled
    assert finding["now_pct"] == pytest.approx(13.05, abs=2.0)
    assert finding["p_value"] < 1e-3
    assert (finding["new"], finding["regressed"], result["passed"]) == (False, True, False)
    assert [c["status"] for c in result["cases"]] == ["failed", "passed"]

    markdown = (tmp_path / "gate.md").read_text()
    assert markdown.startswith("<!-- flamebot-gate -->\n## flamebot gate: 1 regression\n")
    row = (
        f"| order-service | CPU | `{RISER}` | {finding['baseline_pct']:.1f}"
        f" | {finding['now_pct']:.1f} | {finding['delta_pp']:+.1f} pp |"
    )
    assert row in markdown

    suite = ET.parse(tmp_path / "gate.xml").getroot()
    assert suite.tag == "testsuites"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "1", "0")
    cases = suite.findall("./testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("order-service", "cpu"),
        ("order-service", "mutex"),
    ]
    failure = cases[0].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith(
        f"{RISER} {finding['baseline_pct']:.1f}% -> {finding['now_pct']:.1f}%"
    )
    assert cases[1].find("failure") is None

    assert sorted(p.name for p in artifacts.iterdir()) == [
        "diff-order-service-cpu.json",
        "diff-order-service-cpu.png",
        "diff-order-service-mutex.json",
        "diff-order-service-mutex.png",
        "gate.json",
    ]
    diff = json.loads((artifacts / "diff-order-service-cpu.json").read_text())
    assert diff["regressed"] == [RISER]
    assert diff["functions"][0]["function"] == RISER
    assert len(diff["functions"][0]["window_self_pct"]["now"]) == 10

    headline = next(line for line in console.splitlines() if "ProfileRegression" in line)
    assert headline.startswith("[FIRING:1] ProfileRegression on order-service: LOCK-BOUND")
    assert f"regression gate: order-service CPU {RISER}: " in console


async def test_gate_passes_on_the_same_profiles_with_noise(
    tmp_path: Path, real_prometheus: RealPrometheus, unchanged: FakePyroscope
) -> None:
    """Resampled, unchanged profiles: exit 0, every case passed, nothing notified."""
    config = config_for(tmp_path, real_prometheus.url, unchanged.url)
    baseline = await snapshot(tmp_path, config)
    run = await flamebot(
        "gate", "--baseline", baseline, "--at", str(NOW), "--junit", tmp_path / "gate.xml",
        "--notify", "ci", "--config", config, cwd=tmp_path,
    )  # fmt: skip
    assert (run.code, run.error_lines) == (0, [])
    lines = run.stdout.splitlines()
    assert lines[0] == "flamebot gate: no regression"
    assert lines[3:] == [
        "  [passed] order-service cpu: no function rose past the floors",
        "  [passed] order-service mutex: no function rose past the floors",
    ]
    suite = ET.parse(tmp_path / "gate.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("2", "0")


async def test_gate_exit_codes_for_bad_input(
    tmp_path: Path, real_prometheus: RealPrometheus, unchanged: FakePyroscope
) -> None:
    """Exit 4 bad baseline (no query made), 3 unknown service, 2 dead Pyroscope, 64 usage."""
    config = config_for(tmp_path, real_prometheus.url, unchanged.url)
    baseline = await snapshot(tmp_path, config)
    asked = len(unchanged.requests)
    broken = tmp_path / "broken.json"
    document = json.loads(baseline.read_text())
    document["services"][0]["profiles"]["cpu"]["functions"][3]["window_self_pct"].pop()
    broken.write_text(json.dumps(document))
    cases: list[tuple[list[Any], int, str]] = [
        ([broken], 4, f"gate: bad baseline file {broken}: services.0.profiles.cpu.functions.3"
         ".window_self_pct: expected 10 values, got 9"),
        ([tmp_path / "none.json"], 4, f"gate: bad baseline file {tmp_path / 'none.json'}:"
         " cannot read: No such file or directory"),
        ([baseline, "--service", "ghost"], 3, f"gate: unknown service(s) ghost: not in {baseline}"),
        ([baseline, "--windows", "3"], 64, "gate: --windows 3: at least 5 sub-windows are needed"),
        ([baseline, "--notify", "nope"], 64, "gate: --notify 'nope': no such route (routes: ci,"
         " default)"),
    ]  # fmt: skip
    for args, code, line in cases:
        run = await flamebot("gate", "--baseline", *args, "--config", config, cwd=tmp_path)
        assert (run.code, run.error_lines) == (code, [line])
    assert len(unchanged.requests) == asked
    dead = config_for(tmp_path, real_prometheus.url, unused_url())
    run = await flamebot("gate", "--baseline", baseline, "--config", dead, cwd=tmp_path)
    assert run.code == 2
    assert run.error_lines[0].startswith("gate: pyroscope unreachable at http://127.0.0.1:")
