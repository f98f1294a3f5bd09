"""A culprit and a merged (`other`) share reach every output: console, Slack, PagerDuty and
`triage` in text and JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from enrichers.result import EnrichmentResult, Hotspot
from receiver.commands.triage_report import Triage, render_triage, triage_document
from receiver.notifiers.pagerduty_event import render_event
from receiver.notifiers.slack_blocks import LEVELS, _blocks, render_slack
from receiver.notifiers.text import render_text
from tests.notifiers.samples import INCIDENT, group_links, load_payload, reference_analysis

REGEX = "java.util.regex.Pattern$CharPropertyGreedy.match"
VALIDATE = "com.example.Validator.validate"
MERGED = "23% of CPU samples are in functions Pyroscope merged; raise `pyroscope.max_nodes`"
ACTION = f"optimise {VALIDATE} (time is in {REGEX}) (algorithm, caching, async offload)"


def enrichment() -> tuple[object, EnrichmentResult]:
    """The reference service, its CPU hot in the JDK's regex engine under Validator.validate,
    23.4% of its CPU merged by Pyroscope (and 2% of its allocations: under the 5% bar)."""
    payload = load_payload("reference-highcpuusage.json")
    analysis = reference_analysis().model_copy(
        update={
            "hotspot": Hotspot(
                function=REGEX, profile="cpu", self_pct=8.2, baseline_pct=1.0, culprit=VALIDATE
            ),
            "action": ACTION,
            "truncated_pct": {"cpu": 23.4, "alloc": 2.0},
            "biggest_riser": None,
        }
    )
    result = EnrichmentResult(
        services=[analysis],
        links=group_links(payload),
        enriched_at=datetime(2026, 11, 25, 17, 26, 33, tzinfo=UTC),
    )
    return payload, result


def test_console_names_the_culprit_and_the_merged_share() -> None:
    """The hotspot line says who called the leaf; a Merged line says what to raise."""
    payload, result = enrichment()
    lines = render_text(payload, result, 1).split("\n")  # type: ignore[arg-type]
    assert lines[4:6] == [
        f"    Hotspot:  {REGEX}: 8.2% of CPU self-time (1.0% before, +7.2 pp),"
        f" called from {VALIDATE}",
        f"    Action:   {ACTION}",
    ]
    assert f"    Merged:   {MERGED}" in lines
    assert not any("2% of allocation" in line for line in lines)


def test_slack_says_both_at_every_level_of_detail() -> None:
    """Even the smallest rendering (no notes, no top functions) keeps the merged share."""
    payload, result = enrichment()
    message = render_slack(payload, result)  # type: ignore[arg-type]
    section = next(b for b in message["blocks"] if b["block_id"] == "service-0")
    lines = section["text"]["text"].split("\n")
    assert lines[3] == (
        f"*Hotspot:* `{REGEX}` 8.2% of CPU self-time (1.0% before, +7.2 pp),"
        f" called from `{VALIDATE}`"
    )
    assert f":scissors: {MERGED}" in lines
    smallest = _blocks(payload, result, None, LEVELS[-1])  # type: ignore[arg-type]
    section = next(b for b in smallest if b["block_id"] == "service-0")
    assert f":scissors: {MERGED}" in section["text"]["text"].split("\n")


def test_pagerduty_and_triage_json_carry_both() -> None:
    """`hotspot.culprit` and the `truncated` sentences in custom_details and triage --json."""
    payload, result = enrichment()
    event = render_event(payload, result, routing_key="0" * 32, default_severity="warning")  # type: ignore[arg-type]
    details = event["payload"]["custom_details"]
    assert details["hotspot"]["culprit"] == VALIDATE
    assert (details["truncated"], details["truncated_pct"]) == (
        [MERGED],
        {"cpu": 23.4, "alloc": 2.0},
    )
    triage = Triage(result.enriched_at, INCIDENT, list(result.services))
    (service,) = triage_document(triage)["services"]
    assert (service["hotspot"]["culprit"], service["truncated"]) == (VALIDATE, [MERGED])


def test_triage_text_says_both() -> None:
    """The reference `bottleneck` block gains the caller and the merged share."""
    _, result = enrichment()
    lines = render_triage(Triage(result.enriched_at, INCIDENT, list(result.services))).split("\n")
    assert lines[4:6] == [
        f"       Hotspot: {REGEX}: 8.2% of CPU self-time (1.0% before, +7.2 pp),"
        f" called from {VALIDATE}",
        f"       Action:  {ACTION}",
    ]
    assert f"       Merged: {MERGED}" in lines
