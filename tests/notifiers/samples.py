"""Alert groups and their enrichment, built by hand, for the renderer tests.

The reference case is the bank demo's HighCpuUsage on payment-service (PRODUCT.md §2, §4):
CPU-BOUND, hotspot `com.example.PaymentVerticle.sha256` at 34.2% of CPU self-time, 5.1%
before the alert (+29.1 pp).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from enrichers.links import (
    dashboard_url,
    drilldown_diff_url,
    explore_url,
    runbook_link,
    silence_url,
)
from enrichers.promql import label_selector
from enrichers.result import (
    EnrichmentResult,
    Evidence,
    FunctionChange,
    FunctionStat,
    GroupLinks,
    HealthMetrics,
    Hotspot,
    Link,
    ProfileKind,
    ServiceAnalysis,
    ServiceLinks,
    SourceError,
    Verdict,
    Window,
)
from enrichers.settings import Dashboard, GrafanaSettings
from receiver.demo.fleet import FLEET
from receiver.models import WebhookPayload

DATA = Path(__file__).resolve().parents[1] / "data"
CPU_TYPE = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
ALLOC_TYPE = "memory:alloc_in_new_tlab_bytes:bytes:space:bytes"
GRAFANA = GrafanaSettings(
    url="http://grafana.example:3000",
    pyroscope_datasource_uid="pyroscope-ds",
    dashboards=[
        Dashboard(
            title="JVM overview",
            uid="pyroscope-java-overview",
            vars={"application": "{pyroscope_service}"},
        )
    ],
)
ENRICHED_AT = datetime(2026, 11, 25, 17, 26, 33, 200_000, tzinfo=UTC)
INCIDENT = Window(
    start=datetime(2026, 11, 25, 17, 10, 32, tzinfo=UTC),
    end=datetime(2026, 11, 25, 17, 26, 32, tzinfo=UTC),
)
HOSTILE = "<!channel> <http://x|y> & > "


def load_payload(name: str) -> WebhookPayload:
    """A real Alertmanager webhook body from tests/data/alertmanager."""
    text = (DATA / "alertmanager" / name).read_text(encoding="utf-8")
    return WebhookPayload.model_validate_json(text)


def load_expected(name: str) -> Any:
    """A reviewed expected rendering from tests/data/expected."""
    return json.loads((DATA / "expected" / name).read_text(encoding="utf-8"))


def baseline_of(window: Window) -> Window:
    return Window(start=window.start - timedelta(hours=1), end=window.end - timedelta(hours=1))


def service_links(pyroscope_service: str, window: Window) -> ServiceLinks:
    """The links the enrichment builds for one service (explore style, CPU profile)."""
    dashboard = GRAFANA.dashboards[0]
    context = {"pyroscope_service": pyroscope_service}
    return ServiceLinks(
        flame_graph=explore_url(
            GRAFANA,
            profile_type=CPU_TYPE,
            label_selector=label_selector(pyroscope_service),
            start=window.start,
            end=window.end,
        ),
        diff=drilldown_diff_url(
            GRAFANA,
            service=pyroscope_service,
            profile_type=CPU_TYPE,
            baseline=baseline_of(window),
            incident=window,
        ),
        dashboards=[
            Link(
                title=dashboard.title,
                url=dashboard_url(
                    GRAFANA, dashboard, context=context, start=window.start, end=window.end
                ),
            )
        ],
    )


def stat(function: str, self_pct: float, total_pct: float, frame: str = "app") -> FunctionStat:
    return FunctionStat.model_validate(
        {
            "function": function,
            "self_pct": self_pct,
            "total_pct": total_pct,
            "value": round(self_pct * 1e8),
            "unit": "nanoseconds",
            "frame_class": frame,
        }
    )


SHA256 = "com.example.PaymentVerticle.sha256"
REFERENCE_METRICS = HealthMetrics(
    cpu=0.82,
    heap_ratio=0.45,
    gc=0.012,
    threads=48,
    req_per_sec=120.5,
    error_ratio=0.001,
    latency_ms=85,
)
REFERENCE_EVIDENCE = [
    Evidence(metric="cpu", key="cpu", value=0.82, threshold=0.3, op=">=", crossed=True),
    Evidence(metric="cpu", key="critical_cpu", value=0.82, threshold=0.8, op=">=", crossed=True),
    Evidence(metric="gc", key="gc", value=0.012, threshold=0.03, op=">=", crossed=False),
]
REFERENCE_TOP: dict[ProfileKind, list[FunctionStat]] = {
    "cpu": [
        stat(SHA256, 34.2, 34.2),
        stat("java.math.BigInteger.multiply", 8.7, 9.1, "runtime"),
        stat("com.example.PaymentVerticle.handle", 3.1, 61.0),
    ],
    "alloc": [
        stat(SHA256, 24.3, 24.3),
        stat("java.util.Arrays.copyOf", 11.0, 11.0, "runtime"),
    ],
}
SHA256_RISE = FunctionChange(function=SHA256, baseline_pct=5.1, incident_pct=34.2, delta_pp=29.1)


def reference_analysis(window: Window = INCIDENT) -> ServiceAnalysis:
    """payment-service, CPU-BOUND on PaymentVerticle.sha256."""
    return ServiceAnalysis(
        service="payment-service",
        pyroscope_service="bank-payment-service",
        runtime="jvm",
        runtime_from="pyroscope_spy=javaspy",
        verdict="CPU-BOUND",
        severity="critical",
        metrics=REFERENCE_METRICS,
        hotspot=Hotspot(
            function=SHA256, profile="cpu", self_pct=34.2, baseline_pct=5.1, culprit=SHA256
        ),
        action=f"optimise {SHA256} (algorithm, caching, async offload)",
        evidence=REFERENCE_EVIDENCE,
        notes=["computation creating temporary objects"],
        top=REFERENCE_TOP,
        profile_types={"cpu": CPU_TYPE, "alloc": ALLOC_TYPE},
        changes=[SHA256_RISE],
        biggest_riser=SHA256_RISE,
        window=window,
        baseline_window=baseline_of(window),
        links=service_links("bank-payment-service", window),
        alerts=["9104213f783bb988"],
    )


def group_links(payload: WebhookPayload) -> GroupLinks:
    """Silence, runbook and source links as the enrichment builds them from the payload."""
    runbook, runbook_text = runbook_link(payload.common_annotations)
    return GroupLinks(
        silence=silence_url(payload.external_url, payload.common_labels),
        runbook=runbook,
        runbook_text=runbook_text,
        source=payload.alerts[0].generator_url or None,
    )


def reference_enrichment(payload: WebhookPayload, window: Window = INCIDENT) -> EnrichmentResult:
    return EnrichmentResult(
        services=[reference_analysis(window)],
        links=group_links(payload),
        enriched_at=ENRICHED_AT,
        duration_seconds=1.2,
    )


FLEET_VERDICTS: tuple[Verdict, ...] = (
    "HEALTHY",
    "I/O-BOUND",
    "CPU-BOUND",
    "LOCK-BOUND",
    "GC-BOUND",
    "MEMORY-PRESSURE",
    "NO-PROFILE-DATA",
    "HEALTHY",
)


def _alert(name: str, instance: str, status: str, index: int) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "instance": instance, "job": "jvm", "pod": f"pod-{index}"},
        "annotations": {"summary": f"{name} on {instance}"},
        "startsAt": f"2026-11-25T17:{index:02d}:00Z",
        "endsAt": "2026-11-25T17:50:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": f"{index:016x}",
    }


def fleet_payload() -> WebhookPayload:
    """40 alerts (38 firing, 2 resolved) over the eight services of the reference fleet."""
    alerts = [
        _alert("HighLatency", f"{FLEET[i % 8]}:8080", "resolved" if i < 2 else "firing", i)
        for i in range(40)
    ]
    return WebhookPayload.model_validate(
        {
            "status": "firing",
            "alerts": alerts,
            "groupLabels": {"alertname": "HighLatency"},
            "commonLabels": {"alertname": "HighLatency", "job": "jvm"},
            "externalURL": "http://alertmanager.example:9093",
            "groupKey": '{}:{alertname="HighLatency"}',
        }
    )


def fleet_analysis(index: int) -> ServiceAnalysis:
    service = FLEET[index]
    base = reference_analysis()
    return base.model_copy(
        update={
            "service": service,
            "pyroscope_service": f"bank-{service}",
            "verdict": FLEET_VERDICTS[index],
            "severity": "ok" if FLEET_VERDICTS[index] == "HEALTHY" else "warning",
            "links": service_links(f"bank-{service}", INCIDENT),
        }
    )


def fleet_enrichment(payload: WebhookPayload) -> EnrichmentResult:
    return EnrichmentResult(
        services=[fleet_analysis(i) for i in range(8)],
        links=group_links(payload),
        enriched_at=ENRICHED_AT,
        duration_seconds=2.5,
    )


def failed_enrichment(payload: WebhookPayload) -> EnrichmentResult:
    """No service analysed: both backends failed; the group's links are still there."""
    return EnrichmentResult(
        links=group_links(payload),
        enriched_at=ENRICHED_AT,
        duration_seconds=8.0,
        errors=[
            SourceError(source="prometheus", reason="connection refused"),
            SourceError(source="pyroscope", reason="deadline exceeded"),
        ],
    )


def partial_enrichment(payload: WebhookPayload) -> EnrichmentResult:
    """The reference service analysed from profiles only: Prometheus failed."""
    analysis = reference_analysis().model_copy(
        update={
            "metrics": HealthMetrics(),
            "errors": [SourceError(source="prometheus", reason="connection refused")],
            "unseen": ["prometheus unreachable (connection refused)"],
        }
    )
    return EnrichmentResult(
        services=[analysis], links=group_links(payload), enriched_at=ENRICHED_AT
    )


def hostile_payload() -> WebhookPayload:
    """Labels and annotations built to break mrkdwn, plus 5,000-character values."""
    long = "x&<>" * 1250
    labels = {
        "alertname": HOSTILE + "Boom",
        "instance": HOSTILE + "host:9404",
        "job": HOSTILE,
        "severity": "page",
        "service": HOSTILE + long,
    }
    alert = {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": HOSTILE + long, "runbook": HOSTILE + long},
        "startsAt": "2026-11-25T17:25:32Z",
        "generatorURL": "http://prometheus.example/graph?g0.expr=<!channel>|x",
        "fingerprint": "0123456789abcdef",
    }
    alerts = [{**alert, "fingerprint": f"{i:016x}"} for i in range(30)]
    return WebhookPayload.model_validate(
        {
            "status": "firing",
            "alerts": alerts,
            "commonLabels": labels,
            "commonAnnotations": alert["annotations"],
            "externalURL": "http://alertmanager.example:9093/<!channel>|",
            "groupKey": "{}:{alertname=" + json.dumps(HOSTILE) + "}",
        }
    )


def hostile_enrichment(payload: WebhookPayload) -> EnrichmentResult:
    """Service, function names, notes and errors carrying mrkdwn controls and long values."""
    long = "y&<>" * 1250
    base = reference_analysis()
    spot = Hotspot(function=HOSTILE + "`tick`" + long, profile="cpu", self_pct=50.0)
    analyses = [
        base.model_copy(
            update={
                "service": f"{HOSTILE}svc-{i}{long}",
                "pyroscope_service": HOSTILE + long,
                "hotspot": spot,
                "action": HOSTILE + long,
                "notes": [HOSTILE + long] * 4,
                "top": {kind: [stat(HOSTILE + long, 9.0, 9.0)] * 8 for kind in ("cpu", "alloc")},
                "errors": [SourceError(source="prometheus", reason=HOSTILE + long)],
                "links": ServiceLinks(
                    flame_graph="http://grafana.example/x?q=<!channel>|" + "a" * 2900,
                    diff="javascript:alert(1)",
                    dashboards=[Link(title=HOSTILE + long, url="http://g.example/d/<x>|y")] * 30,
                ),
            }
        )
        for i in range(7)
    ]
    return EnrichmentResult(
        services=analyses,
        links=group_links(payload),
        enriched_at=ENRICHED_AT,
        errors=[SourceError(source="enrichment", reason=HOSTILE + long)],
    )
