"""Which preset a service gets: pinned in config, else what its agents and metrics tell."""

from __future__ import annotations

import pytest

from enrichers import profile_types as ids
from enrichers.detection import (
    Detected,
    detect_from_metrics,
    detect_from_profiles,
    fallback,
    pinned,
)
from enrichers.presets import PRESETS
from enrichers.settings import EnrichmentSettings


@pytest.mark.parametrize(
    ("spy", "preset"),
    [
        ("javaspy", "jvm"),
        ("grafana-agent.java", "jvm"),
        ("gospy", "go"),
        ("pyspy", "python"),
        ("rbspy", "ruby"),
        ("dotnetspy", "dotnet"),
        ("nodespy", "nodejs"),
        ("ebpfspy", "ebpf"),
        ("pyroscope-rs", "ebpf"),
    ],
)
def test_the_agents_pyroscope_spy_names_the_runtime(spy: str, preset: str) -> None:
    """Every spy name Pyroscope's ingestion knows maps to its runtime's preset."""
    found = detect_from_profiles(PRESETS, {spy}, {ids.PROCESS_CPU})
    assert found == Detected(preset, f"pyroscope_spy={spy}")


@pytest.mark.parametrize(
    ("profile_type", "preset"),
    [
        (ids.JAVA_ALLOC_BYTES, "jvm"),
        (ids.JAVA_MUTEX_DELAY, "jvm"),
        (ids.JAVA_WALL, "jvm"),
        (ids.GO_GOROUTINES, "go"),
        (ids.GO_MUTEX_DELAY, "go"),
        (ids.GO_ALLOC_SPACE, "go"),
        (ids.DOTNET_CPU, "dotnet"),
        (ids.DOTNET_ALLOC_SIZE, "dotnet"),
        (ids.NODE_WALL, "nodejs"),
        (ids.NODE_INUSE_SPACE, "nodejs"),
    ],
)
def test_a_profile_type_only_one_agent_writes_names_the_runtime(
    profile_type: str, preset: str
) -> None:
    """Without a spy label (older agents, Alloy), the agent's own profile type IDs tell."""
    found = detect_from_profiles(PRESETS, set(), {ids.PROCESS_CPU, profile_type})
    assert found == Detected(preset, f"profile type {profile_type}")


def test_shared_profile_types_tell_nothing() -> None:
    """Types every runtime (or two at once) writes name no runtime."""
    assert detect_from_profiles(PRESETS, set(), {ids.PROCESS_CPU}) is None
    assert detect_from_profiles(PRESETS, set(), {ids.PYSPY_CPU}) is None
    assert detect_from_profiles(PRESETS, set(), {ids.JAVA_WALL, ids.GO_ALLOC_SPACE}) is None
    assert detect_from_profiles(PRESETS, {"javaspy", "gospy"}, set()) is None


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ({"process_cpu_seconds_total", "jvm_threads_current"}, ("jvm", "jvm_threads_current")),
        ({"go_goroutines", "go_memstats_heap_alloc_bytes"}, ("go", "go_goroutines")),
        (
            {"python_gc_collections_total", "process_cpu_seconds_total"},
            ("python", "python_gc_collections_total"),
        ),
        ({"nodejs_eventloop_lag_seconds"}, ("nodejs", "nodejs_eventloop_lag_seconds")),
        ({"dotnet_collection_count_total"}, ("dotnet", "dotnet_collection_count_total")),
        ({"ruby_heap_live_slots"}, ("ruby", "ruby_heap_live_slots")),
        # A Go exporter on the same host (node_exporter, a sidecar) does not make it Go.
        ({"jvm_threads_current", "go_goroutines"}, ("jvm", "jvm_threads_current")),
    ],
)
def test_metric_names_of_the_selector_name_the_runtime(
    names: set[str], expected: tuple[str, str]
) -> None:
    """Prometheus' metric names for the service: the client library's prefix tells."""
    preset, metric = expected
    assert detect_from_metrics(PRESETS, names) == Detected(preset, f"metric {metric}")


def test_metrics_of_two_runtimes_or_none_tell_nothing() -> None:
    """A JVM and a Python client on one host, or only process metrics: no runtime."""
    assert detect_from_metrics(PRESETS, {"jvm_threads_current", "python_info"}) is None
    assert detect_from_metrics(PRESETS, {"process_cpu_seconds_total", "up"}) is None
    assert detect_from_metrics(PRESETS, set()) is None
    assert fallback() == Detected("ebpf", "nothing told the runtime")


def test_config_pins_a_preset_per_service_or_for_all() -> None:
    """service_presets by Prometheus host or Pyroscope name, then a global preset; auto is none."""
    settings = EnrichmentSettings.model_validate(
        {"service_presets": {"checkout": "go", "bank-cart": "python", "ledger": "auto"}}
    )
    assert pinned(settings, "checkout", "bank-checkout") == Detected(
        "go", "enrichment.service_presets.checkout"
    )
    assert pinned(settings, "cart", "bank-cart") == Detected(
        "python", "enrichment.service_presets.bank-cart"
    )
    assert pinned(settings, "ledger", "ledger") is None
    everyone = EnrichmentSettings.model_validate({"preset": "dotnet"})
    assert pinned(everyone, "ledger", "ledger") == Detected("dotnet", "enrichment.preset")
