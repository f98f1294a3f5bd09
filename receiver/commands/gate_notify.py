"""`gate --notify ROUTE`: a regression summary through that route's notifiers.

The notifiers are built from the config as `serve` builds them and get what they always
get, a `Notification`: an alert group and its enrichment. The group is one firing
`ProfileRegression` alert per regressed service (labels `alertname`, `service`, `severity:
warning`; the summary names the function and both shares), with a group key of its own per
run, so every run posts a new Slack message (and, on a PagerDuty route, opens an incident).
The enrichment of each service is the analysis of the gate's window, as an alert would get
it, with the regressions as its changes (baseline % -> now %), the largest as the riser, and
the gate's findings and verdict change in its notes: every number shown is one the gate
measured. Notifier state (Slack threads) goes to a throw-away store: a gate run has no
conversation to continue. A failed notifier is reported on stderr and does not change the
gate's exit code.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import TextIO

from enrichers.result import EnrichmentResult, FunctionChange, ServiceAnalysis
from enrichers.times import iso_time
from receiver.commands.gate_judge import GateReport, more, shares
from receiver.commands.gate_report import finding_line
from receiver.config import Config
from receiver.errors import NotifyError
from receiver.models import WebhookPayload
from receiver.notifiers.summary import PROFILE_TITLES
from receiver.seams import Notification

__all__ = ["ALERT_NAME", "regression_notification", "send_regressions"]

ALERT_NAME = "ProfileRegression"


def _alert(report: GateReport, service: str) -> dict[str, object]:
    found = [f for f in report.regressions if f.key[0] == service]
    lead = found[0]
    summary = (
        f"{shares(lead)} of {PROFILE_TITLES[lead.key[1]]} (+{lead.delta_pp:.1f} pp)"
        f" since the baseline{more(found)}"
    )
    key = f"{service}/{iso_time(report.generated_at)}"
    return {
        "status": "firing",
        "labels": {"alertname": ALERT_NAME, "service": service, "severity": "warning"},
        "annotations": {
            "summary": summary,
            "description": "; ".join(finding_line(f) for f in found),
        },
        "startsAt": iso_time(report.generated_at),
        "fingerprint": hashlib.sha256(key.encode()).hexdigest()[:16],
    }


def _analysis(report: GateReport, analysis: ServiceAnalysis) -> ServiceAnalysis:
    found = [f for f in report.regressions if f.key[0] == analysis.service]
    changes = [
        FunctionChange(
            function=f.function,
            baseline_pct=f.baseline_pct,
            incident_pct=f.now_pct,
            delta_pp=f.delta_pp,
        )
        for f in found
    ]
    notes = [f"regression gate: {finding_line(f)}" for f in found]
    notes += [v.text for v in report.verdicts if v.service == analysis.service]
    return analysis.model_copy(
        update={
            "changes": changes,
            "biggest_riser": changes[0] if changes else None,
            "notes": [*notes, *analysis.notes],
        }
    )


def regression_notification(report: GateReport, route: str) -> Notification:
    """The regression summary as an alert group and its enrichment (see the module doc)."""
    services = list(dict.fromkeys(f.key[0] for f in report.regressions))
    common = {"alertname": ALERT_NAME, "severity": "warning"}
    if len(services) == 1:
        common["service"] = services[0]
    payload = WebhookPayload.model_validate(
        {
            "receiver": "flamebot-gate",
            "status": "firing",
            "alerts": [_alert(report, s) for s in services],
            "groupLabels": {"alertname": ALERT_NAME},
            "commonLabels": common,
            "commonAnnotations": {},
            "groupKey": f'{{}}:{{alertname="{ALERT_NAME}", run="{iso_time(report.generated_at)}"}}',
        }
    )
    analyses = [_analysis(report, report.analyses[s]) for s in services if s in report.analyses]
    enrichment = EnrichmentResult(services=analyses, enriched_at=report.generated_at)
    return Notification(id=0, route=route, payload=payload, enrichment=enrichment)


async def send_regressions(config: Config, route: str, report: GateReport, err: TextIO) -> int:
    """Notify every notifier of `route`; how many failed (each said on `err`)."""
    from receiver.notifiers import build_notifiers
    from receiver.store import Store

    notification = regression_notification(report, route)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="flamebot-gate-") as scratch:
        store = Store(Path(scratch) / "gate.db")
        await store.open()
        notifiers = build_notifiers(config.notifiers, store.conversations.of)
        try:
            for name in config.route_table()[route]:
                try:
                    await notifiers[name].notify(notification)
                except NotifyError as exc:
                    failed += 1
                    err.write(f"gate: --notify {route}: {name} failed: {exc}\n")
        finally:
            for notifier in notifiers.values():
                await notifier.aclose()
            await store.close()
    return failed
