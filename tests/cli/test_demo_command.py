"""`flamebot demo`: the whole flow on the simulated fleet, run as a child process."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from enrichers.result import EnrichmentResult
from receiver.demo.fleet import NOW
from receiver.demo.receiver import ScenarioTimedEnricher
from receiver.models import WebhookPayload
from tests.cli.conftest import FLAMEBOT, RUN_TIMEOUT_SECONDS, Run, child_env, flamebot
from tests.cli.fleet_report import FLEET_BLOCKS
from tests.conftest import load_payload
from tests.notifiers.slack_checks import check_slack_message
from tests.support.harness import PAYMENT_HOTSPOT

NOW_MS = 1_795_627_590_000  # 2026-11-25T17:26:30Z, the scenario's clock
PAYMENT_GROUP = '{}:{alertname="HighCpuUsage", instance="payment-service:9404"}'
ORDER_GROUP = '{}:{alertname="HighLatency", instance="order-service:8080"}'
PAYMENT_HEADLINE = (
    "[FIRING:1] HighCpuUsage on payment-service: CPU-BOUND,"
    " hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)"
)
ORDER_HEADLINE = (
    "[FIRING:1] HighLatency on order-service: LOCK-BOUND,"
    " hotspot com.example.OrderVerticle.processOrders (71.3% Mutex)"
)
# Prometheus: 7 jvm preset queries for each of the 2 alerted services and the 8 triaged ones,
# and triage's metric-name listing per service (runtime detection; the receiver's alerts
# find the runtime in the fleet listing). Pyroscope: the receiver's one fleet-wide Series at
# start-up; two flame graphs (baseline, incident) per profile type of each analysed service
# (payment 3, order 4, the 6 healthy ones 3); triage's LabelValues, and a Series per service
# it triages.
SERVED = "simulation served 78 Prometheus and 74 Pyroscope requests"
AES_SCENARIO = {
    "services": {
        "payment-service": {
            "profiles": {
                "cpu": {
                    "incident": [
                        "java/lang/Thread.run;com/example/PaymentVerticle.handleTransfer;"
                        "com/example/PaymentVerticle.aesEncrypt 610",
                        "java/lang/Thread.run;com/example/PaymentVerticle.handleTransfer 390",
                    ]
                }
            }
        },
        "fraud-service": {"health": {"gc": 0.05}},
    }
}


def explore_pane(url: str) -> dict[str, Any]:
    """The one pane of a Grafana Explore link, decoded."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "localhost:3000", "/explore")
    panes: dict[str, Any] = json.loads(parse_qs(parts.query)["panes"][0])
    (pane,) = panes.values()
    return pane


def flame_graph(pane: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """(datasource, profile type, label selector, from, to) of an Explore pane."""
    (query,) = pane["queries"]
    return (
        pane["datasource"],
        query["profileTypeId"],
        query["labelSelector"],
        pane["range"]["from"],
        pane["range"]["to"],
    )


def section(stdout: str, start: str, end: str) -> str:
    return stdout[stdout.index(start) : stdout.index(end)]


async def run_demo(tmp_path: Path, *extra: str | Path) -> tuple[str, Path]:
    result = await flamebot("demo", "--out", "out", *extra, cwd=tmp_path)
    assert (result.code, result.error_lines) == (0, [])
    return result.stdout, tmp_path / "out"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One run of the default demo (stdout, output directory), shared by the module."""
    cwd = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [*FLAMEBOT, "demo", "--out", "out"],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    run = Run(result.returncode, result.stdout, result.stderr)
    assert (run.code, run.error_lines) == (0, [])
    return run.stdout, cwd / "out"


def test_demo_shows_the_on_call_view_of_both_sick_services(demo: tuple[str, Path]) -> None:
    """The console rendering names verdict, hotspot and its rise from the baseline."""
    stdout, _ = demo
    lines = stdout.splitlines()
    assert lines[0] == (
        "flamebot demo: the reference bank fleet on a SIMULATED Prometheus and Pyroscope"
    )
    assert (
        "1. Alertmanager fires HighCpuUsage on payment-service:9404 (job jvm):"
        " POST /webhook -> 200 accepted, id 1"
    ) in lines
    assert f"{PAYMENT_HEADLINE}  (#1)" in lines
    assert (
        "    Hotspot:  com.example.PaymentVerticle.sha256: 34.2% of CPU self-time"
        " (5.1% before, +29.1 pp)"
    ) in lines
    assert "    Riser:    com.example.PaymentVerticle.sha256 5.1% -> 34.2% (+29.1 pp)" in lines
    assert f"{ORDER_HEADLINE}  (#2)" in lines
    assert (
        "  order-service (Pyroscope: bank-order-service): LOCK-BOUND"
        " (analysis severity warning, alert severity warning)"
    ) in lines
    payment = section(stdout, "1. Alertmanager", "2. Alertmanager")
    link = next(line for line in payment.splitlines() if line.startswith("    flame graph: "))
    assert flame_graph(explore_pane(link.split(": ", 1)[1])) == (
        "pyroscope-ds",
        "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
        '{service_name="bank-payment-service"}',
        "1795626632000",  # the alert's startsAt 17:25:32 minus the 15m window
        str(NOW_MS),
    )


def test_demo_ends_with_triage_of_the_whole_fleet(demo: tuple[str, Path]) -> None:
    """After the alerts, triage lists all eight services, critical first, with links."""
    stdout, _ = demo
    triage = section(stdout, "flamebot triage:", SERVED)
    links = re.findall(r"Flame graph: (\S+)", triage)
    header = "flamebot triage: 8 services, 2026-11-25 17:11:30 to 17:26:30 UTC\n"
    assert (
        re.sub(r"Flame graph: \S+", "Flame graph: <link>", triage) == header + FLEET_BLOCKS + "\n"
    )
    assert [flame_graph(explore_pane(url))[1:] for url in links] == [
        (
            "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
            '{service_name="bank-payment-service"}',
            str(NOW_MS - 15 * 60 * 1000),
            str(NOW_MS),
        ),
        (
            "mutex:contentions:count:mutex:count",
            '{service_name="bank-order-service"}',
            str(NOW_MS - 15 * 60 * 1000),
            str(NOW_MS),
        ),
    ]


def test_demo_reports_the_requests_the_simulation_served(demo: tuple[str, Path]) -> None:
    """The last line counts the requests each simulated backend answered."""
    stdout, _ = demo
    assert stdout.splitlines()[-1] == SERVED


def test_demo_writes_slack_and_pagerduty_payloads(demo: tuple[str, Path]) -> None:
    """Per sick service: a valid Block Kit message and an Events API v2 trigger."""
    stdout, out = demo
    assert sorted(p.name for p in out.iterdir()) == [
        "flamegraph-order-service.png",
        "flamegraph-order-service.svg",
        "flamegraph-payment-service.png",
        "flamegraph-payment-service.svg",
        "pagerduty-order-service.json",
        "pagerduty-payment-service.json",
        "slack-order-service.json",
        "slack-payment-service.json",
    ]
    assert "   wrote out/slack-payment-service.json (Slack Block Kit message;" in stdout
    assert (
        "   wrote out/flamegraph-payment-service.png and flamegraph-payment-service.svg"
        " (the flame graph the Slack thread gets)"
    ) in stdout
    with Image.open(out / "flamegraph-order-service.png") as picture:
        assert (picture.format, picture.width) == ("PNG", 1200)
    assert (
        b"com.example.OrderVerticle.processOrders"
        in (out / "flamegraph-order-service.svg").read_bytes()
    )
    slack = json.loads((out / "slack-payment-service.json").read_text())
    check_slack_message(slack)
    assert slack["text"] == f"🔥 {PAYMENT_HEADLINE}"
    buttons = [e for b in slack["blocks"] if b["type"] == "actions" for e in b["elements"]]
    flame = next(b["url"] for b in buttons if "explore" in b.get("url", ""))
    assert flame_graph(explore_pane(flame))[1:3] == (
        "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
        '{service_name="bank-payment-service"}',
    )
    event = json.loads((out / "pagerduty-payment-service.json").read_text())
    assert event["dedup_key"] == hashlib.sha256(PAYMENT_GROUP.encode()).hexdigest()
    assert event["event_action"] == "trigger"
    assert event["payload"]["summary"] == PAYMENT_HEADLINE
    assert event["payload"]["class"] == "CPU-BOUND"
    assert event["payload"]["custom_details"]["hotspot"] == PAYMENT_HOTSPOT
    assert any(link["href"] == flame for link in event["links"])
    order = json.loads((out / "pagerduty-order-service.json").read_text())
    assert order["dedup_key"] == hashlib.sha256(ORDER_GROUP.encode()).hexdigest()
    assert order["payload"]["class"] == "LOCK-BOUND"
    check_slack_message(json.loads((out / "slack-order-service.json").read_text()))


async def test_demo_output_is_the_same_on_every_run(tmp_path: Path, demo: tuple[str, Path]) -> None:
    """Another run prints the same text and writes the same files, byte for byte."""
    first, first_out = demo
    second, second_out = await run_demo(tmp_path)
    assert first == second
    assert sorted(p.name for p in second_out.iterdir()) == sorted(
        p.name for p in first_out.iterdir()
    )
    for path in first_out.iterdir():
        assert path.read_bytes() == (second_out / path.name).read_bytes(), path.name


async def test_demo_follows_a_changed_scenario(tmp_path: Path) -> None:
    """A scenario file moves the CPU hotspot to aesEncrypt and makes fraud-service GC-bound."""
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(AES_SCENARIO))
    stdout, out = await run_demo(tmp_path, "--scenario", scenario)
    headline = (
        "[FIRING:1] HighCpuUsage on payment-service: CPU-BOUND,"
        " hotspot com.example.PaymentVerticle.aesEncrypt (61.0% CPU)"
    )
    assert f"{headline}  (#1)" in stdout.splitlines()
    assert (
        "       Hotspot: com.example.PaymentVerticle.aesEncrypt: 61.0% of CPU self-time"
        " (0.0% before, +61.0 pp)"
    ) in stdout.splitlines()
    assert "  [ ! ] fraud-service  →  GC-BOUND" in stdout.splitlines()
    slack = json.loads((out / "slack-payment-service.json").read_text())
    assert slack["text"] == f"🔥 {headline}"
    fields = [f["text"] for b in slack["blocks"] for f in b.get("fields", [])]
    assert fields[0].startswith("*Top CPU* (self)\n`com.example.PaymentVerticle.aesEncrypt` 61.0%")


class MeasuringEnricher:
    """Reports the 0.4 s a busy machine took, and moves the scenario clock by `advance`."""

    def __init__(self, clock: list[datetime], advance: timedelta) -> None:
        self._clock = clock
        self._advance = advance

    async def enrich(self, payload: WebhookPayload) -> EnrichmentResult:
        self._clock[0] += self._advance
        return EnrichmentResult(enriched_at=NOW, duration_seconds=0.4)


@pytest.mark.parametrize(
    ("advance", "duration"),
    [(timedelta(0), 0.0), (timedelta(seconds=2.5), 2.5)],
    ids=["fixed-clock", "moving-clock"],
)
async def test_demo_times_enrichment_on_the_scenario_clock(
    advance: timedelta, duration: float
) -> None:
    """How long an enrichment took comes from the scenario's clock, never the machine's."""
    clock = [NOW]
    inner = MeasuringEnricher(clock, advance)
    enricher = ScenarioTimedEnricher(inner, lambda: clock[0])  # type: ignore[arg-type]
    result = await enricher.enrich(WebhookPayload.model_validate(load_payload("firing.json")))
    assert result == EnrichmentResult(enriched_at=NOW, duration_seconds=duration)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {"services": {"payment-service": {"health": {"cpu": "hot"}}}},
            "  services.payment-service.health.cpu: Input should be a valid number,"
            " unable to parse string as a number",
        ),
        (
            {"services": {"order-service": {"profiles": {"cpu": {"incident": ["a;b"]}}}}},
            "  services.order-service.profiles.cpu.incident: Value error, not a folded stack"
            " line ('frame;frame;leaf <value>'): 'a;b'",
        ),
    ],
    ids=["not-a-number", "not-folded"],
)
async def test_demo_rejects_an_invalid_scenario(
    tmp_path: Path, document: dict[str, Any], problem: str
) -> None:
    """A broken scenario file exits 1 naming the key path; nothing is served or written."""
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(document))
    result = await flamebot("demo", "--out", "out", "--scenario", scenario, cwd=tmp_path)
    assert (result.code, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [f"demo: invalid scenario {scenario}:", problem]
    assert not (tmp_path / "out").exists()
