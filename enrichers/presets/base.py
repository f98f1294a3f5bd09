"""What every runtime preset is made of, and the parts most of them share. Pure.

A `Preset` is one runtime's knowledge:

- `queries`: one PromQL template per health metric, over `{selector}` (the matchers from
  `enrichers.promql.instance_selector`, no braces). A template may return one series per
  instance; the client keeps the largest value.
- `units`: the unit of each metric where the runtime's clients measure it differently from
  the JVM (`gc` in full collections per second for Python and .NET, `threads` in goroutines
  for Go); `thresholds`: the decision table's defaults in those units, where they differ.
- `profile_types`: per profile kind, Pyroscope profile type IDs in order of preference; the
  first one the service has wins.
- `frames`: how the runtime writes frame names and which ones are its own code.
- `actions`: the reference decision matrix's advice per verdict, in the runtime's words,
  with `{hotspot}`, `{service}` and `{pyroscope_service}` placeholders.
- how to recognise it (`enrichers.detection`): the `pyroscope_spy` values its agents write,
  the profile type IDs only its agents write, and metric name prefixes only its Prometheus
  client exports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from enrichers import profile_types as ids
from enrichers.frames import FrameRules
from enrichers.result import MetricName, ProfileKind, Verdict

__all__ = [
    "COMMON_ACTIONS",
    "CPU_QUERY",
    "HTTP_REQUESTS",
    "SCRIPT_PROFILE_TYPES",
    "Preset",
    "rate_by_instance",
    "request_queries",
]

CPU_QUERY = "rate(process_cpu_seconds_total{{selector}}[2m])"

COMMON_ACTIONS: Mapping[Verdict, str] = MappingProxyType(
    {
        "I/O-BOUND": (
            "add pools, timeouts and circuit breakers on the dependency behind {hotspot}"
        ),
        "HEALTHY": "no code action; suspect infrastructure (network, DNS, load balancer)",
        "NO-PROFILE-DATA": (
            "check the profiling agent and the service_name mapping (queried {pyroscope_service})"
        ),
        "UNKNOWN": (
            "no verdict without data: fix what could not be seen, then run"
            " flamebot triage --service {service}"
        ),
    }
)


@dataclass(frozen=True)
class Preset:
    name: str
    queries: Mapping[MetricName, str]
    profile_types: Mapping[ProfileKind, tuple[str, ...]]
    actions: Mapping[Verdict, str]
    frames: FrameRules
    units: Mapping[MetricName, str] = field(default_factory=lambda: MappingProxyType({}))
    thresholds: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    spies: tuple[str, ...] = ()
    marks: frozenset[str] = frozenset()  # profile type IDs only this runtime's agents write
    metric_prefixes: tuple[str, ...] = ()  # metric names only this runtime's client exports
    # Its client's default metrics are also what exporters and sidecars written in this
    # language expose, so they only name the runtime when nothing else does (Go).
    sidecar_metrics: bool = False


def rate_by_instance(metric: str, matchers: str = "") -> str:
    inner = f"{matchers},{{selector}}" if matchers else "{selector}"
    return f"sum by (instance) (rate({metric}{{{inner}}}[2m]))"


def request_queries(requests: str, duration: str) -> dict[MetricName, str]:
    """req/s, the 5xx share (0 when no 5xx series exists yet) and the mean latency in ms."""
    total = rate_by_instance(requests)
    errors = rate_by_instance(requests, 'code=~"5.."')
    return {
        "req_per_sec": total,
        "error_ratio": f"({errors} or 0 * {total}) / {total}",
        "latency_ms": f"1000 * {rate_by_instance(f'{duration}_sum')}"
        f" / {rate_by_instance(f'{duration}_count')}",
    }


# What pyroscope-rs agents (py-spy, rbspy) write: CPU samples, or nanoseconds and a wall
# profile through the legacy ingest path.
SCRIPT_PROFILE_TYPES: Mapping[ProfileKind, tuple[str, ...]] = MappingProxyType(
    {
        "cpu": (ids.PYSPY_CPU, ids.PROCESS_CPU, ids.LEGACY_CPU_SAMPLES),
        "wall": (ids.LEGACY_WALL,),
    }
)

# The request metrics of the Go client's convention, which most HTTP middlewares follow.
HTTP_REQUESTS = request_queries("http_requests_total", "http_request_duration_seconds")
