"""The fix check's measurements: the hotspot's profile in both windows, from Pyroscope.

For each service of the resolved notification's analysis that has a hotspot: its profile
type (the one the analysis read), one query over the analysis' incident window and one over
[resolved, resolved + verify_after], compared by `enrichers.compare` with the runtime's
frame rules, judged by `enrichers.fixcheck`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from enrichers.compare import compare_graphs
from enrichers.fixcheck import FixCheck, fix_check
from enrichers.flamegraph import FlameGraph
from enrichers.frames import PLAIN
from enrichers.presets import Preset
from enrichers.promql import label_selector
from enrichers.result import EnrichmentResult, ServiceAnalysis
from enrichers.times import epoch_ms

__all__ = ["FixCheckSource", "ProfileSource", "measure_fix"]


class ProfileSource(Protocol):
    """What the fix check asks of Pyroscope (`enrichers.clients.pyroscope.PyroscopeClient`)."""

    async def flamegraph(
        self, profile_type: str, label_selector: str, start_ms: int, end_ms: int
    ) -> FlameGraph: ...


class FixCheckSource(Protocol):
    """Pyroscope and the runtimes' frame rules (`enrichers.analysis.GroupEnricher`)."""

    @property
    def pyroscope(self) -> ProfileSource: ...

    @property
    def presets(self) -> Mapping[str, Preset]: ...


async def _one(
    source: FixCheckSource, analysis: ServiceAnalysis, resolved: datetime, after: timedelta
) -> FixCheck | None:
    spot = analysis.hotspot
    ptype = analysis.profile_types.get(spot.profile) if spot is not None else None
    if spot is None or ptype is None:
        return None
    selector = label_selector(analysis.pyroscope_service)
    incident = analysis.window
    during, later = await asyncio.gather(
        source.pyroscope.flamegraph(
            ptype, selector, epoch_ms(incident.start), epoch_ms(incident.end)
        ),
        source.pyroscope.flamegraph(
            ptype, selector, epoch_ms(resolved), epoch_ms(resolved + after)
        ),
    )
    preset = source.presets.get(analysis.runtime)
    comparison = compare_graphs(during, later, frames=preset.frames if preset else PLAIN)
    return fix_check(analysis.service, spot.function, spot.profile, ptype, comparison, after=after)


async def measure_fix(
    source: FixCheckSource, enrichment: EnrichmentResult, resolved_at: float, after: timedelta
) -> list[FixCheck]:
    """The fix check of every analysed service with a hotspot (BackendError propagates)."""
    resolved = datetime.fromtimestamp(resolved_at, UTC)
    found = await asyncio.gather(*(_one(source, a, resolved, after) for a in enrichment.services))
    return [check for check in found if check is not None]
