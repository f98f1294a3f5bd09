"""The enrichment result: what notifiers render and `triage --json` prints.

One `EnrichmentResult` per alert group, one `ServiceAnalysis` per service in the group.
Verdict strings are the product's vocabulary (PRODUCT.md §2): use them verbatim.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from enrichers.flamegraph_parse import FlameGraph

__all__ = [
    "VERDICTS",
    "EnrichmentResult",
    "Evidence",
    "FlameGraphData",
    "FrameClass",
    "FunctionChange",
    "FunctionStat",
    "GroupLinks",
    "HealthMetrics",
    "Hotspot",
    "Link",
    "MetricName",
    "ProfileKind",
    "ServiceAnalysis",
    "ServiceLinks",
    "Severity",
    "SourceError",
    "Verdict",
    "Window",
]

Verdict = Literal[
    "CPU-BOUND",
    "GC-BOUND",
    "MEMORY-PRESSURE",
    "NO-PROFILE-DATA",
    "LOCK-BOUND",
    "I/O-BOUND",
    "HEALTHY",
    "UNKNOWN",
]
VERDICTS: tuple[Verdict, ...] = (
    "CPU-BOUND",
    "GC-BOUND",
    "MEMORY-PRESSURE",
    "NO-PROFILE-DATA",
    "LOCK-BOUND",
    "I/O-BOUND",
    "HEALTHY",
    "UNKNOWN",
)
Severity = Literal["critical", "warning", "ok", "unknown"]
ProfileKind = Literal["cpu", "alloc", "mutex", "wall"]
PROFILE_KINDS: tuple[ProfileKind, ...] = ("cpu", "alloc", "mutex", "wall")  # in display order
# The health numbers of a service, each read by one PromQL query of its preset.
MetricName = Literal[
    "cpu", "heap_ratio", "gc", "threads", "req_per_sec", "error_ratio", "latency_ms"
]
FrameClass = Literal["app", "runtime", "library"]
Source = Literal["prometheus", "pyroscope", "enrichment"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Model):
    start: datetime
    end: datetime


class FunctionStat(_Model):
    """One function of a profile: self and total share, value in the profile's unit."""

    function: str
    self_pct: float
    total_pct: float
    value: float
    unit: str
    frame_class: FrameClass


class FunctionChange(_Model):
    """A function's self-% in the baseline window against the incident window."""

    function: str
    baseline_pct: float
    incident_pct: float
    delta_pp: float


class Hotspot(_Model):
    """The top self function of the deciding profile; `culprit` is the nearest application
    code on its stacks (itself when it is application code; None when none is there)."""

    function: str
    profile: ProfileKind
    self_pct: float
    baseline_pct: float | None = None
    culprit: str | None = None


class Evidence(_Model):
    """A number against its threshold (`key` under enrichment.thresholds); `crossed` says
    whether the condition held."""

    metric: str
    key: str
    value: float
    threshold: float
    op: Literal[">=", ">"]
    crossed: bool


class SourceError(_Model):
    source: Source
    reason: str


class HealthMetrics(_Model):
    """Health numbers of one service at the window's end; None when unknown."""

    cpu: float | None = None
    heap_ratio: float | None = None
    gc: float | None = None
    threads: float | None = None
    req_per_sec: float | None = None
    error_ratio: float | None = None
    latency_ms: float | None = None


class Link(_Model):
    title: str
    url: str


class ServiceLinks(_Model):
    flame_graph: str | None = None
    diff: str | None = None
    profiles: dict[ProfileKind, str] = Field(default_factory=dict)
    dashboards: list[Link] = Field(default_factory=list)


class GroupLinks(_Model):
    silence: str | None = None
    runbook: str | None = None
    runbook_text: str | None = None
    source: str | None = None


class FlameGraphData(_Model):
    """The deciding profile's flame graphs as a picture draws them (`enrichers.pictures`):
    both windows pruned to their frames of at least 0.5% of the total, the names as shown,
    and the frame class of each name."""

    profile: ProfileKind
    profile_type: str
    incident: FlameGraph
    baseline: FlameGraph | None = None
    classes: dict[str, FrameClass] = Field(default_factory=dict)


class ServiceAnalysis(_Model):
    """One service's analysis. `runtime` is its preset and `runtime_from` what named it;
    `unseen` says what could not be seen and why (a source that failed, no series matched
    the selector, no profiles for the service_name); `units` the unit of a metric where the
    runtime measures it unlike the JVM (`gc` in collections/s, `threads` in goroutines)."""

    service: str
    pyroscope_service: str
    runtime: str
    runtime_from: str = ""
    verdict: Verdict
    severity: Severity
    metrics: HealthMetrics = Field(default_factory=HealthMetrics)
    hotspot: Hotspot | None = None
    action: str
    evidence: list[Evidence] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    top: dict[ProfileKind, list[FunctionStat]] = Field(default_factory=dict)
    profile_types: dict[ProfileKind, str] = Field(default_factory=dict)
    truncated_pct: dict[ProfileKind, float] = Field(default_factory=dict)
    changes: list[FunctionChange] = Field(default_factory=list)
    biggest_riser: FunctionChange | None = None
    window: Window
    baseline_window: Window
    links: ServiceLinks = Field(default_factory=ServiceLinks)
    errors: list[SourceError] = Field(default_factory=list)
    unseen: list[str] = Field(default_factory=list)
    units: dict[str, str] = Field(default_factory=dict)
    alerts: list[str] = Field(default_factory=list)
    flamegraph: FlameGraphData | None = None

    @property
    def partial(self) -> bool:
        return bool(self.errors)


class EnrichmentResult(_Model):
    services: list[ServiceAnalysis] = Field(default_factory=list)
    links: GroupLinks = Field(default_factory=GroupLinks)
    enriched_at: datetime
    duration_seconds: float = 0.0
    errors: list[SourceError] = Field(default_factory=list)
