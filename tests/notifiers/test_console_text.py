"""The console at 3 a.m. (PRODUCT.md §7.6): a large group summarised as Slack summarises it,
links last, every time in UTC, a resolve short."""

from __future__ import annotations

from datetime import timedelta, timezone

from enrichers.result import Evidence
from receiver.models import WebhookPayload
from receiver.notifiers.summary import evidence_line
from receiver.notifiers.text import render_text
from tests.notifiers.samples import (
    fleet_enrichment,
    fleet_payload,
    load_payload,
    reference_analysis,
    reference_enrichment,
)


def test_forty_alerts_over_eight_services_are_summarised_as_in_slack() -> None:
    """Five service blocks, the other three by name, five alerts listed, the lead's links last."""
    payload = fleet_payload()
    lines = render_text(payload, fleet_enrichment(payload), 3).split("\n")
    blocks = [line for line in lines if line.startswith("  ") and not line.startswith("   ")]
    assert [line.split(" (Pyroscope")[0] for line in blocks[:5]] == [
        "  payment-service",
        "  account-service",
        "  loan-service",
        "  notification-service",
        "  fraud-service",
    ]
    start = lines.index(
        "  Also affected (3): order-service (I/O-BOUND), api-gateway (HEALTHY),"
        " stream-service (HEALTHY)"
    )
    tail = lines[start + 1 :]
    assert tail[0] == "  Alerts: 40 (38 firing, 2 resolved)"
    assert tail[1] == (
        "  - firing HighLatency {instance=payment-service:8080, job=jvm, pod=pod-2}"
        " since 2026-11-25T17:02:00Z: HighLatency on payment-service:8080"
    )
    assert tail[6:9] == [
        "  ... and 35 more",
        "  Window: 2026-11-25 17:10:32 to 17:26:32 UTC, enriched in 2.5 s",
        "  Links:",
    ]
    assert [line.split(": http")[0] for line in tail[9:]] == [
        "    payment-service flame graph",
        "    payment-service diff",
        "    payment-service JVM overview",
        "    silence",
        "    source",
    ]
    assert len(lines) == 61


def test_links_come_after_everything_else() -> None:
    """No URL before the `Links:` line of the reference alert; each link on its own line."""
    payload = load_payload("reference-highcpuusage.json")
    lines = render_text(payload, reference_enrichment(payload), 1).split("\n")
    links = lines.index("  Links:")
    assert not any("http" in line for line in lines[:links])
    assert [line.split(": http")[0] for line in lines[links + 1 :]] == [
        "    flame graph",
        "    diff",
        "    JVM overview",
        "    silence",
        "    source",
    ]


def test_a_plus_0530_start_is_printed_in_utc() -> None:
    """An alert's `startsAt` of 22:55:32+05:30 is printed as 17:25:32Z."""
    body = load_payload("reference-highcpuusage.json").model_dump(mode="json", by_alias=True)
    india = timezone(timedelta(hours=5, minutes=30))
    starts = load_payload("reference-highcpuusage.json").alerts[0].starts_at.astimezone(india)
    body["alerts"][0]["startsAt"] = starts.isoformat()
    payload = WebhookPayload.model_validate(body)
    text = render_text(payload, reference_enrichment(payload), 1)
    assert "since 2026-11-25T17:25:32Z: High CPU on payment-service:9404" in text
    assert "+05:30" not in text


def test_the_resolve_is_short_and_says_when_and_how_long() -> None:
    """The console's resolve: when it resolved, how long it lasted, the verdict; no links."""
    payload = load_payload("reference-highcpuusage-resolved.json")
    assert render_text(payload, reference_enrichment(payload), 2).split("\n") == [
        "[RESOLVED] HighCpuUsage on payment-service: CPU-BOUND,"
        " hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)  (#2)",
        "  Resolved at 2026-11-25T17:26:31Z after 59 s (firing since 2026-11-25T17:25:32Z)",
        "  While firing: payment-service: CPU-BOUND, hotspot com.example.PaymentVerticle.sha256:"
        " 34.2% of CPU self-time (5.1% before, +29.1 pp)",
        "  Alerts: 1 resolved",
        "  Window: 2026-11-25 17:10:32 to 17:26:32 UTC, enriched in 1.2 s",
    ]


def test_the_mutex_evidence_is_a_share_of_the_profile() -> None:
    """The mutex leader's share and its threshold print as percentages of the profile."""
    crossed = Evidence(
        metric="mutex_pct", key="mutex_pct", value=31.3, threshold=5.0, op=">", crossed=True
    )
    analysis = reference_analysis().model_copy(update={"evidence": [crossed]})
    assert evidence_line(analysis) == "mutex_pct 31.3% > 5.0%"
