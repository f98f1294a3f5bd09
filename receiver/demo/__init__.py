"""`flamebot demo`: the reference bank fleet on simulated backends, a real receiver, loopback.

`simulation` runs the simulated Prometheus (`prometheus_sim`) and Pyroscope
(`pyroscope_sim`) for a `scenario.Scenario` (the default fleet is in `fleet`); `run`
drives the demo.
"""

from receiver.demo.run import run_demo

__all__ = ["run_demo"]
