"""Evidence names each metric once; the analysis' severity and the alert's own severity
label are two named things (PRODUCT.md §7.6)."""

from __future__ import annotations

from enrichers.result import Evidence
from receiver.notifiers.incident import alert_severity, severities_text
from receiver.notifiers.summary import evidence_line
from tests.notifiers.samples import load_payload, reference_analysis


def _with(evidence: list[Evidence]) -> str:
    return evidence_line(reference_analysis().model_copy(update={"evidence": evidence}))


def test_a_metric_past_both_thresholds_is_listed_once_with_the_critical_one() -> None:
    """cpu 0.82 past 0.3 and 0.8: one item, the critical threshold; threads stays separate."""
    assert (
        _with(
            [
                Evidence(metric="cpu", key="cpu", value=0.82, threshold=0.3, op=">=", crossed=True),
                Evidence(
                    metric="cpu",
                    key="critical_cpu",
                    value=0.82,
                    threshold=0.8,
                    op=">=",
                    crossed=True,
                ),
                Evidence(
                    metric="threads", key="threads", value=80, threshold=60, op=">", crossed=True
                ),
            ]
        )
        == "cpu 0.82 cores >= 0.80 cores (critical), threads 80 > 60"
    )


def test_a_metric_past_its_threshold_only_is_listed_with_that_threshold() -> None:
    """cpu 0.5: past 0.3, not past 0.8: one item, no `(critical)`."""
    assert (
        _with(
            [
                Evidence(metric="cpu", key="cpu", value=0.5, threshold=0.3, op=">=", crossed=True),
                Evidence(
                    metric="cpu",
                    key="critical_cpu",
                    value=0.5,
                    threshold=0.8,
                    op=">=",
                    crossed=False,
                ),
            ]
        )
        == "cpu 0.50 cores >= 0.30 cores"
    )


def test_the_two_severities_are_named_apart() -> None:
    """The reference alert is labelled warning; its analysis is critical: both said, named."""
    payload = load_payload("reference-highcpuusage.json")
    analysis = reference_analysis()
    assert alert_severity(payload, analysis) == "warning"
    assert severities_text(payload, analysis) == (
        "analysis severity critical, alert severity warning"
    )


def test_without_a_severity_label_only_the_analysis_severity_is_said() -> None:
    """No `severity` label on the alerts: only the analysis' severity, still named."""
    payload = load_payload("reference-highcpuusage.json")
    body = payload.model_dump(mode="json", by_alias=True)
    del body["alerts"][0]["labels"]["severity"]
    bare = type(payload).model_validate(body)
    assert alert_severity(bare) is None
    assert severities_text(bare, reference_analysis()) == "analysis severity critical"
