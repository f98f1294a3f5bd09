"""`flamebot compare`: two windows of payment-service, on a real Prometheus and the strict
fake Pyroscope whose CPU hotspot rose from 5.1% to 34.2% between them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cli.conftest import flamebot, write_config
from tests.cli.test_triage_real_prometheus import (
    BASELINE_CPU,
    INCIDENT_CPU,
    RUN,
    SERVICE_MAP,
    payment_profiles,
)
from tests.fakes.pyroscope import FakePyroscope
from tests.support.prometheus import RealPrometheus

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
GONE = (*RUN, "com/example/PaymentVerticle.legacyAudit")
FRESH = (*RUN, "com/example/PaymentVerticle.fraudScore")
BEFORE_CPU = {**BASELINE_CPU, GONE: 100}
AFTER_CPU = {**INCIDENT_CPU, FRESH: 100}


@pytest.fixture
async def pyroscope() -> AsyncIterator[FakePyroscope]:
    """CPU windows ending more than 10 minutes ago are the old build, later ones the new."""
    profiles = payment_profiles(10, BEFORE_CPU, AFTER_CPU)
    fake = FakePyroscope({"bank-payment-service": profiles}, legacy_render=True)
    async with fake:
        yield fake


@pytest.fixture
def config(tmp_path: Path, real_prometheus: RealPrometheus, pyroscope: FakePyroscope) -> Path:
    return write_config(tmp_path, real_prometheus.url, pyroscope.url, SERVICE_MAP)


def compare_args(config: Path, *extra: str) -> list[str | Path]:
    return [
        "compare",
        "payment-service",
        "--before",
        "now-20m..now-12m",
        "--after",
        "now-8m..now",
        "--config",
        config,
        *extra,
    ]


async def test_compare_json_names_risers_fallers_new_and_vanished(
    tmp_path: Path, config: Path, pyroscope: FakePyroscope
) -> None:
    """One server-side Diff per profile type; shares per window, pp and relative."""
    result = await flamebot(
        *compare_args(config, "--type", "cpu", "-n", "2", "--json"), cwd=tmp_path
    )
    assert (result.code, result.error_lines) == (0, [])
    doc = json.loads(result.stdout)
    assert (doc["service"], doc["pyroscope_service"]) == ("payment-service", "bank-payment-service")
    assert doc["verdict"] == {"before": "CPU-BOUND", "after": "CPU-BOUND", "changed": False}
    cpu = doc["profiles"]["cpu"]
    assert list(doc["profiles"]) == ["cpu"]
    assert (cpu["profile_type"], cpu["unit"]) == (CPU, "seconds")
    assert (cpu["before_total"], cpu["after_total"]) == pytest.approx((1100e-9, 1100e-9))

    def row(name: str, before: float, after: float, rel: float | None) -> dict[str, object]:
        return {
            "function": name,
            "before_pct": pytest.approx(before),
            "after_pct": pytest.approx(after),
            "delta_pp": pytest.approx(after - before),
            "relative": None if rel is None else pytest.approx(rel),
        }

    sha = "com.example.PaymentVerticle.sha256"
    assert cpu["risers"] == [
        row(sha, 51 / 11, 342 / 11, 342 / 51 - 1),
        row("java.math.BigDecimal.<init>", 149 / 11, 158 / 11, 158 / 149 - 1),
    ]
    encode, write = (
        "io.vertx.core.json.JsonObject.encode",
        "io.netty.channel.AbstractChannelHandlerContext.write",
    )
    assert cpu["fallers"] == [
        row(encode, 420 / 11, 260 / 11, 260 / 420 - 1),
        row(write, 380 / 11, 240 / 11, 240 / 380 - 1),
    ]
    assert cpu["new"] == [row("com.example.PaymentVerticle.fraudScore", 0, 100 / 11, None)]
    assert cpu["vanished"] == [row("com.example.PaymentVerticle.legacyAudit", 100 / 11, 0, -1.0)]
    assert "explorationType=diff-flame-graph" in cpu["diff_link"]
    assert "var-serviceName=bank-payment-service" in cpu["diff_link"]
    diffs = [r for r in pyroscope.requests if r.path.endswith("/Diff")]
    assert len(diffs) == 1
    assert diffs[0].body["left"]["profileTypeID"] == CPU


async def test_compare_text_and_markdown(tmp_path: Path, config: Path) -> None:
    """The text report leads with the windows and the verdict; Markdown is a table."""
    text = await flamebot(*compare_args(config, "--type", "cpu", "-n", "1"), cwd=tmp_path)
    assert (text.code, text.error_lines) == (0, [])
    lines = text.stdout.splitlines()
    assert lines[0] == "compare payment-service (Pyroscope: bank-payment-service)"
    assert lines[3] == "  verdict: CPU-BOUND (unchanged)"
    assert lines[5] == f"CPU ({CPU}): 0.00 s -> 0.00 s"
    assert lines[6:14] == [
        "  risers",
        "     +26.5 pp   +571%    4.6% ->  31.1%  com.example.PaymentVerticle.sha256",
        "  fallers",
        "     -14.5 pp    -38%   38.2% ->  23.6%  io.vertx.core.json.JsonObject.encode",
        "  new",
        "      +9.1 pp     new    0.0% ->   9.1%  com.example.PaymentVerticle.fraudScore",
        "  vanished",
        "      -9.1 pp   -100%    9.1% ->   0.0%  com.example.PaymentVerticle.legacyAudit",
    ]
    assert lines[14].startswith("  diff: http://grafana.example:3000/a/grafana-pyroscope-app/")
    markdown = await flamebot(*compare_args(config, "--markdown"), cwd=tmp_path)
    assert markdown.code == 0
    assert markdown.stdout.startswith("## flamebot compare: payment-service\n")
    assert (
        "| riser | `com.example.PaymentVerticle.sha256` | 4.6 | 31.1 | +26.5 pp | +571% |"
        in markdown.stdout
    )
    assert "### Alloc (`memory:alloc_in_new_tlab_bytes:bytes:space:bytes`)" in markdown.stdout


@pytest.mark.parametrize(
    ("before", "line"),
    [
        ("now-1h", "compare: 'now-1h': expected FROM..TO, e.g. now-2h..now-1h"),
        ("now..now-1h", "compare: 'now..now-1h': FROM must be before TO"),
    ],
)
async def test_compare_refuses_bad_ranges(
    tmp_path: Path, config: Path, before: str, line: str
) -> None:
    """A bad range exits 64 with a readable line; nothing is asked."""
    bad = await flamebot(
        "compare", "payment-service", "--before", before, "--after", "now-5m..now",
        "--config", config, cwd=tmp_path,
    )  # fmt: skip
    assert (bad.code, bad.error_lines) == (64, [line])
