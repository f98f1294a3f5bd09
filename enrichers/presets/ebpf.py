"""The eBPF preset: native code profiled by Alloy's `pyroscope.ebpf` (also Rust's
pyroscope-rs), process and request metrics only.

| metric | query over | unit |
|---|---|---|
| cpu | `process_cpu_seconds_total` | cores |
| requests | `http_requests_total{code}`, `http_request_duration_seconds` | req/s, ms |

eBPF profiles CPU only. Frames are symbols as the binary names them; shared objects, the
kernel and `[unknown]` are runtime code. It is also the preset of a service whose runtime
nothing tells.
"""

from __future__ import annotations

from types import MappingProxyType

from enrichers import profile_types as ids
from enrichers.frames import FrameRules, is_native
from enrichers.presets.base import COMMON_ACTIONS, CPU_QUERY, HTTP_REQUESTS, Preset

__all__ = ["PRESET"]

PRESET = Preset(
    name="ebpf",
    queries=MappingProxyType({"cpu": CPU_QUERY, **HTTP_REQUESTS}),
    profile_types=MappingProxyType({"cpu": (ids.PROCESS_CPU,)}),
    actions=MappingProxyType(
        {
            **COMMON_ACTIONS,
            "CPU-BOUND": "optimise {hotspot} (algorithm, caching, fewer system calls)",
            "GC-BOUND": "reduce allocations in {hotspot} (arenas, reused buffers)",
            "MEMORY-PRESSURE": (
                "find the leak in {hotspot} if memory keeps rising, else raise the memory limit"
            ),
            "LOCK-BOUND": "narrow the lock in {hotspot}, or shard what it protects",
        }
    ),
    frames=FrameRules(is_runtime=is_native),
    spies=("ebpfspy", "ebpf", "pyroscope-rs"),
)
