"""The Node.js preset: prom-client's default metrics, @pyroscope/nodejs' profile types.

| metric | query over | unit |
|---|---|---|
| cpu | `process_cpu_seconds_total` | cores |
| heap_ratio | `nodejs_heap_size_used_bytes / nodejs_heap_size_total_bytes` | ratio (0.9; 0.97) |
| gc | `nodejs_gc_duration_seconds_sum` | s/s |
| threads | `nodejs_active_handles` | handles (threshold 1000) |
| requests | `http_requests_total{code}`, `http_request_duration_seconds` | req/s, ms |

V8 grows its heap on demand, so a used/total ratio near 0.8 is normal: the thresholds are
higher than the JVM's. Node's CPU profile is V8's sampler, a wall-clock profile
(`wall:wall:microseconds:wall:microseconds`) in which an idle event loop shows as `(idle)`;
its heap profile is what is in use (`inuse_space`). Frames stay as the agent writes them
(`file:line:col`, `./index.js:(anonymous):19`); V8's pseudo frames and `node:` internals are
runtime code, `node_modules/` libraries.
"""

from __future__ import annotations

from types import MappingProxyType

from enrichers import profile_types as ids
from enrichers.frames import FrameRules, is_binary
from enrichers.presets.base import COMMON_ACTIONS, CPU_QUERY, HTTP_REQUESTS, Preset
from enrichers.presets.base import rate_by_instance as rate

__all__ = ["PRESET"]

_V8_PSEUDO = frozenset({"(root)", "(program)", "(idle)", "(garbage collector)", "(external)"})


def _is_runtime(name: str) -> bool:
    if is_binary(name) or name.startswith(("node:", "internal/")):
        return True
    return any(part in _V8_PSEUDO for part in name.split(":"))


def _is_library(name: str) -> bool:
    return "node_modules/" in name


PRESET = Preset(
    name="nodejs",
    queries=MappingProxyType(
        {
            "cpu": CPU_QUERY,
            "heap_ratio": "max by (instance) (nodejs_heap_size_used_bytes{{selector}})"
            " / on (instance) max by (instance) (nodejs_heap_size_total_bytes{{selector}})",
            "gc": rate("nodejs_gc_duration_seconds_sum"),
            "threads": "nodejs_active_handles{{selector}}",
            **HTTP_REQUESTS,
        }
    ),
    profile_types=MappingProxyType(
        {
            "cpu": (ids.NODE_WALL,),
            "alloc": (ids.NODE_INUSE_SPACE, ids.NODE_HEAP_SPACE),
        }
    ),
    actions=MappingProxyType(
        {
            **COMMON_ACTIONS,
            "CPU-BOUND": (
                "optimise {hotspot} or move it off the event loop (worker_threads):"
                " while it runs, no other request is served"
            ),
            "GC-BOUND": (
                "allocate less in {hotspot} (reuse buffers and objects); raise"
                " --max-semi-space-size if young collections dominate"
            ),
            "MEMORY-PRESSURE": (
                "find what {hotspot} retains (a heap snapshot) if the heap keeps rising,"
                " else raise --max-old-space-size"
            ),
            "LOCK-BOUND": "serialised work in {hotspot}: look for awaited locks and queues",
        }
    ),
    frames=FrameRules(is_runtime=_is_runtime, is_library=_is_library),
    units=MappingProxyType({"threads": "handles"}),
    thresholds=MappingProxyType(
        {"heap_ratio": 0.9, "critical_heap_ratio": 0.97, "threads": 1000.0}
    ),
    spies=("nodespy",),
    marks=ids.agent_ids("NODE"),
    metric_prefixes=("nodejs_",),
)
