"""The .NET preset: prometheus-net's default metrics, pyroscope-dotnet's profile types.

| metric | query over | unit |
|---|---|---|
| cpu | `process_cpu_seconds_total` | cores |
| gc | `dotnet_collection_count_total{generation="2"}` | collections/s (1; critical 5) |
| threads | `process_num_threads` | threads (threshold 200) |
| requests | `http_requests_received_total`, `http_request_duration_seconds` | req/s, ms |

prometheus-net exports the GC heap size (`dotnet_total_memory_bytes`) but no limit, so
`heap_ratio` is unknown unless `enrichment.queries.heap_ratio` names one. Frames stay as the
agent writes them, `Assembly!Namespace.Type.Method(args)`; `app_prefixes` are compared with
the part after `!`; System.*, Microsoft.*, mscorlib and netstandard are runtime code.
"""

from __future__ import annotations

from types import MappingProxyType

from enrichers import profile_types as ids
from enrichers.frames import FrameRules, is_binary
from enrichers.presets.base import COMMON_ACTIONS, CPU_QUERY, Preset, request_queries
from enrichers.presets.base import rate_by_instance as rate

__all__ = ["PRESET"]

_RUNTIME_ASSEMBLIES = ("System.", "Microsoft.")
_RUNTIME_NAMES = frozenset({"System", "mscorlib", "netstandard"})


def _method(name: str) -> str:
    """`System.Console!System.ConsolePal.Write(...)` -> `System.ConsolePal.Write(...)`."""
    return name.split("!", 1)[1] if "!" in name else name


def _is_runtime(name: str) -> bool:
    if is_binary(name):
        return True
    assembly = name.split("!", 1)[0] if "!" in name else name.split(".", 1)[0]
    return assembly in _RUNTIME_NAMES or assembly.startswith(_RUNTIME_ASSEMBLIES)


PRESET = Preset(
    name="dotnet",
    queries=MappingProxyType(
        {
            "cpu": CPU_QUERY,
            "gc": rate("dotnet_collection_count_total", 'generation="2"'),
            "threads": "process_num_threads{{selector}}",
            **request_queries("http_requests_received_total", "http_request_duration_seconds"),
        }
    ),
    profile_types=MappingProxyType(
        {
            "cpu": (ids.DOTNET_CPU, ids.PROCESS_CPU),
            "alloc": (ids.DOTNET_ALLOC_SIZE, ids.DOTNET_ALLOC_SAMPLES),
            "mutex": (ids.DOTNET_LOCK_TIME, ids.DOTNET_LOCK_TIME_CPU_PERIOD, ids.DOTNET_LOCK_COUNT),
        }
    ),
    actions=MappingProxyType(
        {
            **COMMON_ACTIONS,
            "CPU-BOUND": "optimise {hotspot} (algorithm, caching, async offload)",
            "GC-BOUND": (
                "reduce allocations in {hotspot} (Span<T>, ArrayPool<T>, pre-sized collections);"
                " check that Server GC is on"
            ),
            "MEMORY-PRESSURE": (
                "find the leak in {hotspot} (dotnet-gcdump) if the heap keeps rising,"
                " else raise the container limit or GCHeapHardLimit"
            ),
            "LOCK-BOUND": (
                "narrow the lock in {hotspot}; use concurrent collections, or SemaphoreSlim"
                " with await instead of blocking"
            ),
        }
    ),
    frames=FrameRules(is_runtime=_is_runtime, app_key=_method),
    units=MappingProxyType({"gc": "collections/s"}),
    thresholds=MappingProxyType({"gc": 1.0, "critical_gc": 5.0, "threads": 200.0}),
    spies=("dotnetspy",),
    marks=ids.agent_ids("DOTNET"),
    metric_prefixes=("dotnet_",),
)
