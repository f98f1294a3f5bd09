"""What arrived for one service, recorded as the answers come (`enrichers.collect` fills
it in; `enrichers.assessment` and `enrichers.visibility` read it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from enrichers.clients.pyroscope_answers import ServiceProfiles
from enrichers.detection import Detected
from enrichers.errors import BackendError, BackendTimeoutError
from enrichers.flamegraph import FlameGraph
from enrichers.presets import Preset
from enrichers.result import HealthMetrics, MetricName, ProfileKind

__all__ = ["Collection"]


@dataclass
class Collection:
    """What arrived for one service, filled in as answers come."""

    runtime: Detected | None = None
    preset: Preset | None = None
    metrics: dict[MetricName, float | None] = field(default_factory=dict)
    available: ServiceProfiles | None = None  # what Pyroscope has for the service
    profile_types: dict[ProfileKind, str] | None = None  # the ones chosen per kind
    incident: dict[ProfileKind, FlameGraph] = field(default_factory=dict)
    baseline: dict[ProfileKind, FlameGraph] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    asked_metrics: int = 0
    asked_profiles: int = 0
    in_flight: Counter[str] = field(default_factory=Counter)

    def fail(self, source: str, exc: BaseException) -> None:
        reason = exc.reason if isinstance(exc, BackendError) else f"{type(exc).__name__}"
        if isinstance(exc, BackendTimeoutError):
            reason = "timed out"
        self.errors.setdefault(source, []).append(reason)

    def health(self) -> HealthMetrics:
        return HealthMetrics(**self.metrics)

    @contextmanager
    def asking(self, source: str) -> Iterator[None]:
        """While a request to `source` is out (`unanswered()` names it)."""
        self.in_flight[source] += 1
        try:
            yield
        finally:
            self.in_flight[source] -= 1

    def unanswered(self) -> set[str]:
        return {source for source, count in self.in_flight.items() if count > 0}
