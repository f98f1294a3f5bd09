"""`flamebot demo`: the whole flow on a simulated reference fleet, on loopback only.

1. a simulated Prometheus and Pyroscope start in-process, serving the scenario;
2. a real flamebot receiver (service, store, pipeline, enricher, console notifier) starts
   on a free loopback port, configured for them;
3. each scenario alert is POSTed to it as an Alertmanager webhook; once delivered, the
   console text is printed and the Slack and PagerDuty payloads are written to the output
   directory, as `slack-<service>.json` and `pagerduty-<service>.json`, with the flame-graph
   picture the Slack thread gets, as `flamegraph-<service>.png` and `.svg`;
4. `flamebot triage` runs against the same simulation and prints the whole fleet.

The clock is the scenario's, so the output is the same on every run.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from enrichers.pictures.picture import picture_of
from enrichers.pictures.png import render_png
from enrichers.pictures.svg import render_svg
from receiver.commands.terminal import Terminal
from receiver.commands.triage import print_triage
from receiver.config import Config
from receiver.demo.fleet import DEFAULT_SCENARIO
from receiver.demo.receiver import DeliveredAlert, DemoError, DemoReceiver
from receiver.demo.scenario import Scenario, load_scenario
from receiver.demo.simulation import Simulation
from receiver.demo.webhooks import webhook
from receiver.errors import ConfigError
from receiver.notifiers.pagerduty_event import render_event
from receiver.notifiers.slack_blocks import render_slack
from receiver.notifiers.summary import alert_service, primary_analysis

__all__ = ["PAGERDUTY_ROUTING_KEY", "demo_config", "run_demo"]

PAGERDUTY_ROUTING_KEY = "REPLACE-WITH-YOUR-INTEGRATION-KEY"
BLOCK_KIT_BUILDER = "https://app.slack.com/block-kit-builder"


def demo_config(scenario: Scenario, simulation: Simulation, store: Path) -> Config:
    """The receiver's config: the simulated backends, the reference Grafana, console only."""
    return Config.model_validate(
        {
            "server": {"host": "127.0.0.1", "port": 0},
            "store": {"path": str(store)},
            "prometheus": {"url": simulation.prometheus_url},
            "pyroscope": {"url": simulation.pyroscope_url},
            "grafana": {
                "url": "http://localhost:3000",
                "pyroscope_datasource_uid": "pyroscope-ds",
                "dashboards": [
                    {
                        "title": "JVM overview",
                        "uid": "pyroscope-java-overview",
                        "vars": {"application": "{pyroscope_service}"},
                    }
                ],
            },
            "enrichment": {
                "service_map": scenario.service_map(),
                "app_prefixes": ["com.example."],
            },
            "notifiers": [{"name": "console", "type": "console"}],
        }
    )


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_payloads(delivered: DeliveredAlert, out: Path) -> list[str]:
    """Write the Slack message and the PagerDuty event; the lines that say so."""
    payload, enrichment = delivered.notification.payload, delivered.notification.enrichment
    lead = primary_analysis(enrichment)
    service = lead.service if lead is not None else alert_service(payload.alerts[0])
    slack, pagerduty = out / f"slack-{service}.json", out / f"pagerduty-{service}.json"
    # As the Slack notifier posts it: with the buttons of this notification.
    _write_json(slack, render_slack(payload, enrichment, notification_id=delivered.notification.id))
    event = render_event(
        payload, enrichment, routing_key=PAGERDUTY_ROUTING_KEY, default_severity="warning"
    )
    _write_json(pagerduty, event)
    lines = [
        f"   wrote {slack} (Slack Block Kit message; paste into {BLOCK_KIT_BUILDER})",
        f"   wrote {pagerduty} (PagerDuty Events API v2 event)",
    ]
    picture = picture_of(lead) if lead is not None else None
    if picture is not None:
        png, svg = out / f"flamegraph-{service}.png", out / f"flamegraph-{service}.svg"
        png.write_bytes(render_png(picture))
        svg.write_bytes(render_svg(picture))
        lines.append(f"   wrote {png} and {svg.name} (the flame graph the Slack thread gets)")
    return lines


def _intro(scenario: Scenario) -> list[str]:
    clock = scenario.now.strftime("%Y-%m-%d %H:%M:%S %Z")
    return [
        "flamebot demo: the reference bank fleet on a SIMULATED Prometheus and Pyroscope",
        f"   simulation: {len(scenario.services)} services served by in-process stand-ins for"
        " Prometheus and Pyroscope on 127.0.0.1",
        "   real: the flamebot receiver, store, pipeline, enrichment and renderers, over HTTP",
        f"   clock fixed at {clock}",
    ]


async def _fire_alerts(scenario: Scenario, receiver: DemoReceiver, out: Path) -> list[str]:
    lines: list[str] = []
    for number, alert in enumerate(scenario.alerts, 1):
        delivered = await receiver.fire(webhook(alert, scenario.now))
        answer = delivered.answer
        lines += [
            "",
            f"{number}. Alertmanager fires {alert.alertname} on {alert.instance}"
            f" (job {alert.job}): POST /webhook -> 200 {answer['status']}, id {answer['id']}",
            "   what the on-call sees (console notifier):",
            "",
            delivered.console_text.rstrip("\n"),
            "",
            *_write_payloads(delivered, out),
        ]
    return lines


async def _demo(scenario: Scenario, out: Path, stream: TextIO) -> int:
    now = scenario.now
    with tempfile.TemporaryDirectory(prefix="flamebot-demo-") as workdir:
        async with Simulation(scenario, clock=now.timestamp) as simulation:
            config = demo_config(scenario, simulation, Path(workdir) / "flamebot.db")
            stream.write("\n".join(_intro(scenario)) + "\n")
            async with DemoReceiver(config, clock=lambda: now) as receiver:
                stream.write("\n".join(await _fire_alerts(scenario, receiver, out)) + "\n")
            stream.write(f"\n{len(scenario.alerts) + 1}. flamebot triage (the whole fleet)\n\n")
            stream.flush()
            term = Terminal(stream, sys.stderr, lambda: now)
            triaged = await print_triage(config, service=None, as_json=False, term=term)
            stream.write(f"\n{simulation.report()}\n")
            stream.flush()
    return 0 if triaged == 0 else 1


def run_demo(out: Path, *, scenario_file: Path | None = None, stream: TextIO | None = None) -> int:
    """The demo, start to end; 0 when every step worked, 1 otherwise (said on stderr)."""
    try:
        scenario = load_scenario(scenario_file, DEFAULT_SCENARIO)
        out.mkdir(parents=True, exist_ok=True)
        return asyncio.run(_demo(scenario, out, stream or sys.stdout))
    except ConfigError as exc:
        print(f"demo: invalid scenario {scenario_file}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
    except (DemoError, OSError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
    return 1
