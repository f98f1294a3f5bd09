"""Grafana, Profiles Drilldown, dashboard, silence and runbook links: full expected URLs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from enrichers.links import (
    dashboard_url,
    drilldown_diff_url,
    drilldown_flamegraph_url,
    explore_url,
    flame_graph_url,
    runbook_link,
    safe_url,
    silence_url,
)
from enrichers.promql import label_selector
from enrichers.result import Window
from enrichers.settings import Dashboard, GrafanaSettings

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
DS_UID = "P4D1E1D8B1A2C3D4E"
GRAFANA = GrafanaSettings(url="http://grafana:3000/", pyroscope_datasource_uid=DS_UID)


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


# The incident of the worked examples: 2024-11-25 13:20 to 13:50 UTC, baseline one hour earlier.
INCIDENT = Window(start=ms(1732540800000), end=ms(1732542600000))
BASELINE = Window(start=ms(1732537200000), end=ms(1732539000000))

# pyroscope-api.md §3a, "Example for the incident window".
REFERENCE_EXPLORE = (
    "/explore?schemaVersion=1&panes=%7B%22prf%22%3A%7B%22datasource%22%3A%22P4D1E1D8B1A2C3D4E"
    "%22%2C%22queries%22%3A%5B%7B%22refId%22%3A%22A%22%2C%22datasource%22%3A%7B%22type%22%3A"
    "%22grafana-pyroscope-datasource%22%2C%22uid%22%3A%22P4D1E1D8B1A2C3D4E%22%7D%2C%22queryType"
    "%22%3A%22both%22%2C%22profileTypeId%22%3A%22process_cpu%3Acpu%3Ananoseconds%3Acpu%3Ananose"
    "conds%22%2C%22labelSelector%22%3A%22%7Bservice_name%3D%5C%22checkout%5C%22%7D%22%2C%22grou"
    "pBy%22%3A%5B%5D%7D%5D%2C%22range%22%3A%7B%22from%22%3A%221732540800000%22%2C%22to%22%3A%22"
    "1732542600000%22%7D%7D%7D&orgId=1"
)
# pyroscope-api.md §3b, "Incident example".
REFERENCE_DIFF = (
    "/a/grafana-pyroscope-app/explore?explorationType=diff-flame-graph&var-dataSource=P4D1E1D8B1A"
    "2C3D4E&var-serviceName=checkout&var-profileMetricId=process_cpu%3Acpu%3Ananoseconds%3Acpu%3A"
    "nanoseconds&from=1732537200000&to=1732542600000&from-2=1732537200000&to-2=1732542600000&fro"
    "m-3=1732537200000&to-3=1732542600000&diffFrom=1732537200000&diffTo=1732539000000&diffFrom-2="
    "1732540800000&diffTo-2=1732542600000"
)
# pyroscope-api.md §3b "Flame graph example", without its optional `var-filters`.
REFERENCE_FLAMEGRAPH = (
    "/a/grafana-pyroscope-app/explore?explorationType=flame-graph&var-dataSource=P4D1E1D8B1A2C3D4E"
    "&var-serviceName=checkout&var-profileMetricId=process_cpu%3Acpu%3Ananoseconds%3Acpu%3Ananose"
    "conds&from=1732540800000&to=1732542600000"
)
# protocols.md §1.5.
REFERENCE_SILENCE = (
    "http://alertmanager:9093/#/silences/new?filter=%7Balertname%3D%22HighCPUUsage%22%2C%20servic"
    "e%3D%22payment-service%22%7D"
)
SLACK_UNSAFE = set('|<> "\n\t')


def test_explore_url_equals_the_reference_worked_example() -> None:
    """The Explore link for the reference incident is byte for byte the documented one."""
    url = explore_url(
        GRAFANA,
        profile_type=CPU,
        label_selector=label_selector("checkout"),
        start=INCIDENT.start,
        end=INCIDENT.end,
    )
    assert url == "http://grafana:3000" + REFERENCE_EXPLORE


def test_explore_url_range_is_epoch_milliseconds_as_strings() -> None:
    """Grafana ignores a numeric range: `from`/`to` are strings of epoch milliseconds."""
    url = explore_url(
        GRAFANA, profile_type=CPU, label_selector="{}", start=INCIDENT.start, end=INCIDENT.end
    )
    panes = json.loads(parse_qs(urlsplit(url).query)["panes"][0])
    assert panes["prf"]["range"] == {"from": "1732540800000", "to": "1732542600000"}
    assert panes["prf"]["queries"][0]["labelSelector"] == "{}"


def test_drilldown_flamegraph_url_equals_the_reference_example() -> None:
    """The Drilldown flame graph names the datasource, service, profile type and window."""
    url = drilldown_flamegraph_url(
        GRAFANA, service="checkout", profile_type=CPU, start=INCIDENT.start, end=INCIDENT.end
    )
    assert url == "http://grafana:3000" + REFERENCE_FLAMEGRAPH


def test_drilldown_diff_url_equals_the_reference_incident_example() -> None:
    """The diff view spans both windows; diffFrom/diffTo is the baseline, -2 the incident."""
    url = drilldown_diff_url(
        GRAFANA, service="checkout", profile_type=CPU, baseline=BASELINE, incident=INCIDENT
    )
    assert url == "http://grafana:3000" + REFERENCE_DIFF


def test_flame_graph_url_follows_link_style() -> None:
    """`explore` gives the Explore link over the selector, `drilldown` the app over the service."""
    explore = flame_graph_url(
        GRAFANA,
        service="checkout",
        profile_type=CPU,
        label_selector=label_selector("checkout"),
        window=INCIDENT,
    )
    drilldown = flame_graph_url(
        GRAFANA.model_copy(update={"link_style": "drilldown"}),
        service="checkout",
        profile_type=CPU,
        label_selector="{ignored}",
        window=INCIDENT,
    )
    assert explore == "http://grafana:3000" + REFERENCE_EXPLORE
    assert drilldown == "http://grafana:3000" + REFERENCE_FLAMEGRAPH


def test_dashboard_url_fills_variables_and_encodes_values() -> None:
    """Placeholders come from the context; unknown ones stay; values are percent-encoded."""
    dashboard = Dashboard(
        title="JVM overview",
        uid="pyroscope-java-overview",
        vars={"application": "{pyroscope_service}", "ns": "{namespace}", "pod": "{pod}|a b"},
    )
    context = {"pyroscope_service": "bank-payment-service", "namespace": "{service}"}
    url = dashboard_url(GRAFANA, dashboard, context=context, start=INCIDENT.start, end=INCIDENT.end)
    assert url == (
        "http://grafana:3000/d/pyroscope-java-overview?orgId=1&from=1732540800000"
        "&to=1732542600000&var-application=bank-payment-service&var-ns=%7Bservice%7D"
        "&var-pod=%7Bpod%7D%7Ca%20b"
    )


def test_dashboard_url_without_variables() -> None:
    """A dashboard with no variables gets the org and the window only; the uid is encoded."""
    dashboard = Dashboard(title="Fleet", uid="a b/c")
    url = dashboard_url(
        GRAFANA.model_copy(update={"org_id": 3}),
        dashboard,
        context={},
        start=INCIDENT.start,
        end=INCIDENT.end,
    )
    assert url == "http://grafana:3000/d/a%20b%2Fc?orgId=3&from=1732540800000&to=1732542600000"


def test_silence_url_equals_the_reference_example() -> None:
    """Matchers sorted by name, `", "` joined, quoted, percent-encoded as a whole."""
    labels = {"service": "payment-service", "alertname": "HighCPUUsage"}
    assert silence_url("http://alertmanager:9093", labels) == REFERENCE_SILENCE


def test_silence_url_escapes_quotes_backslashes_and_newlines() -> None:
    """A value's `"`, `\\` and newline are escaped inside the quoted matcher."""
    url = silence_url("https://am.example/", {"a": 'x"y\\z\nw'})
    assert url == "https://am.example/#/silences/new?filter=%7Ba%3D%22x%5C%22y%5C%5Cz%5Cnw%22%7D"


def test_silence_url_keeps_and_quotes_names_with_dots_spaces_or_utf8() -> None:
    """No common label is dropped: other names are quoted (Alertmanager's UTF-8 matchers)."""
    labels = {"alertname": "HighCpuUsage", "service.name": "checkout", "équipe": "paiement"}
    url = silence_url("https://am.example", {**labels, "bad name": 'a"b'})
    assert url is not None
    assert unquote(url.split("filter=", 1)[1]) == (
        '{alertname="HighCpuUsage", "bad name"="a\\"b", "service.name"="checkout",'
        ' "équipe"="paiement"}'
    )


@pytest.mark.parametrize(
    "external_url",
    ["", "alertmanager:9093", "ftp://am.example", "javascript:alert(1)", "http://", "http://[::1"],
)
def test_silence_url_needs_an_http_external_url(external_url: str) -> None:
    """No link when Alertmanager's externalURL is missing or not an http(s) URL."""
    assert silence_url(external_url, {"alertname": "HighCpuUsage"}) is None


def test_silence_url_needs_a_label() -> None:
    """No link without a label: a silence without matchers would match everything."""
    assert silence_url("http://am:9093", {}) is None


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({"runbook_url": "https://wiki.example/rb"}, ("https://wiki.example/rb", None)),
        ({"runbook": "https://wiki.example/rb#cpu"}, ("https://wiki.example/rb#cpu", None)),
        ({"runbook": "Check the CPU flame graph."}, (None, "Check the CPU flame graph.")),
        (
            {"runbook_url": "https://wiki.example/rb", "runbook": "Check the flame graph."},
            ("https://wiki.example/rb", "Check the flame graph."),
        ),
        ({"runbook_url": "docs/runbook.md"}, (None, "docs/runbook.md")),
        ({"runbook": "http://x|y <z>"}, ("http://x%7Cy%20%3Cz%3E", None)),
        ({"runbook": "  "}, (None, None)),
        ({}, (None, None)),
    ],
)
def test_runbook_link(annotations: dict[str, str], expected: tuple[str | None, str | None]) -> None:
    """`runbook_url` first, then `runbook` when it is a URL, else `runbook` as text."""
    assert runbook_link(annotations) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/x?q=1&r=%20#f", "https://a.example/x?q=1&r=%20#f"),
        (" http://a.example/<!channel>|x y\n", "http://a.example/%3C!channel%3E%7Cx%20y"),
        ("http://a.example/é", "http://a.example/%C3%A9"),
        ("javascript:alert(1)", None),
        ("mailto:x@example.com", None),
        ("//a.example/x", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    """Only absolute http(s) URLs pass, with Slack's control characters percent-encoded."""
    assert safe_url(url) == expected


def test_every_builder_is_safe_inside_slack_link_syntax() -> None:
    """Hostile service names, labels and settings never put `|`, `<`, `>` or spaces in a URL."""
    hostile = '<!channel> <http://x|y> & > "q" \\'
    settings = GrafanaSettings(url="http://grafana:3000", pyroscope_datasource_uid=hostile)
    urls = [
        explore_url(
            settings,
            profile_type=hostile,
            label_selector=label_selector(hostile),
            start=INCIDENT.start,
            end=INCIDENT.end,
        ),
        drilldown_flamegraph_url(
            settings, service=hostile, profile_type=hostile, start=INCIDENT.start, end=INCIDENT.end
        ),
        drilldown_diff_url(
            settings, service=hostile, profile_type=hostile, baseline=BASELINE, incident=INCIDENT
        ),
        dashboard_url(
            settings,
            Dashboard(title=hostile, uid=hostile, vars={hostile: "{service}"}),
            context={"service": hostile},
            start=INCIDENT.start,
            end=INCIDENT.end,
        ),
        silence_url("http://am.example/<x>|", {"alertname": hostile}),
    ]
    for url in urls:
        assert url is not None
        assert not SLACK_UNSAFE & set(url), url


def test_service_selector_escapes_the_service_name() -> None:
    """The Pyroscope selector quotes the service name like a PromQL string."""
    assert label_selector('a"b\\c') == '{service_name="a\\"b\\\\c"}'
