"""The Python preset: prometheus_client's default metrics, py-spy through pyroscope-io.

| metric | query over | unit |
|---|---|---|
| cpu | `process_cpu_seconds_total` | cores |
| heap_ratio | `process_resident_memory_bytes / process_virtual_memory_max_bytes` | ratio |
| gc | `python_gc_collections_total{generation="2"}` | collections/s (1; critical 5) |
| threads | (no default metric) | |
| requests | `http_requests_total{code}`, `http_request_duration_seconds` | req/s, ms |

py-spy profiles CPU only (`process_cpu:samples:count::milliseconds`; the legacy ingest path
writes nanoseconds). Frames stay as py-spy writes them, `path/file.py:line - function`: a
module of the standard library (`sys.stdlib_module_names`) or a path under `lib/python3.x`
is runtime code, `site-packages/` and `dist-packages/` are libraries.
"""

from __future__ import annotations

import sys
from types import MappingProxyType

from enrichers.frames import FrameRules, is_binary
from enrichers.presets.base import (
    COMMON_ACTIONS,
    CPU_QUERY,
    HTTP_REQUESTS,
    SCRIPT_PROFILE_TYPES,
    Preset,
)
from enrichers.presets.base import rate_by_instance as rate

__all__ = ["PRESET", "script_path"]

_PACKAGES = ("site-packages/", "dist-packages/")


def script_path(name: str) -> str:
    """The file of a `path/file.py:line - function` frame (also `.rb`, rbspy's form)."""
    location = name.split(" - ", 1)[0]
    path, colon, line = location.rpartition(":")
    return path if colon and line.lstrip("-").isdigit() else location


def _is_runtime(name: str) -> bool:
    path = script_path(name)
    if is_binary(path) or name.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return True
    if "/lib/python" in path:
        return not any(package in path for package in _PACKAGES)
    module = path.split("/", 1)[0].removesuffix(".py")
    return module in sys.stdlib_module_names


def _is_library(name: str) -> bool:
    return any(package in script_path(name) for package in _PACKAGES)


PRESET = Preset(
    name="python",
    queries=MappingProxyType(
        {
            "cpu": CPU_QUERY,
            "heap_ratio": "max by (instance) (process_resident_memory_bytes{{selector}})"
            " / on (instance) max by (instance) (process_virtual_memory_max_bytes{{selector}} > 0)",
            "gc": rate("python_gc_collections_total", 'generation="2"'),
            **HTTP_REQUESTS,
        }
    ),
    profile_types=SCRIPT_PROFILE_TYPES,
    actions=MappingProxyType(
        {
            **COMMON_ACTIONS,
            "CPU-BOUND": (
                "optimise {hotspot} (algorithm, caching); CPU-heavy work holds the GIL:"
                " move it to a process pool or a C extension"
            ),
            "GC-BOUND": (
                "reduce the objects {hotspot} creates (reuse them, avoid temporary lists);"
                " tune gc.set_threshold, gc.freeze() after start-up"
            ),
            "MEMORY-PRESSURE": (
                "find what {hotspot} keeps alive (tracemalloc) if memory keeps rising,"
                " else raise the memory limit"
            ),
            "LOCK-BOUND": (
                "narrow the lock in {hotspot}; threads also wait for the GIL: use processes"
                " or asyncio"
            ),
        }
    ),
    frames=FrameRules(is_runtime=_is_runtime, is_library=_is_library),
    units=MappingProxyType({"gc": "collections/s"}),
    thresholds=MappingProxyType({"gc": 1.0, "critical_gc": 5.0}),
    spies=("pyspy",),
    metric_prefixes=("python_",),
)
