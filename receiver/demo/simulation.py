"""The demo's simulated backends, started together on loopback: Prometheus and Pyroscope.

    async with Simulation(DEFAULT_SCENARIO) as sim:
        ... sim.prometheus_url, sim.pyroscope_url ...
        print(sim.report())   # simulation served 14 Prometheus and 22 Pyroscope requests

Both are in-process aiohttp apps on 127.0.0.1, each on a free port, and both record every
request they answer (`served()`, for tests and the demo's summary).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from receiver.demo.prometheus_sim import SimulatedPrometheus
from receiver.demo.pyroscope_sim import SimulatedPyroscope
from receiver.demo.scenario import Scenario

__all__ = ["Simulation"]

LOOPBACK = "127.0.0.1"


async def _start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://{LOOPBACK}:{port}"


class Simulation:
    """A simulated Prometheus and Pyroscope serving `scenario`; `clock` gives unix seconds."""

    def __init__(self, scenario: Scenario, clock: Callable[[], float] = time.time) -> None:
        self.prometheus = SimulatedPrometheus(scenario, clock)
        self.pyroscope = SimulatedPyroscope(scenario, clock)
        self.prometheus_url = ""
        self.pyroscope_url = ""
        self._runners: list[web.AppRunner] = []

    async def __aenter__(self) -> Simulation:
        try:
            runner, self.prometheus_url = await _start(self.prometheus.app())
            self._runners.append(runner)
            runner, self.pyroscope_url = await _start(self.pyroscope.app())
            self._runners.append(runner)
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        while self._runners:
            await self._runners.pop().cleanup()

    def served(self) -> dict[str, int]:
        """Requests answered so far, per backend."""
        return {"prometheus": len(self.prometheus.log), "pyroscope": len(self.pyroscope.log)}

    def report(self) -> str:
        served = self.served()
        return (
            f"simulation served {served['prometheus']} Prometheus"
            f" and {served['pyroscope']} Pyroscope requests"
        )
