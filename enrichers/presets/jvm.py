"""The JVM preset: the JMX exporter and Vert.x metrics of the reference fleet, the Pyroscope
Java agent's profile types (JFR, converted by grafana/jfr-parser), JFR frame names.

| metric | query over | unit |
|---|---|---|
| cpu | `process_cpu_seconds_total` | cores |
| heap_ratio | `jvm_memory_used_bytes / jvm_memory_max_bytes` (`area="heap"`) | ratio |
| gc | `jvm_gc_collection_seconds_sum` | s/s |
| threads | `jvm_threads_current` | threads |
| requests | `vertx_http_server_requests_total`, `..._response_time_seconds` | req/s, ms |
"""

from __future__ import annotations

import re
from types import MappingProxyType

from enrichers import profile_types as ids
from enrichers.frames import FrameRules, is_native
from enrichers.presets.base import COMMON_ACTIONS, CPU_QUERY, Preset, rate_by_instance
from enrichers.presets.base import request_queries as requests

__all__ = ["PRESET", "normalize_jfr"]

_JFR_SEPARATOR = re.compile(r"/(?!0x)")  # keeps hidden-class suffixes: Foo$$Lambda$1/0x0800
_RUNTIME_PACKAGES = ("java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "scala.")


def normalize_jfr(name: str) -> str:
    """JFR's `/` package separators as `.`: `java/util/HashMap.get` -> `java.util.HashMap.get`.

    Hidden-class suffixes (`Foo$$Lambda$1/0x0800`) and native paths (`./tmp/x.so`) are kept.
    """
    if name.startswith(("/", ".")):  # a native library path or a stub, not a class
        return name
    return _JFR_SEPARATOR.sub(".", name)


def _is_runtime(name: str) -> bool:
    """The JDK and the JVM: java., javax., jdk. (incl. jdk.internal.), sun., com.sun.,
    kotlin., scala.; frames without a package (AGCT, JVM, C functions), C++ (`::`), native."""
    if is_native(name):
        return True
    java = normalize_jfr(name)
    return java.startswith(_RUNTIME_PACKAGES) or "." not in java or "::" in java


PRESET = Preset(
    name="jvm",
    queries=MappingProxyType(
        {
            "cpu": CPU_QUERY,
            "heap_ratio": 'sum by (instance) (jvm_memory_used_bytes{area="heap",{selector}})'
            ' / sum by (instance) (jvm_memory_max_bytes{area="heap",{selector}})',
            "gc": rate_by_instance("jvm_gc_collection_seconds_sum"),
            "threads": "jvm_threads_current{{selector}}",
            **requests(
                "vertx_http_server_requests_total", "vertx_http_server_response_time_seconds"
            ),
        }
    ),
    profile_types=MappingProxyType(
        {
            "cpu": (ids.PROCESS_CPU,),
            "alloc": (ids.JAVA_ALLOC_BYTES, ids.JAVA_ALLOC_OBJECTS),
            "mutex": (ids.JAVA_MUTEX_CONTENTIONS, ids.JAVA_MUTEX_DELAY),
            "wall": (ids.JAVA_WALL,),
        }
    ),
    actions=MappingProxyType(
        {
            **COMMON_ACTIONS,
            "CPU-BOUND": "optimise {hotspot} (algorithm, caching, async offload)",
            "GC-BOUND": "reduce allocations in {hotspot}, pre-size collections, use pooling",
            "MEMORY-PRESSURE": (
                "find the leak in {hotspot} if the heap keeps rising, else raise the heap (-Xmx)"
            ),
            "LOCK-BOUND": "narrow the lock in {hotspot}, use concurrent structures",
        }
    ),
    frames=FrameRules(normalize=normalize_jfr, is_runtime=_is_runtime),
    spies=("javaspy", "grafana-agent.java"),
    marks=ids.agent_ids("JAVA"),
    metric_prefixes=("jvm_",),
)
