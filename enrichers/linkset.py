"""The links of one analysed service and of one alert group, from the builders in links.py.

Pure: which flame graph to open (the hotspot's profile type, else CPU), the baseline diff,
one flame graph per profile type, the configured dashboards; for the group, the silence,
runbook and source links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from enrichers.links import (
    dashboard_url,
    drilldown_diff_url,
    flame_graph_url,
    runbook_link,
    safe_url,
    silence_url,
)
from enrichers.promql import label_selector
from enrichers.result import GroupLinks, Link, ProfileKind, ServiceLinks, Window
from enrichers.settings import GrafanaSettings
from enrichers.targets import AlertLike, Target

__all__ = ["group_links", "service_links"]


def service_links(
    grafana: GrafanaSettings,
    target: Target,
    *,
    profile_type: str,
    profile_types: Mapping[ProfileKind, str],
    incident: Window,
    baseline: Window,
) -> ServiceLinks:
    """`profile_type` is the one the flame graph and diff links open."""
    service = target.pyroscope_service
    selector = label_selector(service)

    def flame(ptype: str) -> str:
        return flame_graph_url(
            grafana, service=service, profile_type=ptype, label_selector=selector, window=incident
        )

    context = {
        "service": target.service,
        "pyroscope_service": service,
        "host": target.host,
        **dict(target.match),
    }
    return ServiceLinks(
        flame_graph=flame(profile_type),
        diff=drilldown_diff_url(
            grafana,
            service=service,
            profile_type=profile_type,
            baseline=baseline,
            incident=incident,
        ),
        profiles={kind: flame(ptype) for kind, ptype in profile_types.items()},
        dashboards=[
            Link(
                title=d.title,
                url=dashboard_url(
                    grafana, d, context=context, start=incident.start, end=incident.end
                ),
            )
            for d in grafana.dashboards
        ],
    )


def group_links(
    alerts: Sequence[AlertLike],
    common_annotations: Mapping[str, str],
    common_labels: Mapping[str, str],
    external_url: str,
) -> GroupLinks:
    """Silence (the group's common labels), runbook and source (first alert's generatorURL)."""
    annotations = dict(common_annotations) or (dict(alerts[0].annotations) if alerts else {})
    runbook, runbook_text = runbook_link(annotations)
    source = next((url for a in alerts if (url := safe_url(a.generator_url))), None)
    return GroupLinks(
        silence=silence_url(external_url, common_labels),
        runbook=runbook,
        runbook_text=runbook_text,
        source=source,
    )
