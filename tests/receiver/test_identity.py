"""A notification's identity: what makes a webhook new work, and what only repeats it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from receiver.models import WebhookPayload, notification_identity
from tests.conftest import load_payload

REFERENCE = "reference-highcpuusage.json"

Change = Callable[[dict[str, Any]], None]


def identity(body: dict[str, Any], route: str = "default") -> str:
    return notification_identity(route, WebhookPayload.model_validate(body))


def first_alert(**fields: str) -> Change:
    def change(body: dict[str, Any]) -> None:
        body["alerts"][0].update(fields)

    return change


@pytest.mark.parametrize(
    "change",
    [
        first_alert(fingerprint="0000000000000001"),
        first_alert(status="resolved", endsAt="2026-11-25T17:40:00Z"),
        first_alert(startsAt="2026-11-25T17:30:00Z"),  # fired again: a new occurrence
        first_alert(endsAt="2026-11-25T18:00:00Z"),  # only the end moved
        lambda body: body.update(groupKey='{}:{alertname="Other"}'),
        lambda body: body["alerts"].append({**body["alerts"][0], "fingerprint": "f" * 16}),
    ],
    ids=["fingerprint", "status", "startsAt", "endsAt", "groupKey", "alert-added"],
)
def test_each_part_of_the_identity_makes_new_work(change: Change) -> None:
    """Changing the groupKey or any alert's fingerprint, status, startsAt or endsAt is new."""
    changed = copy.deepcopy(load_payload(REFERENCE))
    change(changed)
    assert identity(changed) != identity(load_payload(REFERENCE))


@pytest.mark.parametrize(
    "change",
    [
        lambda body: body.update(externalURL="http://alertmanager-1.example:9093"),
        lambda body: body.update(receiver="another-receiver"),
        lambda body: body["commonAnnotations"].update(summary="reworded"),
        first_alert(generatorURL="http://prometheus-1.example:9090/graph"),
    ],
    ids=["ha-peer", "receiver", "annotations", "generatorURL"],
)
def test_a_redelivery_keeps_its_identity(change: Change) -> None:
    """What an HA peer or a repeat changes (URLs, wording, order) is the same notification."""
    changed = copy.deepcopy(load_payload(REFERENCE))
    change(changed)
    assert identity(changed) == identity(load_payload(REFERENCE))


def test_the_order_of_the_alerts_does_not_matter() -> None:
    """Alertmanager may list a group's alerts in another order: still the same notification."""
    body = load_payload("grouped-firing.json")
    reordered = copy.deepcopy(body)
    reordered["alerts"].reverse()
    assert len(body["alerts"]) == 2
    assert identity(reordered) == identity(body)


def test_the_route_is_part_of_the_identity() -> None:
    """The same webhook on two routes is two notifications (each route has its notifiers)."""
    body = load_payload(REFERENCE)
    assert identity(body, "payments") != identity(body, "default")
