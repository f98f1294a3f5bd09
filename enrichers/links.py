"""Links for an alert: Grafana Explore and Profiles Drilldown, dashboards, silences, runbooks.

Pure string builders, one small function per URL, so a change of Grafana's URL scheme is a
change of one function. Formats (reference/pyroscope-api.md §3, reference/protocols.md §1.5):

- Explore (`link_style: explore`): `/explore?schemaVersion=1&panes=<JSON>&orgId=<n>`; the
  pane's range holds epoch milliseconds as *strings* (anything else silently becomes the
  default range).
- Profiles Drilldown (`link_style: drilldown`): `/a/grafana-pyroscope-app/explore?...` with
  `explorationType=flame-graph`. Like the app's own links, these carry no `orgId`.
- The baseline diff is always the Drilldown `diff-flame-graph` view, whatever `link_style`
  says: Explore has no diff view, and it is the only diff flame graph Grafana has.
- Dashboards: `/d/<uid>?orgId=<n>&from=<ms>&to=<ms>&var-<name>=<value>`.
- Silences: `<externalURL>/#/silences/new?filter=` + the percent-encoded matchers.

Every URL returned is safe inside Slack's `<url|text>` link syntax: no raw `|`, `<`, `>`,
quote or whitespace survives (they are percent-encoded).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote, urlsplit

from enrichers.result import Window
from enrichers.settings import Dashboard, GrafanaSettings
from enrichers.times import epoch_ms

__all__ = [
    "EXPLORE_PANE_ID",
    "PYROSCOPE_DATASOURCE_TYPE",
    "dashboard_url",
    "drilldown_diff_url",
    "drilldown_flamegraph_url",
    "explore_url",
    "flame_graph_url",
    "runbook_link",
    "safe_url",
    "silence_url",
]

PYROSCOPE_DATASOURCE_TYPE = "grafana-pyroscope-datasource"
# Grafana keeps a pane ID of 3 characters with a letter; any other ID is regenerated.
EXPLORE_PANE_ID = "prf"
DRILLDOWN_PATH = "/a/grafana-pyroscope-app/explore"

# RFC 3986 reserved characters and `%`: kept as they are, so a valid URL keeps its meaning.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _q(value: str | int) -> str:
    return quote(str(value), safe="")


def _query(params: list[tuple[str, str | int]]) -> str:
    return "&".join(f"{_q(name)}={_q(value)}" for name, value in params)


def _base(grafana: GrafanaSettings) -> str:
    return grafana.url.rstrip("/")


def safe_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL, with `|<>"`, spaces and controls encoded."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)


def explore_url(
    grafana: GrafanaSettings,
    *,
    profile_type: str,
    label_selector: str,
    start: datetime,
    end: datetime,
) -> str:
    """Grafana Explore on the Pyroscope datasource: flame graph and series for the window."""
    uid = grafana.pyroscope_datasource_uid
    query = {
        "refId": "A",
        "datasource": {"type": PYROSCOPE_DATASOURCE_TYPE, "uid": uid},
        "queryType": "both",
        "profileTypeId": profile_type,
        "labelSelector": label_selector,
        "groupBy": [],
    }
    pane = {
        "datasource": uid,
        "queries": [query],
        "range": {"from": str(epoch_ms(start)), "to": str(epoch_ms(end))},
    }
    panes = json.dumps({EXPLORE_PANE_ID: pane}, separators=(",", ":"))
    params: list[tuple[str, str | int]] = [
        ("schemaVersion", 1),
        ("panes", panes),
        ("orgId", grafana.org_id),
    ]
    return f"{_base(grafana)}/explore?{_query(params)}"


def _drilldown_start(
    grafana: GrafanaSettings, exploration: str, service: str, profile_type: str
) -> list[tuple[str, str | int]]:
    return [
        ("explorationType", exploration),
        ("var-dataSource", grafana.pyroscope_datasource_uid),
        ("var-serviceName", service),
        ("var-profileMetricId", profile_type),
    ]


def drilldown_flamegraph_url(
    grafana: GrafanaSettings, *, service: str, profile_type: str, start: datetime, end: datetime
) -> str:
    """Profiles Drilldown's flame graph of `service` (its Pyroscope `service_name`)."""
    params = _drilldown_start(grafana, "flame-graph", service, profile_type)
    params += [("from", epoch_ms(start)), ("to", epoch_ms(end))]
    return f"{_base(grafana)}{DRILLDOWN_PATH}?{_query(params)}"


def drilldown_diff_url(
    grafana: GrafanaSettings,
    *,
    service: str,
    profile_type: str,
    baseline: Window,
    incident: Window,
) -> str:
    """Profiles Drilldown's diff flame graph: baseline window against incident window.

    `from`/`to` (and the two panels' `-2`/`-3` copies) span both windows; `diffFrom`/`diffTo`
    select the baseline, `diffFrom-2`/`diffTo-2` the incident.
    """
    span_from = epoch_ms(min(baseline.start, incident.start))
    span_to = epoch_ms(max(baseline.end, incident.end))
    params = _drilldown_start(grafana, "diff-flame-graph", service, profile_type)
    for suffix in ("", "-2", "-3"):
        params += [(f"from{suffix}", span_from), (f"to{suffix}", span_to)]
    params += [
        ("diffFrom", epoch_ms(baseline.start)),
        ("diffTo", epoch_ms(baseline.end)),
        ("diffFrom-2", epoch_ms(incident.start)),
        ("diffTo-2", epoch_ms(incident.end)),
    ]
    return f"{_base(grafana)}{DRILLDOWN_PATH}?{_query(params)}"


def flame_graph_url(
    grafana: GrafanaSettings,
    *,
    service: str,
    profile_type: str,
    label_selector: str,
    window: Window,
) -> str:
    """The incident's flame graph in the view `grafana.link_style` names.

    Explore queries `label_selector`; Drilldown selects `service` (the Pyroscope
    `service_name`). The diff link has no such choice: see `drilldown_diff_url`.
    """
    if grafana.link_style == "drilldown":
        return drilldown_flamegraph_url(
            grafana, service=service, profile_type=profile_type, start=window.start, end=window.end
        )
    return explore_url(
        grafana,
        profile_type=profile_type,
        label_selector=label_selector,
        start=window.start,
        end=window.end,
    )


def _fill(template: str, context: Mapping[str, str]) -> str:
    # One pass: a value that itself looks like `{name}` is not expanded again.
    return _PLACEHOLDER.sub(lambda m: context.get(m[1], m[0]), template)


def dashboard_url(
    grafana: GrafanaSettings,
    dashboard: Dashboard,
    *,
    context: Mapping[str, str],
    start: datetime,
    end: datetime,
) -> str:
    """A dashboard over the window, its variables filled from `context` (`{service}` etc.).

    Unknown placeholders are left as they are.
    """
    params: list[tuple[str, str | int]] = [
        ("orgId", grafana.org_id),
        ("from", epoch_ms(start)),
        ("to", epoch_ms(end)),
    ]
    params += [(f"var-{name}", _fill(value, context)) for name, value in dashboard.vars.items()]
    return f"{_base(grafana)}/d/{_q(dashboard.uid)}?{_query(params)}"


def _matcher_value(value: str) -> str:
    # Alertmanager's matcher syntax (its UI parser), not PromQL: only `\\`, `"` and newline.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _matcher_name(name: str) -> str:
    return name if _LABEL_NAME.fullmatch(name) else _matcher_value(name)


def silence_url(external_url: str, labels: Mapping[str, str]) -> str | None:
    """Alertmanager's new-silence form prefilled with `labels` as equality matchers.

    Pass the group's common labels: every one is kept, so the silence is exactly as broad
    as the group. A name that is not a classic Prometheus label name (`service.name`, UTF-8)
    is quoted, as Alertmanager's UTF-8 matchers write it (`"service.name"="checkout"`).
    None when `external_url` is not an http(s) URL or there is no label.
    """
    base = safe_url(external_url)
    matchers = [
        f"{_matcher_name(name)}={_matcher_value(value)}" for name, value in sorted(labels.items())
    ]
    if base is None or not matchers:
        return None
    return f"{base.rstrip('/')}/#/silences/new?filter={_q('{' + ', '.join(matchers) + '}')}"


def runbook_link(annotations: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(url, text) of the runbook: `runbook_url`, else `runbook` when it is an http(s) URL.

    A `runbook` that is not a URL is returned as text (even alongside a `runbook_url`).
    """
    runbook = annotations.get("runbook", "").strip()
    url = safe_url(annotations.get("runbook_url")) or safe_url(runbook)
    text = runbook if runbook and safe_url(runbook) is None else None
    if url is None and text is None:
        text = annotations.get("runbook_url", "").strip() or None
    return url, text
