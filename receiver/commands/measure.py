"""What `snapshot` and `gate` measure of each service, the I/O around `enrichers.windowed`.

For each service: the profile types it has (`Series`), then for each profile kind of the
preset one `SelectMergeStacktraces` per sub-window (`--windows`, default 10), at most
`PARALLEL_QUERIES` at once over all services, and the analysis an alert would get for the
window (the verdict). `--label K=V` narrows the profile queries to one deployment; the
analysis reads the service as a whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from enrichers.analysis import GroupEnricher
from enrichers.detection import preset_from_profiles
from enrichers.errors import BackendError
from enrichers.flamegraph import FlameGraph
from enrichers.frames import FrameRules
from enrichers.promql import label_selector
from enrichers.result import ProfileKind, ServiceAnalysis, Window
from enrichers.targets import service_target
from enrichers.times import epoch_ms
from enrichers.windowed import WindowedProfile, split_window, windowed_profile

__all__ = ["PARALLEL_QUERIES", "Measured", "chosen_types", "measure_services", "parse_labels"]

# Sub-window queries in flight at once, all services together: enough to keep a round trip
# per batch, few enough that a gate over a large fleet does not flood Pyroscope.
PARALLEL_QUERIES = 32


@dataclass(frozen=True)
class Measured:
    """One service over one window: its windowed profiles and its analysis."""

    service: str
    pyroscope_service: str
    analysis: ServiceAnalysis | None
    profiles: dict[ProfileKind, WindowedProfile] = field(default_factory=dict)
    available: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def unknown(self) -> bool:
        """Pyroscope has no profiles for it and Prometheus no metric (nothing failed)."""
        metrics = self.analysis.metrics.model_dump().values() if self.analysis else []
        seen = any(value is not None for value in metrics)
        return not self.failures and not self.available and not seen


def chosen_types(
    preferences: Mapping[ProfileKind, Sequence[str]],
    available: Collection[str],
    kinds: Sequence[ProfileKind] | None = None,
) -> dict[ProfileKind, str]:
    """Per profile kind (all of the preset's, or `kinds`), its first preferred type the
    service has; kinds it has none of are left out."""
    chosen = {}
    for kind in preferences if kinds is None else kinds:
        found = next((p for p in preferences.get(kind, ()) if p in available), None)
        if found is not None:
            chosen[kind] = found
    return chosen


def parse_labels(pairs: Sequence[str]) -> dict[str, str]:
    """`K=V` pairs as labels; ValueError for a pair without `=` or a bad label name."""
    labels = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--label {pair!r}: expected NAME=VALUE, e.g. version=1.4.2")
        labels[name] = value
    label_selector("x", labels)  # raises for a name Pyroscope cannot take
    return labels


async def _graph(
    enricher: GroupEnricher, gate: asyncio.Semaphore, ptype: str, selector: str, part: Window
) -> FlameGraph:
    async with gate:
        return await enricher.pyroscope.flamegraph(
            ptype, selector, epoch_ms(part.start), epoch_ms(part.end)
        )


async def _profile(
    enricher: GroupEnricher,
    gate: asyncio.Semaphore,
    ptype: str,
    selector: str,
    parts: Sequence[Window],
    frames: FrameRules,
) -> WindowedProfile:
    graphs = await asyncio.gather(*(_graph(enricher, gate, ptype, selector, p) for p in parts))
    return windowed_profile(ptype, graphs, frames=frames)


async def _one(
    enricher: GroupEnricher,
    gate: asyncio.Semaphore,
    name: str,
    window: Window,
    versus: Window,
    windows: int,
    labels: Mapping[str, str],
) -> Measured:
    target = service_target(name, enricher.settings)
    service, pyro = target.service, target.pyroscope_service
    analysis = asyncio.create_task(enricher.analyze(target, window, versus))
    failures: dict[str, str] = {}
    profiles: dict[ProfileKind, WindowedProfile] = {}
    available: frozenset[str] = frozenset()
    try:
        start = epoch_ms(min(window.start, versus.start))
        listed = await enricher.pyroscope.profile_types(pyro, start, epoch_ms(window.end))
        available = listed.types
        preset = preset_from_profiles(
            enricher.presets, enricher.settings, service, pyro, listed.spies, available
        )
        chosen = chosen_types(preset.profile_types, available)
        parts = split_window(window, windows)
        selector = label_selector(pyro, labels)
        measured = await asyncio.gather(
            *(
                _profile(enricher, gate, ptype, selector, parts, preset.frames)
                for ptype in chosen.values()
            )
        )
        profiles = dict(zip(chosen, measured, strict=True))
    except BackendError as exc:
        failures["pyroscope"] = exc.reason
    done = await analysis
    for error in done.errors:
        failures.setdefault(error.source, error.reason)
    return Measured(service, pyro, done, profiles, sorted(available), failures)


async def measure_services(
    enricher: GroupEnricher,
    services: Sequence[str],
    window: Window,
    *,
    versus: Window | None = None,
    windows: int,
    labels: Mapping[str, str],
) -> list[Measured]:
    """Every service over `window` cut into `windows` sub-windows; the analysis compares
    the window with `versus` (the baseline's window; by default the window itself)."""
    gate = asyncio.Semaphore(PARALLEL_QUERIES)
    against = versus or window
    return list(
        await asyncio.gather(
            *(_one(enricher, gate, s, window, against, windows, labels) for s in services)
        )
    )
