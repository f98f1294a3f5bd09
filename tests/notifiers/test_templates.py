"""`templates:`: the user's headlines in Slack, PagerDuty and the console, sandboxed, checked
by check-config, and never the reason an alert is lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from receiver.config import Config, load_config
from receiver.errors import ConfigError
from receiver.models import WebhookPayload
from receiver.notifiers.templates import (
    Templates,
    TemplateSettings,
    check_templates,
    sample_group,
    template_context,
)
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.slack import FakeSlack
from tests.notifiers.conftest import Far, deliver
from tests.notifiers.samples import HOSTILE, load_payload, reference_enrichment
from tests.support.process import check_config

HEADLINE = "{{ analyses[0].verdict }} on {{ analyses[0].service }}"
SPOT = "com.example.PaymentVerticle.sha256"


def _config(store: Path, entries: list[dict[str, Any]], templates: dict[str, str]) -> Config:
    return Config.model_validate(
        {"store": {"path": str(store)}, "notifiers": entries, "templates": templates}
    )


async def _deliver(config: Config, payload: WebhookPayload) -> str:
    """Deliver one webhook of the reference analysis to every notifier; the metrics text."""
    service = await deliver(config, payload, make=reference_enrichment)
    return service.metrics.render().decode()


async def test_a_template_sets_the_headline_in_slack_pagerduty_and_the_console(
    slack: Far[FakeSlack],
    pagerduty: Far[FakePagerDuty],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each key replaces its headline, with the documented context and the mrkdwn filter."""
    templates = {
        "slack_header": "{{ group.status | upper }}: {{ group.commonLabels.alertname }}",
        "slack_text": HEADLINE + " ({{ group.commonLabels.instance | mrkdwn }})",
        "pagerduty_summary": HEADLINE + ": {{ analyses[0].hotspot.function }}"
        " {{ analyses[0].hotspot.baseline_pct }}% -> {{ analyses[0].hotspot.self_pct }}%",
        "console_headline": "{{ analyses | length }} service: {{ analyses[0].action }}",
    }
    entries = [slack.entry, pagerduty.entry, {"name": "console", "type": "console"}]
    capsys.readouterr()
    metrics = await _deliver(_config(slack.store, entries, templates), load_payload("firing.json"))
    (message,) = slack.fake.top_level()
    assert message.text == "CPU-BOUND on payment-service (payment-service:8080)"
    assert message.blocks[0] == {
        "type": "header",
        "block_id": "header",
        "text": {"type": "plain_text", "text": "FIRING: HighCPUUsage", "emoji": True},
    }
    (event,) = pagerduty.fake.events
    assert event["payload"]["summary"] == f"CPU-BOUND on payment-service: {SPOT} 5.1% -> 34.2%"
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"1 service: optimise {SPOT} (algorithm, caching, async offload)  (#1)"
    assert "flamebot_template_failures_total{" not in metrics  # none failed
    assert 'flamebot_notifications_total{notifier="slack",outcome="ok"} 1.0' in metrics


async def test_a_failing_template_falls_back_and_the_alert_is_delivered(
    slack: Far[FakeSlack], pagerduty: Far[FakePagerDuty], tmp_path: Path
) -> None:
    """At run time a failing template gives the default headline; logged and counted."""
    broken = "{{ group.commonLabels.service_owner }}"  # not a label of this alert
    templates = {"slack_text": broken, "pagerduty_summary": "{{ 1 / 0 }}"}
    config = _config(slack.store, [slack.entry, pagerduty.entry], templates)
    with capture_logs() as logs:
        metrics = await _deliver(config, load_payload("firing.json"))
    default = f"[FIRING:1] HighCPUUsage on payment-service: CPU-BOUND, hotspot {SPOT} (34.2% CPU)"
    (message,) = slack.fake.top_level()
    assert message.text == f"🔥 {default}"
    assert pagerduty.fake.events[0]["payload"]["summary"] == default
    failures = sorted((e["template"], e["reason"]) for e in logs if e["event"] == "template_failed")
    assert failures == [
        ("pagerduty_summary", "line 1: division by zero"),
        ("slack_text", "line 1: 'dict object' has no attribute 'service_owner'"),
    ]
    assert 'flamebot_template_failures_total{template="slack_text"} 1.0' in metrics
    assert 'flamebot_template_failures_total{template="pagerduty_summary"} 1.0' in metrics
    assert 'flamebot_notifications_total{notifier="slack",outcome="ok"} 1.0' in metrics
    assert 'flamebot_notifications_total{notifier="pd",outcome="ok"} 1.0' in metrics


def test_check_config_names_the_template_key_and_line(tmp_path: Path) -> None:
    """A template that fails against the sample group fails check-config: key, line, reason."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "templates:\n"
        '  slack_text: "{{ analyses[0].verdict }}"\n'
        "  pagerduty_summary: |\n"
        "    {{ group.commonLabels.alertname }}\n"
        "    {{ analyses[0].hotspot.file }}\n"
    )
    run = check_config(config)
    assert (run.returncode, run.stdout, run.stderr) == (
        1,
        "",
        "config error:\n"
        "  templates.pagerduty_summary: line 2: 'dict object' has no attribute 'file'\n",
    )


def test_check_config_passes_and_lists_the_templates(tmp_path: Path) -> None:
    """Templates that render against the sample group pass, and the summary names them."""
    config = tmp_path / "config.yaml"
    config.write_text(f'templates: {{slack_text: "{HEADLINE}"}}\n')
    run = check_config(config)
    assert (run.returncode, run.stdout, run.stderr) == (
        0,
        "config ok: 1 notifier(s); routes: default -> console; templates: slack_text\n",
        "",
    )


def test_a_template_that_does_not_parse_is_a_config_error() -> None:
    """A syntax error is refused when the config loads (serve too), with key and line."""
    with pytest.raises(ConfigError) as caught:
        load_config(
            None,
            environ={"FLAMEBOT__TEMPLATES__CONSOLE_HEADLINE": "ok\n{{ analyses[0].verdict }"},
        )
    assert caught.value.problems == ["templates.console_headline: line 2: unexpected '}'"]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ group.__class__ }}", "access to attribute '__class__' of 'dict' object is unsafe."),
        (
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "access to attribute '__class__' of 'str' object is unsafe.",
        ),
        (
            "{{ analyses[0].verdict.format.__globals__ }}",
            "access to attribute '__globals__' of 'function' object is unsafe.",
        ),
        (
            "{{ cycler.__init__.__globals__.os }}",
            "access to attribute '__init__' of 'type' object is unsafe.",
        ),
    ],
)
def test_the_sandbox_blocks_unsafe_attribute_access(source: str, reason: str) -> None:
    """Dunder attributes and internals are refused: check-config says so, run time falls back."""
    settings = TemplateSettings(slack_text=source)
    assert check_templates(settings) == [f"templates.slack_text: line 1: {reason}"]
    failed: list[str] = []
    payload, enrichment = sample_group()
    assert (
        Templates(settings, failed=failed.append).render("slack_text", payload, enrichment) is None
    )
    assert failed == ["slack_text"]


def test_mrkdwn_escapes_what_came_from_the_alert() -> None:
    """`mrkdwn` escapes &, < and > so a label cannot mention the channel or make a link."""
    payload, enrichment = sample_group()
    hostile = payload.model_copy(update={"common_labels": {"alertname": HOSTILE}})
    settings = TemplateSettings(slack_text="{{ group.commonLabels.alertname | mrkdwn }}!")
    rendered = Templates(settings).render("slack_text", hostile, enrichment)
    assert rendered == "&lt;!channel&gt; &lt;http://x|y&gt; &amp; &gt; !"


def test_an_empty_rendering_falls_back() -> None:
    """A template that renders only whitespace is a failure: the default is used."""
    failed: list[str] = []
    payload, enrichment = sample_group()
    templates = Templates(TemplateSettings(slack_header="  {{ '' }} "), failed=failed.append)
    assert (templates.render("slack_header", payload, enrichment), failed) == (
        None,
        ["slack_header"],
    )


def test_the_context_is_the_documented_one() -> None:
    """`group` and `analyses` hold exactly the documented keys, as plain data."""
    payload = load_payload("firing.json")
    context = template_context(payload, reference_enrichment(payload))
    assert sorted(context) == ["analyses", "group"]
    assert sorted(context["group"]) == [
        "alerts",
        "commonAnnotations",
        "commonLabels",
        "externalURL",
        "groupLabels",
        "receiver",
        "status",
    ]
    (analysis,) = context["analyses"]
    links = analysis.pop("links")
    assert analysis == {
        "service": "payment-service",
        "pyroscope_service": "bank-payment-service",
        "verdict": "CPU-BOUND",
        "severity": "critical",
        "hotspot": {"function": SPOT, "self_pct": 34.2, "baseline_pct": 5.1, "culprit": SPOT},
        "action": f"optimise {SPOT} (algorithm, caching, async offload)",
    }
    assert sorted(links) == ["dashboards", "diff", "flame_graph"]
    assert links["dashboards"][0]["title"] == "JVM overview"
