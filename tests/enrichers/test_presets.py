"""The runtime presets, their registry, config overrides laid over them, action templates."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from enrichers.presets import (
    AUTO,
    FALLBACK,
    GO,
    JVM,
    PRESET_NAMES,
    PRESETS,
    UNKNOWN_HOTSPOT,
    Preset,
    build_preset,
    render_action,
)
from enrichers.promql import render_query
from enrichers.result import VERDICTS
from enrichers.settings import EnrichmentSettings, MetricName

SELECTOR = 'instance=~"payment-service(:[0-9]+)?"'
S = "{" + SELECTOR + "}"
AREA = '{area="heap",' + SELECTOR + "}"
FIVE_XX = '{code=~"5..",' + SELECTOR + "}"


def rendered(queries: Mapping[MetricName, str]) -> dict[str, str]:
    return {name: render_query(template, SELECTOR) for name, template in queries.items()}


def test_jvm_queries_are_the_reference_promql() -> None:
    """The jvm preset asks the JMX exporter and Vert.x metrics of the reference fleet."""
    req = f"sum by (instance) (rate(vertx_http_server_requests_total{S}[2m]))"
    latency = "vertx_http_server_response_time_seconds"
    assert rendered(JVM.queries) == {
        "cpu": f"rate(process_cpu_seconds_total{S}[2m])",
        "heap_ratio": f"sum by (instance) (jvm_memory_used_bytes{AREA})"
        f" / sum by (instance) (jvm_memory_max_bytes{AREA})",
        "gc": f"sum by (instance) (rate(jvm_gc_collection_seconds_sum{S}[2m]))",
        "threads": f"jvm_threads_current{S}",
        "req_per_sec": req,
        "error_ratio": "(sum by (instance) (rate(vertx_http_server_requests_total"
        f"{FIVE_XX}[2m])) or 0 * {req}) / {req}",
        "latency_ms": f"1000 * sum by (instance) (rate({latency}_sum{S}[2m]))"
        f" / sum by (instance) (rate({latency}_count{S}[2m]))",
    }


def test_go_queries_use_the_go_runtime_metrics() -> None:
    """The go preset compares the heap with GOMEMLIMIT when set, else with the heap from the OS."""
    req = f"sum by (instance) (rate(http_requests_total{S}[2m]))"
    assert rendered(GO.queries) == {
        "cpu": f"rate(process_cpu_seconds_total{S}[2m])",
        "heap_ratio": f"max by (instance) (go_memstats_heap_alloc_bytes{S}) / on (instance)"
        f" max by (instance) ((go_gc_gomemlimit_bytes{S} < 1e18)"
        f" or on (instance) go_memstats_heap_sys_bytes{S})",
        "gc": f"sum by (instance) (rate(go_gc_duration_seconds_sum{S}[2m]))",
        "threads": f"go_goroutines{S}",
        "req_per_sec": req,
        "error_ratio": f"(sum by (instance) (rate(http_requests_total{FIVE_XX}[2m]))"
        f" or 0 * {req}) / {req}",
        "latency_ms": f"1000 * sum by (instance) (rate(http_request_duration_seconds_sum{S}[2m]))"
        f" / sum by (instance) (rate(http_request_duration_seconds_count{S}[2m]))",
    }


def test_profile_types_are_preference_lists_per_runtime() -> None:
    """Each runtime lists its Pyroscope profile type IDs per kind, most preferred first."""
    assert {name: dict(preset.profile_types) for name, preset in PRESETS.items()} == {
        "jvm": {
            "cpu": ("process_cpu:cpu:nanoseconds:cpu:nanoseconds",),
            "alloc": (
                "memory:alloc_in_new_tlab_bytes:bytes:space:bytes",
                "memory:alloc_in_new_tlab_objects:count:space:bytes",
            ),
            "mutex": ("mutex:contentions:count:mutex:count", "mutex:delay:nanoseconds:mutex:count"),
            "wall": ("wall:wall:nanoseconds:wall:nanoseconds",),
        },
        "go": {
            "cpu": ("process_cpu:cpu:nanoseconds:cpu:nanoseconds",),
            "alloc": ("memory:alloc_space:bytes:space:bytes",),
            "mutex": ("mutex:delay:nanoseconds:contentions:count",),
            "wall": ("block:delay:nanoseconds:contentions:count",),
        },
        "python": {
            "cpu": (
                "process_cpu:samples:count::milliseconds",
                "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
                "process_cpu:samples:count::",
            ),
            "wall": ("wall:wall:nanoseconds:cpu:nanoseconds",),
        },
        "dotnet": {
            "cpu": (
                "process_cpu:cpu:nanoseconds::nanoseconds",
                "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
            ),
            "alloc": (
                "process_cpu:alloc_size:bytes::nanoseconds",
                "process_cpu:alloc_samples:count::nanoseconds",
            ),
            "mutex": (
                "process_cpu:lock_time:nanoseconds::nanoseconds",
                "process_cpu:lock_time:nanoseconds:cpu:nanoseconds",
                "process_cpu:lock_count:count:cpu:nanoseconds",
            ),
        },
        "nodejs": {
            "cpu": ("wall:wall:microseconds:wall:microseconds",),
            "alloc": (
                "memory:inuse_space:bytes:inuse_space:bytes",
                "memory:space:bytes:space:bytes",
            ),
        },
        "ruby": {
            "cpu": (
                "process_cpu:samples:count::milliseconds",
                "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
                "process_cpu:samples:count::",
            ),
            "wall": ("wall:wall:nanoseconds:cpu:nanoseconds",),
        },
        "ebpf": {"cpu": ("process_cpu:cpu:nanoseconds:cpu:nanoseconds",)},
    }


def test_every_preset_is_in_the_registry_under_its_own_name() -> None:
    """One registry: each runtime module's PRESET, keyed by its name, auto and the fallback."""
    assert PRESET_NAMES == ("jvm", "go", "python", "dotnet", "nodejs", "ruby", "ebpf")
    assert all(preset.name == name for name, preset in PRESETS.items())
    assert (AUTO, FALLBACK) == ("auto", "ebpf")


def test_thresholds_and_units_are_each_runtimes_own() -> None:
    """Defaults move where a runtime measures in other units; config values still win."""
    assert {name: dict(p.thresholds) for name, p in PRESETS.items() if p.thresholds} == {
        "go": {"threads": 1000.0},
        "python": {"gc": 1.0, "critical_gc": 5.0},
        "dotnet": {"gc": 1.0, "critical_gc": 5.0, "threads": 200.0},
        "nodejs": {"heap_ratio": 0.9, "critical_heap_ratio": 0.97, "threads": 1000.0},
    }
    assert {name: dict(p.units) for name, p in PRESETS.items() if p.units} == {
        "go": {"threads": "goroutines"},
        "python": {"gc": "collections/s"},
        "dotnet": {"gc": "collections/s"},
        "nodejs": {"threads": "handles"},
    }
    configured = EnrichmentSettings.model_validate({"thresholds": {"gc": 2.5}}).thresholds
    python = configured.laid_over(PRESETS["python"].thresholds)
    assert (python.gc, python.critical_gc, python.cpu) == (2.5, 5.0, 0.3)
    assert EnrichmentSettings().thresholds.laid_over(PRESETS["jvm"].thresholds).gc == 0.03


def test_build_preset_without_overrides_is_the_builtin_preset() -> None:
    """With no overrides, build_preset() returns the built-in preset's contents."""
    for name, preset in PRESETS.items():
        assert build_preset(EnrichmentSettings(), name) == preset


def test_build_preset_lays_config_overrides_over_the_builtin_entries() -> None:
    """Config queries, profile types and actions replace only the entries they name."""
    settings = EnrichmentSettings.model_validate(
        {
            "queries": {"cpu": 'rate(process_cpu_seconds_total{job="api",{selector}}[5m])'},
            "profile_types": {"mutex": ["mutex:contentions:count:mutex:count"]},
            "actions": {"HEALTHY": "ask #netops about {service}"},
        }
    )
    built = build_preset(settings, "go")
    assert built.name == "go"
    assert dict(built.queries) == {
        **GO.queries,
        "cpu": 'rate(process_cpu_seconds_total{job="api",{selector}}[5m])',
    }
    assert dict(built.profile_types) == {
        **GO.profile_types,
        "mutex": ("mutex:contentions:count:mutex:count",),
    }
    assert dict(built.actions) == {**GO.actions, "HEALTHY": "ask #netops about {service}"}
    assert built.frames is GO.frames
    assert GO.queries["cpu"] == "rate(process_cpu_seconds_total{{selector}}[2m])"


def test_presets_cannot_be_changed_in_place() -> None:
    """A preset's tables are read-only, so one config cannot alter another's preset."""
    with pytest.raises(TypeError):
        JVM.queries["cpu"] = "vector(1)"  # type: ignore[index]


HOTSPOT = "com.example.PaymentVerticle.sha256"


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        (
            JVM,
            {
                "CPU-BOUND": f"optimise {HOTSPOT} (algorithm, caching, async offload)",
                "GC-BOUND": f"reduce allocations in {HOTSPOT}, pre-size collections, use pooling",
                "MEMORY-PRESSURE": f"find the leak in {HOTSPOT} if the heap keeps rising,"
                " else raise the heap (-Xmx)",
                "LOCK-BOUND": f"narrow the lock in {HOTSPOT}, use concurrent structures",
            },
        ),
        (
            GO,
            {
                "CPU-BOUND": f"optimise {HOTSPOT} (algorithm, caching, fewer goroutine hand-offs)",
                "GC-BOUND": f"reduce allocations in {HOTSPOT}, pre-size slices and maps,"
                " use sync.Pool; tune GOGC or set GOMEMLIMIT",
                "MEMORY-PRESSURE": f"find the leak in {HOTSPOT} if the heap keeps rising,"
                " else raise GOMEMLIMIT and the container limit",
                "LOCK-BOUND": f"narrow the critical section in {HOTSPOT},"
                " shard the mutex or use sync/atomic",
            },
        ),
    ],
)
def test_actions_follow_the_reference_decision_matrix(
    preset: Preset, expected: dict[str, str]
) -> None:
    """Every verdict has an action; the runtime-specific ones use the runtime's wording."""
    actions = {
        verdict: render_action(
            preset.actions[verdict],
            hotspot=HOTSPOT,
            service="payment-service",
            pyroscope_service="bank-payment-service",
        )
        for verdict in VERDICTS
    }
    assert actions == {
        "I/O-BOUND": f"add pools, timeouts and circuit breakers on the dependency behind {HOTSPOT}",
        "HEALTHY": "no code action; suspect infrastructure (network, DNS, load balancer)",
        "NO-PROFILE-DATA": "check the profiling agent and the service_name mapping"
        " (queried bank-payment-service)",
        "UNKNOWN": "no verdict without data: fix what could not be seen, then run"
        " flamebot triage --service payment-service",
        **expected,
    }


def test_render_action_leaves_unknown_placeholders_untouched() -> None:
    """Only {hotspot}, {service} and {pyroscope_service} are filled; other braces stay."""
    template = "{service}/{pyroscope_service}: {hotspot} {other} {0} {service!r} {{hotspot}} %s {}"
    assert render_action(template, hotspot="f", service="s", pyroscope_service="p") == (
        "s/p: f {other} {0} {service!r} {f} %s {}"
    )


def test_render_action_without_a_hotspot_says_it_is_unknown() -> None:
    """A missing hotspot reads as the hottest function, unknown for lack of profile data."""
    assert UNKNOWN_HOTSPOT == "the hottest function (unknown: no profile data)"
    assert render_action(
        JVM.actions["CPU-BOUND"], hotspot=None, service="s", pyroscope_service="p"
    ) == (
        "optimise the hottest function (unknown: no profile data)"
        " (algorithm, caching, async offload)"
    )


def test_render_action_does_not_expand_placeholders_inside_values() -> None:
    """A value that contains a placeholder is inserted as written, not expanded again."""
    result = render_action(
        "{hotspot} in {service}",
        hotspot="{service}",
        service="{pyroscope_service}",
        pyroscope_service="x",
    )
    assert result == "{service} in {pyroscope_service}"
