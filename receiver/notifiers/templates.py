"""`templates:`, the user's words for the headline of each message: Jinja2, sandboxed.

Each key is optional; without it the default rendering stays. The context of every
template is `group` (the webhook's `status`, `receiver`, `groupLabels`, `commonLabels`,
`commonAnnotations`, `externalURL`, `alerts`) and `analyses` (one per service, the most
urgent first: `service`, `pyroscope_service`, `verdict`, `severity`, `hotspot` {`function`,
`self_pct`, `baseline_pct`, `culprit`} or none, `action`, `links` {`flame_graph`, `diff`,
`dashboards` [{`title`, `url`}]}), plain data only. The filter `mrkdwn` escapes `&`, `<`
and `>` for Slack. A name that is not defined is an error, not an empty string.

A template that does not parse is a config error (its key and line); `check_templates`
renders each against a sample group, as `flamebot check-config` does. At run time a failed
or empty rendering falls back to the default one: the alert is delivered, the failure is
logged (`template_failed`) and counted (`flamebot_template_failures_total{template}`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import structlog
from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import field_validator

from enrichers.document import analysis_document
from enrichers.result import EnrichmentResult, Hotspot, ServiceAnalysis, ServiceLinks, Window
from enrichers.settings import StrictModel
from receiver import payloads
from receiver.models import WebhookPayload
from receiver.notifiers.summary import ranked

__all__ = [
    "TEMPLATE_KEYS",
    "TemplateFailed",
    "TemplateSettings",
    "Templates",
    "check_templates",
    "mrkdwn",
    "sample_group",
    "template_context",
]

log = structlog.get_logger("flamebot.templates")

TEMPLATE_KEYS = ("slack_header", "slack_text", "pagerduty_summary", "console_headline")
_GROUP_KEYS = (
    "status",
    "receiver",
    "groupLabels",
    "commonLabels",
    "commonAnnotations",
    "externalURL",
    "alerts",
)


def mrkdwn(value: Any) -> str:
    """Slack's escaping (reference/protocols.md §2.4): `&`, `<`, `>` and nothing else."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.filters["mrkdwn"] = mrkdwn
    return env


_ENV = _environment()


def _where(exc: BaseException) -> str:
    """`line N: reason` for a template's error (the line in the template, when known)."""
    line = getattr(exc, "lineno", None) if isinstance(exc, TemplateSyntaxError) else None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:  # Jinja rewrites the traceback to point into the template
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"line {line}: {reason}" if line else reason


class TemplateFailed(Exception):
    """A template could not be rendered; the message says the line and the reason."""


# What rendering user text can raise: Jinja's own errors (undefined names, the sandbox's
# SecurityError) and what the expressions themselves raise (1/0, int("x"), a[9]).
_FAILURES = (TemplateError, ValueError, TypeError, ArithmeticError, LookupError)


class TemplateSettings(StrictModel):
    slack_header: str | None = None
    slack_text: str | None = None
    pagerduty_summary: str | None = None
    console_headline: str | None = None

    @field_validator(*TEMPLATE_KEYS)
    @classmethod
    def _parses(cls, source: str | None) -> str | None:
        if source is not None:
            try:
                _ENV.parse(source)
            except TemplateSyntaxError as exc:
                raise ValueError(_where(exc)) from None
        return source


# What a template sees of an analysis (README, Templates): these keys of its JSON document.
_ANALYSIS_KEYS = ("service", "pyroscope_service", "verdict", "severity", "hotspot", "action")
_HOTSPOT_KEYS = ("function", "self_pct", "baseline_pct", "culprit")
_LINK_KEYS = ("flame_graph", "diff", "dashboards")


def _pick(document: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    return None if document is None else {key: document[key] for key in keys}


def _analysis(analysis: ServiceAnalysis) -> dict[str, Any]:
    document = analysis_document(analysis)
    return {
        **{key: document[key] for key in _ANALYSIS_KEYS},
        "hotspot": _pick(document["hotspot"], _HOTSPOT_KEYS),
        "links": _pick(document["links"], _LINK_KEYS),
    }


def template_context(payload: WebhookPayload, enrichment: EnrichmentResult) -> dict[str, Any]:
    """What every template sees: plain dicts, lists and numbers, nothing with methods."""
    webhook = json.loads(payload.model_dump_json(by_alias=True))
    return {
        "group": {key: webhook.get(key) for key in _GROUP_KEYS},
        "analyses": [_analysis(a) for a in ranked(enrichment.services)],
    }


class Templates:
    """The compiled `templates:`; `render` answers None where the default rendering goes."""

    def __init__(
        self, settings: TemplateSettings | None = None, failed: Callable[[str], None] | None = None
    ) -> None:
        settings = settings or TemplateSettings()
        self._compiled: dict[str, Template] = {
            key: _ENV.from_string(source)
            for key in TEMPLATE_KEYS
            if (source := getattr(settings, key)) is not None
        }
        self._failed = failed

    def attempt(self, key: str, payload: WebhookPayload, enrichment: EnrichmentResult) -> str:
        """The rendering of `key`, or TemplateFailed saying where and why it failed."""
        try:
            text = self._compiled[key].render(template_context(payload, enrichment)).strip()
        except _FAILURES as exc:
            raise TemplateFailed(_where(exc)) from exc
        if not text:
            raise TemplateFailed("rendered nothing")
        return text

    def render(self, key: str, payload: WebhookPayload, enrichment: EnrichmentResult) -> str | None:
        """The rendering, or None (no template, or it failed: logged and counted)."""
        if key not in self._compiled:
            return None
        try:
            return self.attempt(key, payload, enrichment)
        except TemplateFailed as exc:
            log.warning(
                "template_failed", template=key, group_key=payload.group_key, reason=str(exc)
            )
            if self._failed is not None:
                self._failed(key)
            return None


def sample_group() -> tuple[WebhookPayload, EnrichmentResult]:
    """The reference alert (PRODUCT.md §4) and a CPU-BOUND analysis of it, for checking."""
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    labels = {
        "alertname": "HighCpuUsage",
        "instance": "payment-service:8080",
        "job": "vertx-apps",
        "severity": "critical",
    }
    annotations = {"summary": "High CPU on payment-service"}
    alert = payloads.alert(labels, now, annotations=annotations)
    body = payloads.group([alert], ("alertname",), external_url="http://alertmanager:9093")
    window = Window(start=now - timedelta(minutes=15), end=now)
    spot = "com.example.PaymentVerticle.sha256"
    analysis = ServiceAnalysis(
        service="payment-service",
        pyroscope_service="bank-payment-service",
        runtime="jvm",
        verdict="CPU-BOUND",
        severity="critical",
        hotspot=Hotspot(
            function=spot, profile="cpu", self_pct=34.2, baseline_pct=5.1, culprit=spot
        ),
        action=f"optimise {spot} (algorithm, caching, async offload)",
        window=window,
        baseline_window=Window(
            start=window.start - timedelta(hours=1), end=now - timedelta(hours=1)
        ),
        links=ServiceLinks(flame_graph="http://grafana:3000/explore", diff="http://grafana:3000/a"),
    )
    return WebhookPayload.model_validate(body), EnrichmentResult(
        services=[analysis], enriched_at=now
    )


def check_templates(settings: TemplateSettings) -> list[str]:
    """Render each template against the sample group: one `templates.<key>: ...` per failure."""
    payload, enrichment = sample_group()
    templates = Templates(settings)
    problems = []
    for key in TEMPLATE_KEYS:
        if getattr(settings, key) is None:
            continue
        try:
            templates.attempt(key, payload, enrichment)
        except TemplateFailed as exc:
            problems.append(f"templates.{key}: {exc}")
    return problems
