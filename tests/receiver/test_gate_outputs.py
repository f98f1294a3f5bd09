"""The gate's judgement and outputs without a server: skipped cases, the verdict change, the
notification each renderer gets."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

from enrichers.regression import GateRule
from enrichers.result import ServiceAnalysis, Window
from enrichers.windowed import WindowedFunction, WindowedProfile
from receiver.commands.baseline import Baseline
from receiver.commands.gate_judge import GateReport, judge
from receiver.commands.gate_notify import regression_notification
from receiver.commands.gate_report import MARKER, render_junit, render_markdown
from receiver.commands.measure import Measured
from receiver.notifiers.pagerduty_event import render_event
from receiver.notifiers.slack_blocks import render_slack

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
MUTEX = "mutex:contentions:count:mutex:count"
T0 = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
BASE = Window(start=T0 - timedelta(minutes=10), end=T0)
NOW = Window(start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=1, minutes=10))
LOCK = "com.example.OrderVerticle.processOrders"


def profile(ptype: str, windows: int, **shares: list[float]) -> WindowedProfile:
    functions = [
        WindowedFunction(name, sum(v) / len(v), sum(v) / len(v), v) for name, v in shares.items()
    ]
    return WindowedProfile(ptype, "count", 1000.0, windows, functions)


def baseline() -> Baseline:
    def entry(p: WindowedProfile) -> dict[str, object]:
        return {
            "profile_type": p.profile_type,
            "total": p.total,
            "unit": p.unit,
            "windows": p.windows,
            "functions": [vars(f) for f in p.functions],
        }

    return Baseline.model_validate(
        {
            "version": 1,
            "generated_at": T0.isoformat(),
            "window": {"from": BASE.start.isoformat(), "to": BASE.end.isoformat()},
            "services": [
                {
                    "service": "order-service",
                    "pyroscope_service": "bank-order-service",
                    "preset": "jvm",
                    "verdict": "I/O-BOUND",
                    "profiles": {
                        "cpu": entry(profile(CPU, 3, main=[100.0] * 3)),
                        "mutex": entry(profile(MUTEX, 10, other=[4.0] * 10, **{LOCK: [1.0] * 10})),
                    },
                }
            ],
        }
    )


def analysis() -> ServiceAnalysis:
    return ServiceAnalysis(
        service="order-service",
        pyroscope_service="bank-order-service",
        runtime="jvm",
        verdict="LOCK-BOUND",
        severity="warning",
        action=f"narrow the lock in {LOCK}",
        window=NOW,
        baseline_window=BASE,
    )


def report() -> GateReport:
    measured = Measured(
        "order-service",
        "bank-order-service",
        analysis(),
        {
            "cpu": profile(CPU, 10, main=[100.0] * 10),
            "mutex": profile(MUTEX, 10, other=[4.0] * 10, **{LOCK: [60.0 + k for k in range(10)]}),
        },
        [CPU, MUTEX],
    )
    return judge(
        baseline(), Path("base.json"), [measured], GateRule(), generated_at=NOW.end,
        window=NOW, windows=10,
    )  # fmt: skip


def test_cases_verdict_change_and_junit() -> None:
    """Too few baseline sub-windows skip a case; the verdict change is named; JUnit says so."""
    gate = report()
    assert [(c.kind, c.status) for c in gate.cases] == [("cpu", "skipped"), ("mutex", "failed")]
    assert gate.cases[0].message == (
        "not enough samples: 3 sub-windows with samples in the baseline, 10 now (at least 5 each)"
    )
    assert [v.text for v in gate.verdicts] == ["order-service becomes LOCK-BOUND (was I/O-BOUND)"]
    [finding] = gate.regressions
    assert (finding.function, finding.baseline_pct, finding.now_pct) == (LOCK, 1.0, 64.5)
    markdown = render_markdown(gate)
    assert markdown.startswith(MARKER + "\n## flamebot gate: 1 regression\n")
    assert "- **order-service becomes LOCK-BOUND (was I/O-BOUND)**" in markdown
    assert "  - skipped order-service cpu: not enough samples" in markdown
    suite = ET.fromstring(render_junit(gate))
    skipped = suite.find("./testsuite/testcase[@name='cpu']/skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("not enough samples")
    assert suite.get("skipped") == "1"


def test_the_notification_is_the_measured_regression() -> None:
    """A firing ProfileRegression group carries the gate's numbers and the verdict change."""
    notification = regression_notification(report(), "ci")
    payload, enrichment = notification.payload, notification.enrichment
    assert (payload.status, [a.labels["service"] for a in payload.alerts]) == (
        "firing",
        ["order-service"],
    )
    assert payload.alerts[0].annotations["summary"] == (
        f"{LOCK} 1.0% -> 64.5% of Mutex (+63.5 pp) since the baseline"
    )
    [service] = enrichment.services
    assert service.biggest_riser is not None
    assert (service.biggest_riser.baseline_pct, service.biggest_riser.incident_pct) == (1.0, 64.5)
    assert service.notes[1] == "order-service becomes LOCK-BOUND (was I/O-BOUND)"
    slack = render_slack(payload, enrichment)
    assert slack["text"].startswith("🔥 [FIRING:1] ProfileRegression on order-service: LOCK-BOUND")
    section = slack["blocks"][1]["text"]["text"]
    assert f"*Note:* regression gate: order-service Mutex {LOCK}: 1.0% -&gt; 64.5% (+63.5 pp" in (
        section
    )
    assert "*Note:* order-service becomes LOCK-BOUND (was I/O-BOUND)" in section
    event = render_event(payload, enrichment, routing_key="k", default_severity="warning")
    assert (event["event_action"], event["payload"]["severity"]) == ("trigger", "warning")
    assert event["payload"]["summary"].startswith("[FIRING:1] ProfileRegression on order-service")
