"""Which preset a service gets: pinned in config, else told by what the service exposes. Pure.

In order, the first that tells wins:

1. `enrichment.service_presets` names the service (its Prometheus host or Pyroscope
   `service_name`), then a global `enrichment.preset` other than `auto`;
2. Pyroscope: the `pyroscope_spy` label its agent wrote (`javaspy`, `gospy`, `pyspy`, ...),
   then a profile type ID only one runtime's agents write (`memory:alloc_in_new_tlab_bytes`
   is Java's, `goroutines:...` Go's, `wall:wall:microseconds:...` Node's);
3. Prometheus: the metric names it has for the service's selector, by the prefixes only one
   runtime's client exports (`jvm_`, `go_`, `python_`, `nodejs_`, `dotnet_`, `ruby_`). Go's
   count only when nothing else does: exporters and sidecars on the same host are often
   written in Go;
4. nothing told (or several runtimes did): `ebpf`, process metrics and the CPU profile.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from enrichers.presets import AUTO, FALLBACK, Preset
from enrichers.settings import EnrichmentSettings

__all__ = [
    "Detected",
    "detect_from_metrics",
    "detect_from_profiles",
    "fallback",
    "pinned",
    "preset_from_profiles",
]


@dataclass(frozen=True)
class Detected:
    """A preset and what named it (`pyroscope_spy=gospy`, `enrichment.preset`, ...)."""

    preset: str
    reason: str


def pinned(settings: EnrichmentSettings, service: str, pyroscope_service: str) -> Detected | None:
    """The preset the config names for this service, if any."""
    for name in (service, pyroscope_service):
        chosen = settings.service_presets.get(name)
        if chosen is not None and chosen != AUTO:
            return Detected(chosen, f"enrichment.service_presets.{name}")
    if settings.preset != AUTO:
        return Detected(settings.preset, "enrichment.preset")
    return None


def _only(found: list[tuple[str, str]]) -> Detected | None:
    names = {preset for preset, _ in found}
    return Detected(*found[0]) if len(names) == 1 else None


def detect_from_profiles(
    presets: Mapping[str, Preset], spies: Collection[str], profile_types: Collection[str]
) -> Detected | None:
    """From Pyroscope: the agent's `pyroscope_spy`, else profile types only one runtime writes."""
    by_spy = [
        (preset.name, f"pyroscope_spy={spy}")
        for preset in presets.values()
        for spy in sorted(spies)
        if spy in preset.spies
    ]
    if by_spy:
        return _only(by_spy)
    by_type = [
        (preset.name, f"profile type {ptype}")
        for preset in presets.values()
        for ptype in sorted(profile_types)
        if ptype in preset.marks
    ]
    return _only(by_type)


def detect_from_metrics(presets: Mapping[str, Preset], names: Collection[str]) -> Detected | None:
    """From Prometheus: metric names only one runtime's client exports (Go's last)."""
    found = [
        (preset, f"metric {name}")
        for preset in presets.values()
        for name in sorted(names)
        if name.startswith(preset.metric_prefixes)
    ]
    if len({preset.name for preset, _ in found}) > 1:
        found = [(preset, why) for preset, why in found if not preset.sidecar_metrics]
    return _only([(preset.name, why) for preset, why in found])


def fallback() -> Detected:
    return Detected(FALLBACK, "nothing told the runtime")


def preset_from_profiles(
    presets: Mapping[str, Preset],
    settings: EnrichmentSettings,
    service: str,
    pyroscope_service: str,
    spies: Collection[str],
    profile_types: Collection[str],
) -> Preset:
    """The preset of a service as the config and Pyroscope tell it, for the commands that
    read only profiles (`top`, `flamegraph`, `compare`, the gate's measurements)."""
    told = pinned(settings, service, pyroscope_service)
    told = told or detect_from_profiles(presets, spies, profile_types)
    return presets[(told or fallback()).preset]
