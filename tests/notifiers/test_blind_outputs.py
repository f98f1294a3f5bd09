"""A blind flamebot says UNKNOWN (or NO-PROFILE-DATA, per the table's order) and why, in
every output, within the enrichment deadline; never HEALTHY.

Three ways to be blind, each through the real enricher (a real Prometheus, the strict fake
Pyroscope) and every renderer: both backends down; Prometheus up but no series matching the
selector; Pyroscope up without the service.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from enrichers.analysis import build_enricher
from enrichers.result import EnrichmentResult
from enrichers.targets import recent_windows
from receiver.commands.terminal import Terminal
from receiver.commands.triage import print_triage
from receiver.config import Config
from receiver.models import WebhookPayload
from receiver.notifiers.pagerduty_event import render_event
from receiver.notifiers.slack_blocks import render_slack, render_thread_reply
from receiver.notifiers.slack_sections import escape
from receiver.notifiers.summary import headline, window_line
from receiver.notifiers.text import render_text
from tests.cli.conftest import unused_url
from tests.conftest import load_payload
from tests.fakes.pyroscope import FakePyroscope
from tests.support.prometheus import RealPrometheus

DEADLINE = 2.0
MARGIN = 2.0  # a shared machine's scheduling; the deadline is what is promised
JVM_CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
CALM_CPU = {("java/lang/Thread.run", "com/example/Cart.checkout"): 100}
UNKNOWN_ACTION = (
    "no verdict without data: fix what could not be seen, then run flamebot triage --service {}"
)


@dataclass(frozen=True)
class Blind:
    """One way of being blind: the alert's instance, what the outputs must say."""

    instance: str
    service: str
    pyroscope: str
    verdict: str
    severity: str
    unseen: list[str]
    metrics: str  # the metric line
    evidence: str
    action: str
    triage_code: int
    triage_metrics: str

    @property
    def said(self) -> str:
        return f"{self.verdict} ({'; '.join(self.unseen)})"


DOWN = Blind(
    "payment-service:9404",
    "payment-service",
    "bank-payment-service",
    "UNKNOWN",
    "unknown",
    ["prometheus unreachable (connection refused)", "pyroscope unreachable (connection refused)"],
    "no health metrics",
    "no threshold crossed",
    UNKNOWN_ACTION.format("payment-service"),
    2,
    "CPU: n/a  Heap: n/a  GC: n/a  Threads: n/a  Lat: n/a  Err: n/a",
)
NO_SERIES = Blind(
    "checkout:8080",
    "checkout",
    "checkout",
    "UNKNOWN",
    "unknown",
    ['no Prometheus series matched instance=~"checkout(:[0-9]+)?"'],
    "no health metrics",
    "no threshold crossed",
    UNKNOWN_ACTION.format("checkout"),
    0,
    "CPU: n/a  Heap: n/a  GC: n/a  Threads: n/a  Lat: n/a  Err: n/a",
)
NO_PROFILES = Blind(
    "order-service:9404",
    "order-service",
    "bank-order-service",
    "NO-PROFILE-DATA",
    "ok",
    ['Pyroscope has no profiles for service_name="bank-order-service"'],
    "CPU 0.15 cores · Heap 38.0% · GC 0.004 s/s · Threads 80 · Latency 800 ms · Errors 1.0%"
    " · Requests 20.0 req/s",
    "latency_ms 800 ms > 500 ms, threads 80 > 60",
    "check the profiling agent and the service_name mapping (queried bank-order-service)",
    0,
    "CPU: 0.15 cores  Heap: 38%  GC: 0.004s/s  Threads: 80  Lat: 800ms  Err: 1.0%",
)
CASES = {"backends down": DOWN, "no series": NO_SERIES, "no profiles": NO_PROFILES}


def config_for(case: Blind, prometheus: str, pyroscope: str) -> Config:
    return Config.model_validate(
        {
            "prometheus": {"url": prometheus},
            "pyroscope": {"url": pyroscope},
            "enrichment": {
                "deadline_seconds": DEADLINE,
                "service_map": {case.service: case.pyroscope},
                "app_prefixes": ["com.example."],
            },
        }
    )


def alert(case: Blind, starts: datetime, status: str = "firing") -> WebhookPayload:
    body = load_payload("reference-highcpuusage.json")
    body["alerts"][0]["labels"]["instance"] = case.instance
    body["alerts"][0]["startsAt"] = starts.isoformat()
    body["groupLabels"]["instance"] = body["commonLabels"]["instance"] = case.instance
    if status == "resolved":
        body["status"] = body["alerts"][0]["status"] = "resolved"
        body["alerts"][0]["endsAt"] = (starts + timedelta(minutes=1)).isoformat()
    return WebhookPayload.model_validate(body)


@dataclass(frozen=True)
class Seen:
    case: Blind
    config: Config
    now: datetime
    payload: WebhookPayload
    result: EnrichmentResult
    took: float


@pytest.fixture(params=list(CASES), ids=list(CASES))
async def blind(request: Any, real_prometheus: RealPrometheus) -> Any:
    """The case enriched by the real enricher at the Prometheus history's evaluation time."""
    case = CASES[request.param]
    now = real_prometheus.evaluated_at
    labels = {"checkout": {"pyroscope_spy": "javaspy"}}
    async with FakePyroscope({"checkout": {JVM_CPU: CALM_CPU}}, labels=labels) as fake:
        if case is DOWN:
            config = config_for(case, unused_url(), unused_url())
        else:
            config = config_for(case, real_prometheus.url, fake.url)
        enricher = build_enricher(config)
        enricher._clock = lambda: now
        payload = alert(case, now - timedelta(minutes=2))
        started = time.monotonic()
        try:
            result = await enricher.enrich(payload)
        finally:
            await enricher.aclose()
        took = time.monotonic() - started
        yield Seen(case, config, now, payload, result, took)


def test_the_analysis_is_blind_and_says_why_within_the_deadline(blind: Seen) -> None:
    """The verdict of the table's row, what could not be seen, no HEALTHY, no hotspot."""
    case, (analysis,) = blind.case, blind.result.services
    assert (analysis.verdict, analysis.severity, analysis.unseen) == (
        case.verdict,
        case.severity,
        case.unseen,
    )
    assert (analysis.hotspot, analysis.action) == (None, case.action)
    assert blind.took < DEADLINE + MARGIN


def test_headline_slack_and_pagerduty_say_it(blind: Seen) -> None:
    """Headline, Slack `text` and section, PagerDuty summary, class and details."""
    case, payload, result = blind.case, blind.payload, blind.result
    said = f"[FIRING:1] HighCpuUsage on {case.service}: {case.said}"
    assert headline(payload, result) == said
    slack = render_slack(payload, result)
    assert slack["text"] == f"\N{FIRE} {said}"
    section = next(b for b in slack["blocks"] if b["block_id"] == "service-0")
    name = case.service
    if case.pyroscope != case.service:
        name += f" (Pyroscope: {case.pyroscope})"
    assert section["text"]["text"] == "\n".join(
        [
            f"*{case.verdict}* · analysis severity {case.severity} · alert severity warning"
            f" · *{name}*",
            f":warning: *Not seen:* {'; '.join(case.unseen)}",
            f"*Evidence:* {escape(case.evidence)}",
            f"*Metrics:* {case.metrics}",
            "*Hotspot:* none",
            f"*Action:* {case.action}",
        ]
    )
    event = render_event(payload, result, routing_key="0" * 32, default_severity="warning")
    body = event["payload"]
    assert (body["summary"], body["class"]) == (said, case.verdict)
    details = body["custom_details"]
    assert (details["verdict"], details["severity"], details["unseen"]) == (
        case.verdict,
        case.severity,
        case.unseen,
    )
    assert (details["hotspot"], details["action"]) == (None, case.action)


def test_the_console_says_it(blind: Seen) -> None:
    """The console block of the service, line by line, then the alerts; links come last."""
    case = blind.case
    text = render_text(blind.payload, blind.result, 7)
    lines = text.split("\n")
    name = case.service + (
        f" (Pyroscope: {case.pyroscope})" if case.pyroscope != case.service else ""
    )
    expected = [
        f"[FIRING:1] HighCpuUsage on {case.service}: {case.said}  (#7)",
        f"  {name}: {case.verdict} (analysis severity {case.severity}, alert severity warning)",
        f"    Not seen: {'; '.join(case.unseen)}",
        f"    Metrics:  {case.metrics}",
        f"    Evidence: {case.evidence}",
        "    Hotspot:  none",
        f"    Action:   {case.action}",
    ]
    if case is NO_SERIES:  # Pyroscope answered: its top functions are shown
        expected.append("    Top CPU    com.example.Cart.checkout 100.0%")
    assert lines[: len(expected)] == expected
    assert lines[len(expected)] == "  Alerts: 1 (1 firing, 0 resolved)"
    links = lines.index("  Links:")
    assert lines[links + 1].startswith("    flame graph: http")
    assert all(line.startswith("    ") for line in lines[links + 1 :])
    assert "HEALTHY" not in text


def test_the_resolve_says_it(blind: Seen) -> None:
    """A resolve's thread reply names the verdict and what could not be seen."""
    resolved = alert(blind.case, blind.now - timedelta(minutes=2), status="resolved")
    reply = render_thread_reply(resolved, blind.result, "group resolved")
    assert reply == {
        "text": "\N{WHITE HEAVY CHECK MARK} group resolved: HighCpuUsage is now RESOLVED,"
        f" all alerts resolved. {blind.case.service}: {blind.case.said}"
    }


async def test_triage_says_it_in_text_and_json(blind: Seen, tmp_path: Path) -> None:
    """`triage --service S`: UNKNOWN (exit 2 with the backends down), never HEALTHY."""
    case = blind.case
    outputs = []
    for as_json in (False, True):
        out, err = io.StringIO(), io.StringIO()
        code = await print_triage(
            blind.config,
            service=case.service,
            as_json=as_json,
            term=Terminal(out, err, lambda: blind.now),
        )
        outputs.append((code, out.getvalue(), err.getvalue()))
    (code, text, errors), (json_code, document, _) = outputs
    assert (code, json_code) == (case.triage_code, case.triage_code)
    window, _ = recent_windows(blind.config.enrichment, blind.now)
    marker = "[ ? ]" if case.verdict == "UNKNOWN" else "[ . ]"
    block = [
        f"flamebot triage: 1 service, {window_line(window)}",
        "",
        f"  {marker} {case.service}  →  {case.verdict}",
        f"       Not seen: {'; '.join(case.unseen)}",
        f"       {case.triage_metrics}",
        f"       Action:  {case.action}",
    ]
    if case is NO_PROFILES:
        block.append("       Profiles: CPU: (none) | Alloc: (none) | Mutex: (none)")
    assert text.splitlines()[: len(block)] == block
    prometheus, pyroscope = blind.config.prometheus.url, blind.config.pyroscope.url
    if case is DOWN:
        assert errors.splitlines() == [
            f"triage: prometheus unreachable at {prometheus}: connection refused",
            f"triage: pyroscope unreachable at {pyroscope}: connection refused",
        ]
    (service,) = json.loads(document)["services"]
    assert (service["verdict"], service["severity"], service["unseen"]) == (
        case.verdict,
        case.severity,
        case.unseen,
    )
    assert "HEALTHY" not in text + document
