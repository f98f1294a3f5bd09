"""`flamebot diagnose`: the simulated fleet, a real Alertmanager with a firing alert, and the
reference guide's capacity-planning snippet (Outcome 4) run unchanged on `--json`."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from receiver.demo.simulation import Simulation
from tests.cli.conftest import child_env, flamebot, unused_url, write_config
from tests.support.alertmanager import firing_alert, running_alertmanager, webhook_config

GUIDE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "mttr-guide.md"
ALERT = {
    "alertname": "HighCpuUsage",
    "instance": "payment-service:9404",
    "job": "jvm",
    "severity": "warning",
}


def outcome_4_snippet() -> str:
    """The shell block under "Outcome 4" of the reference guide, exactly as written."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("### Outcome 4") :]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the guide's Outcome 4 has no bash block"
    return match.group(1)


def config_with_alertmanager(path: Path, simulation: Simulation, am_url: str) -> Path:
    path = write_config(path.parent, simulation.prometheus_url, simulation.pyroscope_url)
    data = yaml.safe_load(path.read_text())
    data["alertmanager"] = {"url": am_url}
    path.write_text(yaml.safe_dump(data))
    return path


async def test_outcome_4_runs_unchanged_on_diagnose_json(
    tmp_path: Path, simulation: Simulation
) -> None:
    """The guide's Outcome 4 snippet prints app shares and the firing alert, unchanged."""
    am_config = webhook_config(unused_url() + "/webhook", token="t0ken")
    with running_alertmanager(tmp_path, am_config) as am:
        started = datetime.now(UTC) - timedelta(minutes=3)
        am.post_alerts([firing_alert(ALERT, started, {"summary": "High CPU on payment-service"})])
        config = config_with_alertmanager(tmp_path / "flamebot.yaml", simulation, am.url)
        scripts = tmp_path / "scripts"
        scripts.mkdir()
        wrapper = scripts / "diagnose.sh"
        command = shlex.join(
            [sys.executable, "-m", "receiver", "diagnose", "--config", str(config)]
        )
        wrapper.write_text(f'#!/usr/bin/env bash\nexec {command} "$@"\n')
        process = await asyncio.create_subprocess_exec(
            "bash", "-c", outcome_4_snippet(), cwd=tmp_path, env=child_env(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert (process.returncode, err.decode()) == (0, "")
        direct = await flamebot("diagnose", "--json", "--config", config, cwd=tmp_path)
    assert (direct.code, direct.error_lines) == (0, [])
    document = json.loads(direct.stdout)
    expected = []
    for entry in document["profiles"]:
        app = sum(f["pct"] for f in entry["cpu_top5"] if "com.example" in f["function"])
        if entry["cpu_top5"]:
            expected.append(f"{entry['service']}: {app:.0f}% CPU in application code")
    assert out.decode().splitlines() == expected
    assert "payment-service: 34% CPU in application code" in expected
    payment = next(s for s in document["services"] if s["service"] == "payment-service")
    [alert] = payment["alerts"]
    assert (alert["alertname"], alert["state"], alert["labels"]) == (
        "HighCpuUsage",
        "active",
        ALERT,
    )
    assert alert["annotations"] == {"summary": "High CPU on payment-service"}
    assert payment["http"] == {"req_per_sec": 50.0, "error_ratio": 0.0, "latency_ms": 340.0}
    assert set(payment["app_share"]) == {"cpu", "alloc", "wall"}  # payment-service has no mutex
    assert document["alertmanager"] == {"url": am.url, "error": None}
    others = [s["alerts"] for s in document["services"] if s["service"] != "payment-service"]
    assert others == [[] for _ in others]


async def test_diagnose_text_and_a_dead_alertmanager(
    tmp_path: Path, simulation: Simulation
) -> None:
    """Text adds HTTP numbers and app shares; a dead Alertmanager exits 2, report printed."""
    dead = unused_url()
    config = config_with_alertmanager(tmp_path / "flamebot.yaml", simulation, dead)
    run = await flamebot(
        "diagnose", "--service", "payment-service", "--config", config, cwd=tmp_path
    )
    assert run.code == 2
    assert run.error_lines == [
        f"diagnose: alertmanager unreachable at {dead}: connection failed: ConnectError"
    ]
    assert "  payment-service\n       HTTP: 50.0 req/s  errors 0.0%  latency 340 ms\n" in run.stdout
    assert re.search(
        r"\n       cpu: \d+% in app code; com\.example\.PaymentVerticle\.sha256 34\.2%", run.stdout
    )
