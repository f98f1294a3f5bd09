"""The Go preset: client_golang's default metrics, pyroscope-go's profile types, Go frames.

| metric | query over | unit |
|---|---|---|
| cpu | `process_cpu_seconds_total` | cores |
| heap_ratio | `go_memstats_heap_alloc_bytes / go_gc_gomemlimit_bytes` (or heap_sys) | ratio |
| gc | `go_gc_duration_seconds_sum` (stop-the-world pauses) | s/s |
| threads | `go_goroutines` | goroutines (threshold 1000) |
| requests | `http_requests_total{code}`, `http_request_duration_seconds` | req/s, ms |

Go has no wall-clock profile: `wall` is the block profile (time goroutines spent waiting on
channels, selects and locks), the closest off-CPU view. Frames: type arguments of generics
are stripped as Pyroscope shows them; a standard-library package is runtime code; the main
module is application code even when its path has no dot (`rideshare/utility.mutexLock`).
"""

from __future__ import annotations

from types import MappingProxyType

from enrichers import profile_types as ids
from enrichers.frames import FrameRules, is_native
from enrichers.presets.base import COMMON_ACTIONS, CPU_QUERY, HTTP_REQUESTS, Preset
from enrichers.presets.base import rate_by_instance as rate

__all__ = ["PRESET", "strip_go_type_parameters"]

# The first path element of every standard-library package (Go 1.23), and `type:` helpers.
_STDLIB = frozenset(
    [
        "archive",
        "bufio",
        "builtin",
        "bytes",
        "cmp",
        "compress",
        "container",
        "context",
        "crypto",
        "database",
        "debug",
        "embed",
        "encoding",
        "errors",
        "expvar",
        "flag",
        "fmt",
        "go",
        "hash",
        "html",
        "image",
        "index",
        "internal",
        "io",
        "iter",
        "log",
        "maps",
        "math",
        "mime",
        "net",
        "os",
        "path",
        "plugin",
        "reflect",
        "regexp",
        "runtime",
        "slices",
        "sort",
        "strconv",
        "strings",
        "structs",
        "sync",
        "syscall",
        "testing",
        "text",
        "time",
        "type",
        "unicode",
        "unique",
        "unsafe",
        "vendor",
        "weak",
    ]
)

# GOMEMLIMIT defaults to math.MaxInt64 (~9.2e18): "no limit", so the heap is compared with
# what the runtime obtained from the OS instead.
_HEAP_LIMIT = (
    "(go_gc_gomemlimit_bytes{{selector}} < 1e18)"
    " or on (instance) go_memstats_heap_sys_bytes{{selector}}"
)


def strip_go_type_parameters(name: str) -> str:
    """A Go generic name as Pyroscope shows it, without its type arguments:
    `pkg.(*Client[go.shape.struct { ... }]).CallUnary` -> `pkg.(*Client).CallUnary`.

    Every bracketed group after the first character is dropped, nested brackets included
    (`[]uint8` inside a shape); a name that starts with `[` is a pseudo frame (`[unknown]`).
    """
    if "[" not in name[1:]:
        return name
    kept: list[str] = []
    depth = 0
    for index, char in enumerate(name):
        if char == "[" and (depth or index):
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif not depth:
            kept.append(char)
    return "".join(kept)


def _first_element(name: str) -> str | None:
    """The first element of a frame's package path, or None for a name without a package."""
    head, slash, _ = name.partition("/")
    if slash:
        return head
    return head.split(".", 1)[0] if "." in head else None


def _is_runtime(name: str) -> bool:
    """The standard library (a first path element without a dot that Go ships), cgo and C."""
    first = _first_element(name)
    return is_native(name) or first is None or first in _STDLIB


def _is_main(name: str) -> bool:
    """Package main, or any package of a module whose path has no dot (the main module)."""
    first = _first_element(name)
    return first is not None and "." not in first and first not in _STDLIB


PRESET = Preset(
    name="go",
    queries=MappingProxyType(
        {
            "cpu": CPU_QUERY,
            "heap_ratio": "max by (instance) (go_memstats_heap_alloc_bytes{{selector}})"
            f" / on (instance) max by (instance) ({_HEAP_LIMIT})",
            "gc": rate("go_gc_duration_seconds_sum"),
            "threads": "go_goroutines{{selector}}",
            **HTTP_REQUESTS,
        }
    ),
    profile_types=MappingProxyType(
        {
            "cpu": (ids.PROCESS_CPU,),
            "alloc": (ids.GO_ALLOC_SPACE,),
            "mutex": (ids.GO_MUTEX_DELAY,),
            "wall": (ids.GO_BLOCK_DELAY,),
        }
    ),
    actions=MappingProxyType(
        {
            **COMMON_ACTIONS,
            "CPU-BOUND": "optimise {hotspot} (algorithm, caching, fewer goroutine hand-offs)",
            "GC-BOUND": (
                "reduce allocations in {hotspot}, pre-size slices and maps, use sync.Pool;"
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
    frames=FrameRules(normalize=strip_go_type_parameters, is_runtime=_is_runtime, is_main=_is_main),
    units=MappingProxyType({"threads": "goroutines"}),
    thresholds=MappingProxyType({"threads": 1000.0}),
    spies=("gospy",),
    marks=ids.agent_ids("GO"),
    metric_prefixes=("go_",),
    sidecar_metrics=True,
)
