"""Service resolution, selectors and windows (PRODUCT.md §2), pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from enrichers.result import Window
from enrichers.settings import EnrichmentSettings
from enrichers.targets import (
    StickyNow,
    address_of,
    host_of,
    incident_windows,
    recent_windows,
    resolve_service,
    service_target,
    targets_of,
)
from receiver.models import Alert, WebhookPayload
from tests.conftest import load_payload

SETTINGS = EnrichmentSettings(service_map={"payment-service": "bank-payment-service"})
NOW = datetime(2026, 11, 25, 17, 30, 17, tzinfo=UTC)
END = datetime(2026, 11, 25, 17, 30, 0, tzinfo=UTC)  # NOW rounded down to 30 s


def alert(labels: dict[str, str], starts: datetime, ends: datetime | None = None) -> Alert:
    return Alert.model_validate(
        {
            "status": "firing" if ends is None else "resolved",
            "labels": labels,
            "startsAt": starts.isoformat(),
            "endsAt": ends.isoformat() if ends else "0001-01-01T00:00:00Z",
            "fingerprint": "f" * 16,
        }
    )


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"service_name": "a", "service": "b", "app": "c", "instance": "d:1"}, ("a", "a")),
        ({"service": "b", "app": "c", "instance": "d:1"}, ("b", "b")),
        ({"app": "c", "instance": "d:1"}, ("c", "c")),
        ({"instance": "payment-service:9404"}, ("payment-service", "bank-payment-service")),
        ({"service": "payment-service"}, ("payment-service", "bank-payment-service")),
        ({"instance": "10.0.0.7"}, ("10.0.0.7", "10.0.0.7")),
        ({"instance": "[::1]:9090"}, ("::1", "::1")),
        ({"service": "", "instance": "x:80"}, ("x", "x")),
        ({"job": "jvm"}, ("", "")),
    ],
)
def test_service_resolution_order(labels: dict[str, str], expected: tuple[str, str]) -> None:
    """service_labels in order, else the host of instance, then service_map."""
    assert resolve_service(labels, SETTINGS) == expected


@pytest.mark.parametrize(
    ("instance", "address"),
    [("a:9404", "a"), ("a", "a"), ("[::1]:80", "[::1]"), ("::1", "::1"), ("a:b", "a:b")],
)
def test_address_of(instance: str, address: str) -> None:
    """The address drops a numeric port only, and keeps IPv6 brackets."""
    assert address_of(instance) == address


@pytest.mark.parametrize(
    ("instance", "host"),
    [("payment-service:9404", "payment-service"), ("a:b", "a:b"), ("[fe80::1]:80", "fe80::1")],
)
def test_host_of(instance: str, host: str) -> None:
    """The host part drops a numeric port only."""
    assert host_of(instance) == host


def test_ipv6_instance_selector_keeps_the_brackets() -> None:
    """`[::1]:9090` names service `::1` but selects `instance=~"\\[::1\\](:[0-9]+)?"`."""
    [target] = targets_of([alert({"instance": "[::1]:9090"}, NOW)], SETTINGS)
    assert (target.service, target.host) == ("::1", "[::1]")
    assert target.selector == 'instance=~"\\\\[::1\\\\](:[0-9]+)?"'


def test_reference_alert_selects_both_jobs_of_its_host() -> None:
    """The reference HighCpuUsage (no service label) targets payment-service on any port."""
    payload = WebhookPayload.model_validate(load_payload("reference-highcpuusage.json"))
    [target] = targets_of(payload.alerts, SETTINGS)
    assert (target.service, target.pyroscope_service, target.host) == (
        "payment-service",
        "bank-payment-service",
        "payment-service",
    )
    assert target.selector == 'instance=~"payment-service(:[0-9]+)?"'


def test_match_labels_narrow_the_selector_and_split_targets() -> None:
    """A namespace on the alert joins the selector; two namespaces are two targets."""
    starts = NOW - timedelta(minutes=5)
    alerts = [
        alert({"service": "api", "instance": "api:8080", "namespace": "prod"}, starts),
        alert({"service": "api", "instance": "api:8080", "namespace": "staging"}, starts),
        alert({"service": "api", "instance": "api:8081", "namespace": "prod"}, starts),
    ]
    targets = targets_of(alerts, SETTINGS)
    assert [(t.service, t.match, len(t.alerts)) for t in targets] == [
        ("api", (("namespace", "prod"),), 2),
        ("api", (("namespace", "staging"),), 1),
    ]
    assert targets[0].selector == 'instance=~"api(:[0-9]+)?", namespace="prod"'


def test_group_over_two_services_gives_two_targets() -> None:
    """grouped-firing.json holds checkout-service and payment-service."""
    payload = WebhookPayload.model_validate(load_payload("grouped-firing.json"))
    targets = targets_of(payload.alerts, SETTINGS)
    assert sorted((t.service, t.pyroscope_service) for t in targets) == [
        ("checkout-service", "checkout-service"),
        ("payment-service", "bank-payment-service"),
    ]


def test_firing_window_runs_from_the_earliest_start_minus_window_to_now() -> None:
    """Incident = [earliest startsAt - 15m, now rounded down to 30 s]; baseline 1 h before."""
    alerts = [
        alert({"instance": "a:1"}, NOW - timedelta(minutes=3)),
        alert({"instance": "a:1"}, NOW - timedelta(minutes=7)),
    ]
    incident, baseline = incident_windows(alerts, SETTINGS, NOW)
    start = NOW - timedelta(minutes=22)
    assert incident == Window(start=start, end=END)
    assert baseline == Window(start=start - timedelta(hours=1), end=END - timedelta(hours=1))


def test_resolved_window_ends_at_the_latest_end() -> None:
    """A resolved service's window ends when its last alert ended."""
    ended = datetime(2026, 11, 25, 17, 20, 45, tzinfo=UTC)
    alerts = [alert({"instance": "a:1"}, ended - timedelta(minutes=5), ended)]
    incident, _ = incident_windows(alerts, SETTINGS, NOW)
    assert incident == Window(
        start=ended - timedelta(minutes=20), end=datetime(2026, 11, 25, 17, 20, 30, tzinfo=UTC)
    )


def test_long_or_nonsense_start_is_capped_at_one_day() -> None:
    """An alert firing since year 1 looks at the last day plus the window, without overflow."""
    ancient = alert({"instance": "a:1"}, datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC))
    incident, baseline = incident_windows([ancient], SETTINGS, NOW)
    assert incident == Window(start=END - timedelta(days=1, minutes=15), end=END)
    assert baseline.end == END - timedelta(hours=1)


def test_start_in_the_future_still_gives_a_window() -> None:
    """A startsAt after now (clock skew) still yields a non-empty window ending now."""
    skewed = alert({"instance": "a:1"}, NOW + timedelta(hours=2))
    incident, _ = incident_windows([skewed], SETTINGS, NOW)
    assert incident == Window(start=END - timedelta(seconds=30), end=END)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("payment-service", ("payment-service", "bank-payment-service")),
        ("bank-payment-service", ("payment-service", "bank-payment-service")),
        ("faas-server", ("faas-server", "faas-server")),
    ],
)
def test_service_named_on_the_command_line(name: str, expected: tuple[str, str]) -> None:
    """triage --service takes the Prometheus host or the Pyroscope service_name."""
    target = service_target(name, SETTINGS)
    assert (target.service, target.pyroscope_service) == expected
    assert target.host == expected[0]


def test_recent_windows_end_now() -> None:
    """triage looks at the last `window` before now, and the same span an hour earlier."""
    incident, baseline = recent_windows(SETTINGS, NOW)
    assert incident == Window(start=END - timedelta(minutes=15), end=END)
    assert baseline == Window(
        start=END - timedelta(hours=1, minutes=15), end=END - timedelta(hours=1)
    )


def test_sticky_now_keeps_a_recent_window_end_for_30_seconds() -> None:
    """Within 30 s of a target's analysis, later ones keep its window end; then now again."""
    # Even across a :00/:30 boundary; other targets are independent.
    sticky = StickyNow()
    first = datetime(2026, 11, 25, 17, 0, 29, 500000, tzinfo=UTC)
    assert sticky.now_for("a", first) == first
    end = datetime(2026, 11, 25, 17, 0, 0, tzinfo=UTC)
    assert sticky.now_for("a", first + timedelta(seconds=2)) == end  # 17:00:31
    assert sticky.now_for("a", first + timedelta(seconds=29.9)) == end
    assert sticky.now_for("b", first + timedelta(seconds=2)) == first + timedelta(seconds=2)
    later = first + timedelta(seconds=30)  # 17:00:59.5: a new choice, 17:00:30
    assert sticky.now_for("a", later) == later
    assert sticky.now_for("a", later + timedelta(seconds=1)) == end + timedelta(seconds=30)
    earlier = first - timedelta(seconds=5)  # a clock that went back: a fresh choice
    assert sticky.now_for("a", earlier) == earlier


def test_the_window_contains_a_start_after_the_rounded_end() -> None:
    """An alert that started 10 s after the 30 s-rounded end moves the end up to contain it."""
    now = datetime(2026, 11, 25, 17, 26, 35, tzinfo=UTC)  # rounded down: 17:26:30
    fresh = alert({"instance": "a:1"}, datetime(2026, 11, 25, 17, 26, 34, tzinfo=UTC))
    incident, baseline = incident_windows([fresh], SETTINGS, now)
    assert incident == Window(
        start=datetime(2026, 11, 25, 17, 11, 34, tzinfo=UTC),
        end=datetime(2026, 11, 25, 17, 27, 0, tzinfo=UTC),
    )
    assert baseline.end == datetime(2026, 11, 25, 16, 27, 0, tzinfo=UTC)


def test_a_sticky_end_older_than_a_new_alert_still_contains_it() -> None:
    """The sticky `now` of a storm (up to 60 s old) never ends a window before its alerts."""
    sticky = StickyNow()
    first = datetime(2026, 11, 25, 17, 26, 59, tzinfo=UTC)
    assert sticky.now_for("svc", first) == first
    later = first + timedelta(seconds=20)  # within 30 s: the first analysis' end is reused
    reused = sticky.now_for("svc", later)
    assert reused == datetime(2026, 11, 25, 17, 26, 30, tzinfo=UTC)
    newcomer = alert({"instance": "a:1"}, datetime(2026, 11, 25, 17, 27, 15, tzinfo=UTC))
    incident, _ = incident_windows([newcomer], SETTINGS, reused)
    assert incident.start <= newcomer.starts_at <= incident.end
    assert incident.end == datetime(2026, 11, 25, 17, 27, 30, tzinfo=UTC)


def test_offsets_are_converted_to_utc() -> None:
    """A startsAt of 10:01:20+05:30 is 04:31:20 UTC: both ends come out in UTC, start first."""
    india = timezone(timedelta(hours=5, minutes=30))
    starts = datetime(2026, 11, 25, 10, 1, 20, tzinfo=india)
    now = datetime(2026, 11, 25, 4, 49, 40, tzinfo=UTC)
    incident, _ = incident_windows([alert({"instance": "a:1"}, starts)], SETTINGS, now)
    assert incident == Window(
        start=datetime(2026, 11, 25, 4, 16, 20, tzinfo=UTC),
        end=datetime(2026, 11, 25, 4, 49, 30, tzinfo=UTC),
    )
    assert incident.start.utcoffset() == incident.end.utcoffset() == timedelta(0)
