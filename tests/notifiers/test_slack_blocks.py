"""The Slack message: layout, escaping of alert-derived text, and Block Kit limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from enrichers.result import (
    EnrichmentResult,
    FunctionChange,
    GroupLinks,
    Link,
    ServiceLinks,
    SourceError,
)
from receiver.notifiers.slack_blocks import render_slack, render_thread_reply
from receiver.notifiers.slack_sections import escape, fit
from receiver.notifiers.text import render_text
from tests.notifiers.samples import (
    ENRICHED_AT,
    INCIDENT,
    failed_enrichment,
    fleet_enrichment,
    fleet_payload,
    group_links,
    hostile_enrichment,
    hostile_payload,
    load_expected,
    load_payload,
    partial_enrichment,
    reference_analysis,
    reference_enrichment,
)
from tests.notifiers.slack_checks import check_slack_message

REFERENCE = "reference-highcpuusage.json"


def block(message: dict[str, Any], block_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(b for b in message["blocks"] if b["block_id"] == block_id)
    return found


def block_ids(message: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in message["blocks"]]


def button_texts(message: dict[str, Any], block_id: str) -> list[str]:
    return [e["text"]["text"] for e in block(message, block_id)["elements"]]


def test_reference_alert_renders_the_reviewed_message() -> None:
    """The reference HighCpuUsage renders exactly the reviewed Block Kit message."""
    payload = load_payload(REFERENCE)
    message = render_slack(payload, reference_enrichment(payload))
    check_slack_message(message)
    assert message == load_expected("slack-highcpuusage.json")


def test_reference_alert_text_and_service_section() -> None:
    """Top-level text and the service section carry verdict, numbers, hotspot and action."""
    payload = load_payload(REFERENCE)
    message = render_slack(payload, reference_enrichment(payload))
    assert message["text"] == (
        "🔥 [FIRING:1] HighCpuUsage on payment-service: CPU-BOUND, "
        "hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)"
    )
    assert block(message, "service-0")["text"]["text"] == (
        "*CPU-BOUND* · analysis severity critical · alert severity warning"
        " · *payment-service (Pyroscope: bank-payment-service)*\n"
        "*Evidence:* cpu 0.82 cores &gt;= 0.80 cores (critical)\n"
        "*Metrics:* CPU 0.82 cores · Heap 45.0% · GC 0.012 s/s · Threads 48 · Latency 85 ms"
        " · Errors 0.1% · Requests 120.5 req/s\n"
        "*Hotspot:* `com.example.PaymentVerticle.sha256` 34.2% of CPU self-time"
        " (5.1% before, +29.1 pp)\n"
        "*Action:* optimise com.example.PaymentVerticle.sha256"
        " (algorithm, caching, async offload)\n"
        "*Note:* computation creating temporary objects"
    )
    assert button_texts(message, "links-group") == [
        "Flame graph",
        "Diff vs baseline",
        "JVM overview",
        "Silence",
        "Source",
    ]


def test_resolved_group() -> None:
    """A resolve is a short note: when, how long, what changed, the verdict; no analysis again."""
    payload = load_payload("reference-highcpuusage-resolved.json")
    message = render_slack(payload, reference_enrichment(payload), change="group resolved")
    check_slack_message(message)
    assert message == {
        "text": "✅ [RESOLVED] HighCpuUsage on payment-service: CPU-BOUND,"
        " hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)",
        "blocks": [
            {
                "type": "header",
                "block_id": "header",
                "text": {
                    "type": "plain_text",
                    "text": "✅ RESOLVED HighCpuUsage · payment-service · CPU-BOUND",
                    "emoji": True,
                },
            },
            {
                "type": "context",
                "block_id": "change",
                "elements": [
                    {"type": "mrkdwn", "text": ":arrows_counterclockwise: group resolved"}
                ],
            },
            {
                "type": "section",
                "block_id": "resolved",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Resolved at 2026-11-25T17:26:31Z after 59 s"
                    " (firing since 2026-11-25T17:25:32Z)*\n"
                    "*While firing:* payment-service: CPU-BOUND,"
                    " hotspot com.example.PaymentVerticle.sha256 (34.2% CPU)\n"
                    "*Alerts:* 1 resolved",
                },
            },
            {
                "type": "context",
                "block_id": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Incident window 2026-11-25 17:10:32 to 17:26:32 UTC",
                    },
                    {"type": "mrkdwn", "text": "Enriched 2026-11-25 17:26:33 UTC in 1.2 s"},
                ],
            },
        ],
    }


def test_a_resolve_is_at_most_a_third_of_the_firing_message() -> None:
    """The reference resolve's Slack JSON and console text are each <= 1/3 of the firing one's."""
    firing = load_payload(REFERENCE)
    resolved = load_payload("reference-highcpuusage-resolved.json")

    def slack_size(payload: Any) -> int:
        # As the notifier sends it: with the interactive buttons of notification 7.
        message = render_slack(
            payload, reference_enrichment(payload), change="group resolved", notification_id=7
        )
        return len(json.dumps(message, ensure_ascii=False))

    def console_size(payload: Any) -> int:
        return len(render_text(payload, reference_enrichment(payload), 1))

    assert 3 * slack_size(resolved) <= slack_size(firing)
    assert 3 * console_size(resolved) <= console_size(firing)


def test_forty_alerts_over_eight_services() -> None:
    """Five services get sections (most severe first), the other three are listed by name."""
    payload = fleet_payload()
    message = render_slack(payload, fleet_enrichment(payload), change="2 alerts added")
    check_slack_message(message)
    assert message["blocks"][0]["text"]["text"] == (
        "🔥 FIRING:38, RESOLVED:2 HighLatency · payment-service +7 more · CPU-BOUND"
    )
    assert block_ids(message) == [
        "header",
        "change",
        "service-0",
        "links-0",
        "service-1",
        "service-2",
        "service-3",
        "service-4",
        "others",
        "links-group",
        "alerts",
        "context",
    ]
    titles = [block(message, f"service-{i}")["text"]["text"].split("\n")[0] for i in range(5)]
    assert titles == [
        "*CPU-BOUND* · analysis severity warning"
        " · *payment-service (Pyroscope: bank-payment-service)*",
        "*GC-BOUND* · analysis severity warning"
        " · *account-service (Pyroscope: bank-account-service)*",
        "*MEMORY-PRESSURE* · analysis severity warning"
        " · *loan-service (Pyroscope: bank-loan-service)*",
        "*NO-PROFILE-DATA* · analysis severity warning"
        " · *notification-service"
        " (Pyroscope: bank-notification-service)*",
        "*LOCK-BOUND* · analysis severity warning"
        " · *fraud-service (Pyroscope: bank-fraud-service)*",
    ]
    assert block(message, "others")["text"]["text"] == (
        "*Also affected (3):* order-service (I/O-BOUND), api-gateway (HEALTHY),"
        " stream-service (HEALTHY)"
    )
    assert button_texts(message, "links-0") == [
        "Flame graph: payment-service",
        "Diff vs baseline: payment-service",
        "JVM overview: payment-service",
    ]
    assert block(message, "alerts")["text"]["text"] == (
        "*Alerts:* 40 (38 firing, 2 resolved)\n"
        "• :fire: HighLatency on payment-service:8080: HighLatency on payment-service:8080\n"
        "• :fire: HighLatency on fraud-service:8080: HighLatency on fraud-service:8080\n"
        "• :fire: HighLatency on account-service:8080: HighLatency on account-service:8080\n"
        "• :fire: HighLatency on loan-service:8080: HighLatency on loan-service:8080\n"
        "• :fire: HighLatency on notification-service:8080: HighLatency on"
        " notification-service:8080\n"
        "… and 35 more"
    )


def test_failed_enrichment_says_which_sources_failed() -> None:
    """With no analysis the message names the service and the failed sources, links stay."""
    payload = load_payload(REFERENCE)
    message = render_slack(payload, failed_enrichment(payload))
    check_slack_message(message)
    assert message["text"] == "🔥 [FIRING:1] HighCpuUsage on payment-service: not analysed"
    assert block_ids(message) == [
        "header",
        "service-none",
        "runbook",
        "links-group",
        "alerts",
        "context",
    ]
    assert block(message, "service-none")["text"]["text"] == (
        "*Not analysed:* payment-service\n"
        ":warning: prometheus failed: connection refused; pyroscope failed: deadline exceeded"
    )
    assert button_texts(message, "links-group") == ["Silence", "Source"]
    assert block(message, "context")["elements"] == [
        {"type": "mrkdwn", "text": "Enriched 2026-11-25 17:26:33 UTC in 8.0 s"}
    ]


def test_partial_enrichment_is_flagged() -> None:
    """A service analysed without Prometheus says so and that the verdict is partial."""
    payload = load_payload(REFERENCE)
    message = render_slack(payload, partial_enrichment(payload))
    check_slack_message(message)
    lines = block(message, "service-0")["text"]["text"].split("\n")
    assert lines[1] == (
        ":warning: *Not seen:* prometheus unreachable (connection refused)"
        " — verdict from partial data"
    )
    assert lines[3] == "*Metrics:* no health metrics"


def test_group_level_failure_with_services() -> None:
    """A failure of the whole enrichment next to analysed services gets its own section."""
    payload = load_payload(REFERENCE)
    enrichment = reference_enrichment(payload).model_copy(
        update={"errors": [SourceError(source="enrichment", reason="deadline exceeded")]}
    )
    message = render_slack(payload, enrichment)
    check_slack_message(message)
    assert block(message, "errors")["text"] == {
        "type": "mrkdwn",
        "text": ":warning: enrichment failed: deadline exceeded — verdict from partial data",
    }


def test_hostile_labels_are_escaped_and_limits_hold() -> None:
    """`<!channel>`, links, `&`, `>` and 5,000-character values cannot break the message."""
    payload = hostile_payload()
    message = render_slack(payload, hostile_enrichment(payload), change="<!here> & more")
    check_slack_message(message)
    serialised = json.dumps(message, ensure_ascii=False)
    for entity in ("&amp;", "&lt;", "&gt;"):
        assert entity in serialised
    assert "javascript:" not in serialised
    assert message["blocks"][0]["text"]["text"] == (
        "🔥 FIRING:30 &lt;!channel&gt; &lt;http://x|y&gt; &amp; &gt; Boom · &lt;!channel&gt;…"
    )
    assert block(message, "change")["elements"][0]["text"] == (
        ":arrows_counterclockwise: &lt;!here&gt; &amp; more"
    )
    assert message["text"].startswith(
        "🔥 [FIRING:30] &lt;!channel&gt; &lt;http://x|y&gt; &amp; &gt; Boom on 7 services"
    )


def test_button_with_an_overlong_url_is_dropped() -> None:
    """A URL over Slack's 3000 characters loses its button; the message still goes out."""
    payload = load_payload(REFERENCE)
    long_links = ServiceLinks(
        flame_graph="http://grafana.example/" + "a" * 3000,
        diff="http://grafana.example/diff",
        dashboards=[Link(title="Board", url="ftp://not-http")],
    )
    analysis = reference_analysis().model_copy(update={"links": long_links})
    enrichment = EnrichmentResult(
        services=[analysis], links=group_links(payload), enriched_at=ENRICHED_AT
    )
    message = render_slack(payload, enrichment)
    check_slack_message(message)
    assert button_texts(message, "links-group") == ["Diff vs baseline", "Silence", "Source"]


def test_a_message_too_big_for_every_level_sheds_blocks() -> None:
    """When even the smallest rendering is too big, optional blocks go; the lead stays."""
    payload = fleet_payload()
    url = "http://grafana.example/d/" + "b" * 1150
    quotes = '"\\' * 200  # each character doubles in JSON
    heavy = ServiceLinks(dashboards=[Link(title=f"Board {n}", url=url) for n in range(30)])
    services = [
        analysis.model_copy(
            update={
                "service": quotes + str(i),
                "action": quotes,
                "notes": [quotes],
                "errors": [SourceError(source="prometheus", reason=quotes)],
                "links": heavy,
            }
        )
        for i, analysis in enumerate(fleet_enrichment(payload).services)
    ]
    links = GroupLinks(runbook=url, silence=url, source=url, runbook_text=quotes)
    enrichment = fleet_enrichment(payload).model_copy(update={"services": services, "links": links})
    message = render_slack(payload, enrichment, change=quotes)
    check_slack_message(message)
    assert block_ids(message) == ["header", "change", "service-0", "links-0", "context"]
    assert len(block(message, "links-0")["elements"]) == 5


def test_many_services_and_alerts_stay_within_limits() -> None:
    """Sixty services and two hundred alerts still make one valid, compact message."""
    base = fleet_payload()
    alerts = [
        a.model_copy(update={"fingerprint": f"{i:016x}"}) for i in range(5) for a in base.alerts
    ]
    payload = base.model_copy(update={"alerts": alerts})
    services = [reference_analysis().model_copy(update={"service": f"svc-{i}"}) for i in range(60)]
    enrichment = EnrichmentResult(services=services, enriched_at=ENRICHED_AT)
    message = render_slack(payload, enrichment)
    check_slack_message(message)
    assert block(message, "others")["text"]["text"].startswith("*Also affected (55):* svc-5 (")
    assert block(message, "alerts")["text"]["text"].startswith(
        "*Alerts:* 200 (190 firing, 10 resolved)"
    )


def test_thread_reply_on_resolve() -> None:
    """The thread reply says what changed, that nothing fires any more, and the verdict."""
    payload = load_payload("reference-highcpuusage-resolved.json")
    reply = render_thread_reply(payload, reference_enrichment(payload), "group resolved")
    assert reply == {
        "text": "✅ group resolved: HighCpuUsage is now RESOLVED, all alerts resolved."
        " payment-service: CPU-BOUND"
    }


def test_thread_reply_on_partial_resolve() -> None:
    """While some alerts fire, the reply counts them and names the lead verdict."""
    payload = load_payload("grouped-partially-resolved.json")
    enrichment = reference_enrichment(payload, INCIDENT)
    reply = render_thread_reply(payload, enrichment, "1 alert resolved")
    assert reply == {
        "text": "🔥 1 alert resolved: HighCPUUsage is now FIRING:1, RESOLVED:1,"
        " 1 of 2 alerts still firing. payment-service: CPU-BOUND"
    }


def test_thread_reply_escapes_alert_text() -> None:
    """Alert names in the reply are escaped like everything else."""
    payload = hostile_payload()
    reply = render_thread_reply(payload, failed_enrichment(payload), "1 alert added")
    assert reply == {
        "text": "🔥 1 alert added: &lt;!channel&gt; &lt;http://x|y&gt; &amp; &gt; Boom"
        " is now FIRING:30, 30 of 30 alerts still firing"
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<http://x|y>", "&lt;http://x|y&gt;"),
        ("a & b > c", "a &amp; b &gt; c"),
        ("&amp;", "&amp;amp;"),
        ("*bold* _it_ `code` 'q' \"d\"", "*bold* _it_ `code` 'q' \"d\""),
    ],
)
def test_escape_touches_only_the_three_control_characters(raw: str, expected: str) -> None:
    """mrkdwn escaping replaces `&`, `<`, `>` and nothing else."""
    assert escape(raw) == expected


@pytest.mark.parametrize("limit", [1, 5, 75, 150, 2000])
def test_fit_holds_the_limit_after_escaping(limit: int) -> None:
    """However many characters escaping adds, the escaped text fits the limit."""
    raw = "<>&" * 3000
    text = fit(raw, limit)
    assert 0 < len(text) <= limit
    assert "<" not in text
    assert ">" not in text


def test_fit_puts_alert_text_on_one_line() -> None:
    """Newlines in a label cannot start a quote or list: text is put on one line."""
    assert fit("High CPU\n> quoted\n\n• item", 100) == "High CPU &gt; quoted • item"


def _mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    texts = []
    for b in message["blocks"]:
        if b["type"] == "section":
            texts += [b["text"]["text"], *(f["text"] for f in b.get("fields", []))]
        elif b["type"] == "context":
            texts += [e["text"] for e in b["elements"] if e["type"] == "mrkdwn"]
    return texts


def test_no_mrkdwn_text_holds_a_raw_angle_bracket_or_ampersand() -> None:
    """Every `<`, `>` and `&` in mrkdwn is an entity: riser arrows and `>=` included."""
    reference, fleet = load_payload(REFERENCE), fleet_payload()
    enrichment = reference_enrichment(reference)
    riser = FunctionChange(
        function="java.math.BigDecimal.<init>", baseline_pct=1.0, incident_pct=9.5, delta_pp=8.5
    )
    lead = enrichment.services[0].model_copy(update={"biggest_riser": riser})
    messages = [
        render_slack(reference, enrichment.model_copy(update={"services": [lead]})),
        render_slack(fleet, fleet_enrichment(fleet), change="2 alerts added"),
    ]
    texts = [text for message in messages for text in _mrkdwn_texts(message)]
    assert any("-&gt;" in text for text in texts)  # a riser line is among them
    assert any("&gt;=" in text for text in texts)
    for text in texts:
        bare = text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
        assert not set("<>&") & set(bare), text
