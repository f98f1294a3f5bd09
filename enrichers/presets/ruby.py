"""The Ruby preset: rbspy through pyroscope-rb, process and request metrics.

| metric | query over | unit |
|---|---|---|
| cpu | `process_cpu_seconds_total` | cores |
| requests | `http_requests_total{code}`, `http_request_duration_seconds` | req/s, ms |

Ruby's Prometheus clients export no runtime metrics by default; a service is recognised as
Ruby by the `rbspy` agent, or by `ruby_` metrics (the prometheus_exporter gem's). rbspy
profiles CPU only. Frames stay as rbspy writes them, `path/file.rb:line - method`: the
standard library (`/lib/ruby/3.x/`, `<internal:...>`) is runtime code, `/gems/` libraries.
"""

from __future__ import annotations

from types import MappingProxyType

from enrichers.frames import FrameRules, is_binary
from enrichers.presets.base import (
    COMMON_ACTIONS,
    CPU_QUERY,
    HTTP_REQUESTS,
    SCRIPT_PROFILE_TYPES,
    Preset,
)
from enrichers.presets.python import script_path

__all__ = ["PRESET"]


def _is_library(name: str) -> bool:
    return "/gems/" in script_path(name)


def _is_runtime(name: str) -> bool:
    path = script_path(name)
    if is_binary(path) or name.startswith("<internal:"):
        return True
    return "/lib/ruby/" in path and not _is_library(name)


PRESET = Preset(
    name="ruby",
    queries=MappingProxyType({"cpu": CPU_QUERY, **HTTP_REQUESTS}),
    profile_types=SCRIPT_PROFILE_TYPES,
    actions=MappingProxyType(
        {
            **COMMON_ACTIONS,
            "CPU-BOUND": (
                "optimise {hotspot} (algorithm, memoization); move slow work to background jobs"
            ),
            "GC-BOUND": (
                "allocate fewer objects in {hotspot} (frozen string literals, fewer temporary"
                " arrays); tune RUBY_GC_HEAP_GROWTH_FACTOR"
            ),
            "MEMORY-PRESSURE": (
                "find what {hotspot} retains (ObjectSpace, memory_profiler) if memory keeps"
                " rising, else raise the memory limit"
            ),
            "LOCK-BOUND": (
                "narrow the Mutex in {hotspot}; threads also wait for the GVL: run more processes"
            ),
        }
    ),
    frames=FrameRules(is_runtime=_is_runtime, is_library=_is_library),
    spies=("rbspy",),
    metric_prefixes=("ruby_",),
)
