"""Pyroscope profile type IDs, per agent, in one place (reference/pyroscope-api.md §2).

An ID is `<name>:<sample_type>:<sample_unit>:<period_type>:<period_unit>`; the `__profile_type__`
label of a series holds it. Java and Go use different IDs for the same kind of profile
(mutex, block), and .NET and py-spy leave the period type empty, so presets keep preference
lists of these constants and which ones a service has is discovered at run time.

Sources per group: Pyroscope's ingestion integration tests (`ingest_pprof_test.go`,
`ingest_jfr_test.go`), `grafana/jfr-parser` for Java, the server fixture
`connect_series_service_profile_types.json` for Go push, Grafana's profile catalogue for .NET.
"""

from __future__ import annotations

__all__ = [
    "DOTNET_ALLOC_SAMPLES",
    "DOTNET_ALLOC_SIZE",
    "DOTNET_CPU",
    "DOTNET_EXCEPTIONS",
    "DOTNET_LOCK_COUNT",
    "DOTNET_LOCK_TIME",
    "DOTNET_LOCK_TIME_CPU_PERIOD",
    "GO_ALLOC_OBJECTS",
    "GO_ALLOC_SPACE",
    "GO_BLOCK_CONTENTIONS",
    "GO_BLOCK_DELAY",
    "GO_CPU_SAMPLES",
    "GO_GOROUTINES",
    "GO_GOROUTINES_PULL",
    "GO_INUSE_OBJECTS",
    "GO_INUSE_SPACE",
    "GO_MUTEX_CONTENTIONS",
    "GO_MUTEX_DELAY",
    "JAVA_ALLOC_BYTES",
    "JAVA_ALLOC_OBJECTS",
    "JAVA_ALLOC_OUTSIDE_TLAB_BYTES",
    "JAVA_ALLOC_OUTSIDE_TLAB_OBJECTS",
    "JAVA_BLOCK_CONTENTIONS",
    "JAVA_BLOCK_DELAY",
    "JAVA_MUTEX_CONTENTIONS",
    "JAVA_MUTEX_DELAY",
    "JAVA_WALL",
    "LEGACY_CPU_SAMPLES",
    "LEGACY_WALL",
    "NODE_HEAP_OBJECTS",
    "NODE_HEAP_SPACE",
    "NODE_INUSE_OBJECTS",
    "NODE_INUSE_SPACE",
    "NODE_WALL",
    "NODE_WALL_SAMPLES",
    "PROCESS_CPU",
    "PYSPY_CPU",
    "agent_ids",
]

# CPU time in nanoseconds: Java (itimer/cpu event), Go push and pull, eBPF, and the legacy
# `/ingest?name=app.cpu&sampleRate=100` path (Python, Ruby, .NET spies of the v0 agents).
PROCESS_CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"

# Java: pyroscope-java / async-profiler JFR, as converted by grafana/jfr-parser.
JAVA_WALL = "wall:wall:nanoseconds:wall:nanoseconds"
JAVA_ALLOC_BYTES = "memory:alloc_in_new_tlab_bytes:bytes:space:bytes"
JAVA_ALLOC_OBJECTS = "memory:alloc_in_new_tlab_objects:count:space:bytes"
JAVA_ALLOC_OUTSIDE_TLAB_BYTES = "memory:alloc_outside_tlab_bytes:bytes:space:bytes"
JAVA_ALLOC_OUTSIDE_TLAB_OBJECTS = "memory:alloc_outside_tlab_objects:count:space:bytes"
JAVA_MUTEX_CONTENTIONS = "mutex:contentions:count:mutex:count"
JAVA_MUTEX_DELAY = "mutex:delay:nanoseconds:mutex:count"
JAVA_BLOCK_CONTENTIONS = "block:contentions:count:block:count"
JAVA_BLOCK_DELAY = "block:delay:nanoseconds:block:count"

# Go: grafana/pyroscope-go (push; godeltaprof is renamed to the same IDs server-side).
GO_CPU_SAMPLES = "process_cpu:samples:count:cpu:nanoseconds"
GO_ALLOC_SPACE = "memory:alloc_space:bytes:space:bytes"
GO_ALLOC_OBJECTS = "memory:alloc_objects:count:space:bytes"
GO_INUSE_SPACE = "memory:inuse_space:bytes:space:bytes"
GO_INUSE_OBJECTS = "memory:inuse_objects:count:space:bytes"
GO_MUTEX_CONTENTIONS = "mutex:contentions:count:contentions:count"
GO_MUTEX_DELAY = "mutex:delay:nanoseconds:contentions:count"
GO_BLOCK_CONTENTIONS = "block:contentions:count:contentions:count"
GO_BLOCK_DELAY = "block:delay:nanoseconds:contentions:count"
GO_GOROUTINES = "goroutines:goroutine:count:goroutine:count"  # push: plural
GO_GOROUTINES_PULL = "goroutine:goroutine:count:goroutine:count"  # Alloy pyroscope.scrape

# Python and Ruby through pyroscope-rs (py-spy, rbspy): CPU only, sample counts.
PYSPY_CPU = "process_cpu:samples:count::milliseconds"
# The legacy ingest path without `sampleRate`, and its wall-clock variant.
LEGACY_CPU_SAMPLES = "process_cpu:samples:count::"
LEGACY_WALL = "wall:wall:nanoseconds:cpu:nanoseconds"

# .NET: pyroscope-dotnet (Datadog-derived); the lock IDs appear in both period forms.
DOTNET_CPU = "process_cpu:cpu:nanoseconds::nanoseconds"
DOTNET_ALLOC_SAMPLES = "process_cpu:alloc_samples:count::nanoseconds"
DOTNET_ALLOC_SIZE = "process_cpu:alloc_size:bytes::nanoseconds"
DOTNET_LOCK_TIME = "process_cpu:lock_time:nanoseconds::nanoseconds"
DOTNET_LOCK_TIME_CPU_PERIOD = "process_cpu:lock_time:nanoseconds:cpu:nanoseconds"
DOTNET_LOCK_COUNT = "process_cpu:lock_count:count:cpu:nanoseconds"
DOTNET_EXCEPTIONS = "process_cpu:exception:count:cpu:nanoseconds"

# Node.js: @pyroscope/nodejs. Its CPU profile is a wall-clock profile (V8's sampler).
NODE_WALL = "wall:wall:microseconds:wall:microseconds"
NODE_WALL_SAMPLES = "wall:samples:count:wall:microseconds"
NODE_INUSE_SPACE = "memory:inuse_space:bytes:inuse_space:bytes"
NODE_INUSE_OBJECTS = "memory:inuse_objects:count:inuse_space:bytes"
NODE_HEAP_SPACE = "memory:space:bytes:space:bytes"  # older heap format
NODE_HEAP_OBJECTS = "memory:objects:count:space:bytes"


def agent_ids(agent: str) -> frozenset[str]:
    """Every ID of one agent's group above (`JAVA`, `GO`, `DOTNET`, `NODE`: the constants
    named `<agent>_...`), which only that agent writes (a preset's `marks`)."""
    prefix = f"{agent}_"
    return frozenset(
        value
        for name, value in globals().items()
        if name.startswith(prefix) and name.isupper() and isinstance(value, str)
    )
