"""The demo's Pyroscope: the strict fake (`receiver.demo.pyroscope_fake`) serving a Scenario.

Every service is profiled by the Pyroscope Java agent (its profile type IDs and
`pyroscope_spy="javaspy"`). Flame graphs come from the scenario's folded stacks: a window
that ends more than `BASELINE_BEFORE` before the simulation's clock gets the baseline
stacks, any later window the incident stacks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from receiver.demo.pyroscope_data import AGENTS, Source
from receiver.demo.pyroscope_fake import QUERIER, FakePyroscope
from receiver.demo.scenario import Profile, Scenario

__all__ = ["BASELINE_BEFORE", "QUERIER", "SimulatedPyroscope"]

BASELINE_BEFORE = timedelta(minutes=30)
AGENT = AGENTS["jvm"]


class SimulatedPyroscope(FakePyroscope):
    def __init__(self, scenario: Scenario, clock: Callable[[], float] = time.time) -> None:
        services: dict[str, dict[str, Source]] = {}
        for service in scenario.services.values():
            services[service.pyroscope_service] = {
                AGENT.profile_types[kind]: self._windows(profile)
                for kind, profile in service.profiles.items()
                if profile.stacks(incident=True) or profile.stacks(incident=False)
            }
        labels = {name: {"pyroscope_spy": AGENT.spy} for name in services}
        super().__init__(services, labels=labels)
        self.scenario = scenario
        self._clock = clock

    def _windows(self, profile: Profile) -> Source:
        def stacks(service: str, ptype: str, start_ms: int, end_ms: int) -> Mapping[Any, Any]:
            incident = end_ms > (self._clock() - BASELINE_BEFORE.total_seconds()) * 1000
            return profile.stacks(incident)

        return stacks
