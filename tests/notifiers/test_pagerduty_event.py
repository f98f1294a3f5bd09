"""The PagerDuty Events v2 event and incident note: fields, severity, dedup key, limits."""

from __future__ import annotations

import pytest

from receiver.notifiers.pagerduty_event import (
    EVENT_MAX_BYTES,
    dedup_key,
    event_size,
    pd_severity,
    render_event,
    render_note,
)
from receiver.notifiers.text import render_text
from tests.notifiers.samples import (
    HOSTILE,
    failed_enrichment,
    fleet_enrichment,
    fleet_payload,
    hostile_enrichment,
    hostile_payload,
    load_expected,
    load_payload,
    reference_enrichment,
)
from tests.support.harness import PAYMENT_HOTSPOT, PAYMENT_LABELS

ROUTING_KEY = "0123456789abcdef0123456789abcdef"
REFERENCE = "reference-highcpuusage.json"
# sha256 of {}:{alertname="HighCpuUsage", instance="payment-service:9404"}
REFERENCE_DEDUP = "74ed3e38b5036747424d693d60c1dd5e95ffab8ecefcbba3b60c1289a078b6fb"


def test_dedup_key_is_the_sha256_of_the_group_key() -> None:
    """Like Alertmanager's own PagerDuty notifier: hex sha256 of the groupKey."""
    assert dedup_key('{}:{alertname="HighCpuUsage", instance="payment-service:9404"}') == (
        REFERENCE_DEDUP
    )
    assert dedup_key('{}:{alertname="HighCPUUsage"}') == (
        "34b90477d9505e19bf9105893c58bfc13e9a2fdb76e1713d26874fe384fd80b6"
    )
    assert len(dedup_key("x" * 100_000)) == 64


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"severity": "critical"}, "critical"),
        ({"severity": "error"}, "error"),
        ({"severity": "warning"}, "warning"),
        ({"severity": "info"}, "info"),
        ({"severity": "page"}, "critical"),
        ({"severity": " Critical "}, "critical"),
        ({"severity": "high"}, "error"),
        ({"severity": ""}, "error"),
        ({}, "error"),
    ],
)
def test_pd_severity(labels: dict[str, str], expected: str) -> None:
    """PagerDuty severities pass through, `page` is critical, anything else the default."""
    assert pd_severity(labels, "error") == expected


def test_reference_alert_triggers_the_reviewed_event() -> None:
    """The reference HighCpuUsage renders exactly the reviewed trigger event."""
    payload = load_payload(REFERENCE)
    event = render_event(
        payload, reference_enrichment(payload), routing_key=ROUTING_KEY, default_severity="error"
    )
    assert event == load_expected("pagerduty-highcpuusage.json")


def test_reference_trigger_payload_fields() -> None:
    """Summary with verdict and hotspot; source, component, class, group from the alert."""
    payload = load_payload(REFERENCE)
    event = render_event(
        payload, reference_enrichment(payload), routing_key=ROUTING_KEY, default_severity="error"
    )
    body = {k: v for k, v in event["payload"].items() if k != "custom_details"}
    assert body == {
        "summary": "[FIRING:1] HighCpuUsage on payment-service: CPU-BOUND, "
        "hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)",
        "source": "payment-service:9404",
        "severity": "warning",
        "timestamp": "2026-11-25T17:25:32+00:00",
        "component": "payment-service",
        "class": "CPU-BOUND",
        "group": "jvm",
    }
    assert event["payload"]["custom_details"]["hotspot"] == PAYMENT_HOTSPOT
    assert [link["text"] for link in event["links"]] == [
        "Flame graph",
        "Diff vs baseline",
        "JVM overview",
        "Silence",
        "Source",
    ]


def test_resolved_group_sends_only_the_resolve_fields() -> None:
    """A resolved group resolves the incident with routing_key, dedup_key and action only."""
    payload = load_payload("reference-highcpuusage-resolved.json")
    event = render_event(
        payload, reference_enrichment(payload), routing_key=ROUTING_KEY, default_severity="error"
    )
    assert event == {
        "routing_key": ROUTING_KEY,
        "dedup_key": REFERENCE_DEDUP,
        "event_action": "resolve",
    }


def test_partially_resolved_group_still_triggers() -> None:
    """While one alert fires, the event triggers with the firing alert's instance and severity."""
    payload = load_payload("grouped-partially-resolved.json")
    event = render_event(
        payload, failed_enrichment(payload), routing_key=ROUTING_KEY, default_severity="info"
    )
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "34b90477d9505e19bf9105893c58bfc13e9a2fdb76e1713d26874fe384fd80b6"
    body = event["payload"]
    assert (body["source"], body["severity"], body["component"]) == (
        "payment-service:8080",
        "critical",
        "payment-service",
    )
    assert body["timestamp"] == "2026-11-25T17:00:21.423470+00:00"
    assert (body["custom_details"]["firing"], body["custom_details"]["resolved"]) == (1, 1)


def test_failed_enrichment_keeps_the_details_shape() -> None:
    """With no analysis the details keep their keys, empty, and list the failed sources."""
    payload = load_payload(REFERENCE)
    event = render_event(
        payload, failed_enrichment(payload), routing_key=ROUTING_KEY, default_severity="error"
    )
    body = event["payload"]
    assert "class" not in body
    assert body["summary"] == "[FIRING:1] HighCpuUsage on payment-service: not analysed"
    assert body["custom_details"] == {
        "verdict": None,
        "severity": None,
        "hotspot": None,
        "action": None,
        "evidence": [],
        "metrics": {},
        "top_functions": {},
        "notes": [],
        "firing": 1,
        "resolved": 0,
        "alerts": [PAYMENT_LABELS],
        "errors": [
            {"source": "prometheus", "reason": "connection refused"},
            {"source": "pyroscope", "reason": "deadline exceeded"},
        ],
    }
    assert [link["text"] for link in event["links"]] == ["Silence", "Source"]


def test_group_over_eight_services() -> None:
    """Several services: lead service on top, every service in `services`, 20 alerts listed."""
    payload = fleet_payload()
    event = render_event(
        payload, fleet_enrichment(payload), routing_key=ROUTING_KEY, default_severity="warning"
    )
    body = event["payload"]
    details = body["custom_details"]
    assert body["summary"] == (
        "[FIRING:38, RESOLVED:2] HighLatency on 8 services: CPU-BOUND (payment-service), "
        "hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)"
    )
    assert (body["source"], body["component"], body["class"], body["group"]) == (
        "payment-service",
        "payment-service",
        "CPU-BOUND",
        "jvm",
    )
    assert body["severity"] == "warning"
    assert body["timestamp"] == "2026-11-25T17:02:00+00:00"
    assert [(s["service"], s["verdict"]) for s in details["services"]] == [
        ("api-gateway", "HEALTHY"),
        ("order-service", "I/O-BOUND"),
        ("payment-service", "CPU-BOUND"),
        ("fraud-service", "LOCK-BOUND"),
        ("account-service", "GC-BOUND"),
        ("loan-service", "MEMORY-PRESSURE"),
        ("notification-service", "NO-PROFILE-DATA"),
        ("stream-service", "HEALTHY"),
    ]
    assert (details["firing"], details["resolved"], len(details["alerts"])) == (38, 2, 20)
    assert len(event["links"]) == 20
    assert event["links"][:2] == [
        {"href": event["links"][0]["href"], "text": "Flame graph (api-gateway)"},
        {"href": event["links"][1]["href"], "text": "Diff vs baseline (api-gateway)"},
    ]


def test_hostile_input_stays_within_pagerduty_limits() -> None:
    """Huge hostile values: summary <= 1024, event <= 512 KB, alert detail dropped first."""
    payload = hostile_payload()
    event = render_event(
        payload, hostile_enrichment(payload), routing_key=ROUTING_KEY, default_severity="warning"
    )
    body = event["payload"]
    assert event_size(event) <= EVENT_MAX_BYTES
    assert len(body["summary"]) <= 1024
    assert body["summary"].startswith("[FIRING:30] " + HOSTILE + "Boom on 7 services: CPU-BOUND")
    assert all(len(body[k]) <= 255 for k in ("source", "component", "class", "group"))
    assert body["severity"] == "critical"
    assert "alerts" not in body["custom_details"]
    assert len(event["dedup_key"]) == 64
    for link in event["links"]:
        assert link["href"].startswith("http")
        assert not set("<>| ") & set(link["href"])


def test_oversized_alert_detail_is_dropped_before_the_analysis() -> None:
    """Past 512 KB the `alerts` labels go first; verdict and top functions stay."""
    base = load_payload(REFERENCE)
    labels = {f"label_{n}": "v" * 1000 for n in range(30)}
    alerts = [
        base.alerts[0].model_copy(update={"labels": {**base.alerts[0].labels, **labels}})
        for _ in range(20)
    ]
    payload = base.model_copy(update={"alerts": alerts})
    event = render_event(
        payload, reference_enrichment(base), routing_key=ROUTING_KEY, default_severity="error"
    )
    details = event["payload"]["custom_details"]
    assert event_size(event) <= EVENT_MAX_BYTES
    assert "alerts" not in details
    assert details["verdict"] == "CPU-BOUND"
    assert [s["function"] for s in details["top_functions"]["cpu"]] == [
        "com.example.PaymentVerticle.sha256",
        "java.math.BigInteger.multiply",
        "com.example.PaymentVerticle.handle",
    ]


def test_note_is_the_console_rendering_without_the_notification_id() -> None:
    """The incident note is the plain-text analysis, headline first, no `(#id)`."""
    payload = load_payload(REFERENCE)
    note = render_note(payload, failed_enrichment(payload))
    assert note == (
        "[FIRING:1] HighCpuUsage on payment-service: not analysed\n"
        "  ! prometheus failed: connection refused\n"
        "  ! pyroscope failed: deadline exceeded\n"
        "  Alerts: 1 (1 firing, 0 resolved)\n"
        "  - firing HighCpuUsage {group=vertx, instance=payment-service:9404, job=jvm, "
        "severity=warning, verticle=payment} since 2026-11-25T17:25:32Z: "
        "High CPU on payment-service:9404\n"
        "  Runbook: Check Pyroscope CPU flame graph for hot methods. "
        "See docs/runbook.md#high-cpu\n"
        "  Links:\n"
        "    silence: http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22"
        "HighCpuUsage%22%2C%20group%3D%22vertx%22%2C%20instance%3D%22payment-service%3A9404%22"
        "%2C%20job%3D%22jvm%22%2C%20severity%3D%22warning%22%2C%20verticle%3D%22payment%22%7D\n"
        "    source: http://prometheus.example:9090/graph?g0.expr=rate%28process_cpu_seconds_total"
        "%7Bjob%3D%22jvm%22%7D%5B2m%5D%29+%3E+0.8&g0.tab=1"
    )


def test_note_of_the_reference_alert_follows_the_console_text() -> None:
    """Apart from the notification id, the note says what the console says."""
    payload = load_payload(REFERENCE)
    enrichment = reference_enrichment(payload)
    note = render_note(payload, enrichment)
    console = render_text(payload, enrichment, 7)
    assert note.split("\n")[0] == (
        "[FIRING:1] HighCpuUsage on payment-service: CPU-BOUND, "
        "hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)"
    )
    assert console == note.replace("(34.2% CPU)\n", "(34.2% CPU)  (#7)\n", 1)


def test_note_is_capped() -> None:
    """Huge input still makes a note of at most 25,000 characters."""
    payload = hostile_payload()
    note = render_note(payload, hostile_enrichment(payload))
    assert 0 < len(note) <= 25_000
    assert note.endswith("…")


def test_event_of_a_single_service_group_has_no_services_list() -> None:
    """`services` appears only when the group spans several services."""
    payload = load_payload(REFERENCE)
    event = render_event(
        payload, reference_enrichment(payload), routing_key=ROUTING_KEY, default_severity="error"
    )
    assert "services" not in event["payload"]["custom_details"]
