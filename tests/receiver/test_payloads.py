"""The Alertmanager webhook builder makes what a real Alertmanager sent, field for field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from receiver import payloads
from receiver.commands.sendtest import sample_payload
from receiver.models import WebhookPayload
from tests.conftest import load_payload, payload_files


@pytest.mark.parametrize("name", payload_files())
def test_fingerprints_are_alertmanagers(name: str) -> None:
    """Each captured alert's fingerprint is the one computed from its labels."""
    for alert in load_payload(name)["alerts"]:
        assert payloads.fingerprint_of(alert["labels"]) == alert["fingerprint"]


def test_the_reference_webhook_is_rebuilt_exactly() -> None:
    """The captured reference HighCpuUsage webhook, rebuilt from its alert and route."""
    captured = load_payload("reference-highcpuusage.json")
    (alert,) = captured["alerts"]
    rebuilt = payloads.alert(
        alert["labels"],
        datetime(2026, 11, 25, 17, 25, 32, tzinfo=UTC),
        annotations=alert["annotations"],
        generator_url=alert["generatorURL"],
    )
    body = payloads.group(
        [rebuilt], ("alertname", "instance"), external_url="http://alertmanager.example:9093"
    )
    assert body == captured


def test_a_group_shares_what_all_its_alerts_share_and_resolves_last() -> None:
    """commonLabels/commonAnnotations are the shared pairs; firing while any alert fires."""
    starts = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    ends = datetime(2026, 11, 25, 17, 30, 0, 250000, tzinfo=UTC)
    a = payloads.alert({"alertname": "X", "pod": "a"}, starts, annotations={"s": "1", "t": "same"})
    b = payloads.alert(
        {"alertname": "X", "pod": "b"}, starts, ends_at=ends, annotations={"s": "2", "t": "same"}
    )
    body = payloads.group([a, b], ("alertname", "cluster"))
    assert (b["status"], b["endsAt"], a["endsAt"]) == (
        "resolved",
        "2026-11-25T17:30:00.250000Z",
        "0001-01-01T00:00:00Z",
    )
    assert {k: body[k] for k in ("status", "groupLabels", "commonLabels", "commonAnnotations")} == {
        "status": "firing",
        "groupLabels": {"alertname": "X"},
        "commonLabels": {"alertname": "X"},
        "commonAnnotations": {"t": "same"},
    }
    assert body["groupKey"] == '{}:{alertname="X"}'
    assert payloads.group([b], ("alertname",))["status"] == "resolved"


def test_send_test_posts_a_new_valid_group_each_time() -> None:
    """Two samples a moment apart are valid webhooks with different identities (groupKeys)."""
    first = sample_payload(datetime(2026, 11, 25, 17, 0, 0, 1, tzinfo=UTC))
    second = sample_payload(datetime(2026, 11, 25, 17, 0, 0, 2, tzinfo=UTC))
    assert first["groupKey"] == (
        '{}:{alertname="FlamebotTest", sent="2026-11-25T17:00:00.000001Z"}'
    )
    assert first["groupKey"] != second["groupKey"]
    assert WebhookPayload.model_validate(first).alerts[0].labels["alertname"] == "FlamebotTest"
