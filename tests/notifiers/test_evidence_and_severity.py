"""Evidence names each metric once; the analysis' severity and the alert's own severity
label are two named things (PRODUCT.md §7.6)."""

from __future__ import annotations

import pytest

from enrichers.result import Evidence
from receiver.notifiers.incident import alert_severity, severities_text
from receiver.notifiers.summary import evidence_line
from tests.notifiers.samples import load_payload, reference_analysis


def _with(evidence: list[Evidence]) -> str:
    return evidence_line(reference_analysis().model_copy(update={"evidence": evidence}))


def cpu(key: str, value: float, threshold: float, crossed: bool) -> Evidence:
    return Evidence(
        metric="cpu", key=key, value=value, threshold=threshold, op=">=", crossed=crossed
    )


THREADS = Evidence(metric="threads", key="threads", value=80, threshold=60, op=">", crossed=True)


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        pytest.param(
            [cpu("cpu", 0.82, 0.3, True), cpu("critical_cpu", 0.82, 0.8, True), THREADS],
            "cpu 0.82 cores >= 0.80 cores (critical), threads 80 > 60",
            id="past-both-thresholds-once-with-the-critical-one",
        ),
        pytest.param(
            [cpu("cpu", 0.5, 0.3, True), cpu("critical_cpu", 0.5, 0.8, False)],
            "cpu 0.50 cores >= 0.30 cores",
            id="past-its-threshold-only-without-critical",
        ),
    ],
)
def test_a_metric_is_listed_once_with_the_highest_threshold_it_crossed(
    evidence: list[Evidence], expected: str
) -> None:
    """cpu past 0.3 and 0.8 is one item with `(critical)`; past 0.3 only, one item without."""
    assert _with(evidence) == expected


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
