"""What to ask for, per runtime: PromQL templates, profile types and actions, pure.

A preset holds, for one runtime (`jvm`, `go`):

- `queries`: one PromQL template per health metric, over `{selector}` (the matchers from
  `enrichers.promql.instance_selector`, no braces). A template may return one series per
  instance; the client keeps the largest value. Units: cores, ratio, s/s, threads,
  requests/s, ratio, milliseconds.
- `profile_types`: per profile kind, Pyroscope profile type IDs in order of preference; the
  first one the service has wins.
- `actions`: the reference decision matrix's advice per verdict, with `{hotspot}`,
  `{service}` and `{pyroscope_service}` placeholders (see `render_action`).
- `normalize_frames`: JFR writes `com/example/Foo.bar`; the JVM preset turns `/` into `.`.

`build_preset()` lays the config's `enrichment.queries`, `profile_types` and `actions` over
the built-in preset. The `go` preset's request metrics use the common
`http_requests_total{code}` and `http_request_duration_seconds_{sum,count}` names; services
instrumented otherwise override `req_per_sec`, `error_ratio` and `latency_ms` in config.
Go has no wall-clock profile: its `wall` entry is the block profile (time goroutines spent
waiting on channels, selects and locks), the closest off-CPU view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from enrichers.result import ProfileKind, Verdict
from enrichers.settings import EnrichmentSettings, MetricName

__all__ = ["GO", "JVM", "PRESETS", "UNKNOWN_HOTSPOT", "Preset", "build_preset", "render_action"]

UNKNOWN_HOTSPOT = "the hottest function (unknown: no profile data)"
_PLACEHOLDER = re.compile(r"\{(?:hotspot|service|pyroscope_service)\}")


@dataclass(frozen=True)
class Preset:
    name: str
    queries: Mapping[MetricName, str]
    profile_types: Mapping[ProfileKind, tuple[str, ...]]
    actions: Mapping[Verdict, str]
    normalize_frames: bool


def _rate_by_instance(metric: str, matchers: str = "") -> str:
    inner = f"{matchers},{{selector}}" if matchers else "{selector}"
    return f"sum by (instance) (rate({metric}{{{inner}}}[2m]))"


def _request_queries(requests: str, duration: str) -> dict[MetricName, str]:
    """req/s, the 5xx share (0 when no 5xx series exists yet) and the mean latency in ms."""
    total = _rate_by_instance(requests)
    errors = _rate_by_instance(requests, 'code=~"5.."')
    return {
        "req_per_sec": total,
        "error_ratio": f"({errors} or 0 * {total}) / {total}",
        "latency_ms": f"1000 * {_rate_by_instance(f'{duration}_sum')}"
        f" / {_rate_by_instance(f'{duration}_count')}",
    }


_CPU = "rate(process_cpu_seconds_total{{selector}}[2m])"

_COMMON_ACTIONS: dict[Verdict, str] = {
    "CPU-BOUND": "optimise {hotspot} (algorithm, caching, async offload)",
    "I/O-BOUND": "add pools, timeouts and circuit breakers on the dependency behind {hotspot}",
    "HEALTHY": "no code action; suspect infrastructure (network, DNS, load balancer)",
    "NO-PROFILE-DATA": (
        "check the profiling agent and the service_name mapping (queried {pyroscope_service})"
    ),
}

_JVM_QUERIES: dict[MetricName, str] = {
    "cpu": _CPU,
    "heap_ratio": 'sum by (instance) (jvm_memory_used_bytes{area="heap",{selector}})'
    ' / sum by (instance) (jvm_memory_max_bytes{area="heap",{selector}})',
    "gc": _rate_by_instance("jvm_gc_collection_seconds_sum"),
    "threads": "jvm_threads_current{{selector}}",
    **_request_queries(
        "vertx_http_server_requests_total", "vertx_http_server_response_time_seconds"
    ),
}

JVM = Preset(
    name="jvm",
    queries=MappingProxyType(_JVM_QUERIES),
    profile_types=MappingProxyType(
        {
            "cpu": ("process_cpu:cpu:nanoseconds:cpu:nanoseconds",),
            "alloc": (
                "memory:alloc_in_new_tlab_bytes:bytes:space:bytes",
                "memory:alloc_in_new_tlab_objects:count:space:bytes",
            ),
            "mutex": ("mutex:contentions:count:mutex:count", "mutex:delay:nanoseconds:mutex:count"),
            "wall": ("wall:wall:nanoseconds:wall:nanoseconds",),
        }
    ),
    actions=MappingProxyType(
        {
            **_COMMON_ACTIONS,
            "GC-BOUND": "reduce allocations in {hotspot}, pre-size collections, use pooling",
            "MEMORY-PRESSURE": (
                "find the leak in {hotspot} if the heap keeps rising, else raise the heap (-Xmx)"
            ),
            "LOCK-BOUND": "narrow the lock in {hotspot}, use concurrent structures",
        }
    ),
    normalize_frames=True,
)

# GOMEMLIMIT defaults to math.MaxInt64 (~9.2e18): "no limit", so the heap is compared with
# what the runtime obtained from the OS instead.
_GO_HEAP_LIMIT = (
    "(go_gc_gomemlimit_bytes{{selector}} < 1e18)"
    " or on (instance) go_memstats_heap_sys_bytes{{selector}}"
)

_GO_QUERIES: dict[MetricName, str] = {
    "cpu": _CPU,
    "heap_ratio": "max by (instance) (go_memstats_heap_alloc_bytes{{selector}})"
    f" / on (instance) max by (instance) ({_GO_HEAP_LIMIT})",
    "gc": _rate_by_instance("go_gc_duration_seconds_sum"),
    "threads": "go_goroutines{{selector}}",
    **_request_queries("http_requests_total", "http_request_duration_seconds"),
}

GO = Preset(
    name="go",
    queries=MappingProxyType(_GO_QUERIES),
    profile_types=MappingProxyType(
        {
            "cpu": ("process_cpu:cpu:nanoseconds:cpu:nanoseconds",),
            "alloc": ("memory:alloc_space:bytes:space:bytes",),
            "mutex": ("mutex:delay:nanoseconds:contentions:count",),
            "wall": ("block:delay:nanoseconds:contentions:count",),
        }
    ),
    actions=MappingProxyType(
        {
            **_COMMON_ACTIONS,
            "GC-BOUND": (
                "reduce allocations in {hotspot}, pre-size collections, use pooling;"
                " tune GOGC or set GOMEMLIMIT"
            ),
            "MEMORY-PRESSURE": (
                "find the leak in {hotspot} if the heap keeps rising,"
                " else raise GOMEMLIMIT and the container limit"
            ),
            "LOCK-BOUND": (
                "narrow the critical section in {hotspot}, shard the mutex or use sync/atomic"
            ),
        }
    ),
    normalize_frames=False,
)

PRESETS: Mapping[str, Preset] = MappingProxyType({"jvm": JVM, "go": GO})


def build_preset(settings: EnrichmentSettings) -> Preset:
    """The built-in preset of `settings.preset` with the config's overrides laid over it."""
    base = PRESETS[settings.preset]
    profile_types = dict(base.profile_types)
    for kind, ids in settings.profile_types.items():
        profile_types[kind] = tuple(ids)
    return Preset(
        name=base.name,
        queries=MappingProxyType({**base.queries, **settings.queries}),
        profile_types=MappingProxyType(profile_types),
        actions=MappingProxyType({**base.actions, **settings.actions}),
        normalize_frames=base.normalize_frames,
    )


def render_action(
    template: str, *, hotspot: str | None, service: str, pyroscope_service: str
) -> str:
    """`template` with `{hotspot}`, `{service}` and `{pyroscope_service}` filled in.

    Plain replacement, in one pass: other braces stay as written, and a value that itself
    contains a placeholder is not expanded again.
    """
    values = {
        "{hotspot}": hotspot if hotspot is not None else UNKNOWN_HOTSPOT,
        "{service}": service,
        "{pyroscope_service}": pyroscope_service,
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(0)], template)
