"""The reliability harness: a flamebot process wired to fake Slack, PagerDuty and Pyroscope
(served from a background loop) and to the real Prometheus of the session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import Backends, payment_pyroscope
from tests.support.pagerduty import ControlledPagerDuty
from tests.support.process import FlamebotProcess
from tests.support.prometheus import RealPrometheus
from tests.support.serving import LoopThread
from tests.support.slack import ControlledSlack


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture
def serve(loop_thread: LoopThread) -> Iterator[LoopThread]:
    """The background loop; every app served in the test is stopped after it."""
    yield loop_thread
    loop_thread.close_apps()


@pytest.fixture
def backends(serve: LoopThread, real_prometheus: RealPrometheus) -> Backends:
    slack, pagerduty = ControlledSlack(), ControlledPagerDuty()
    return Backends(
        slack=slack,
        slack_url=serve.serve(slack.app()),
        pagerduty=pagerduty,
        pagerduty_url=serve.serve(pagerduty.app()),
        pyroscope_url=serve.serve(payment_pyroscope().app()),
        prometheus_url=real_prometheus.url,
    )


@pytest.fixture
def flamebot_factory(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], FlamebotProcess]]:
    """Builds flamebot processes (not started) on a config; kills any left running."""
    made: list[FlamebotProcess] = []

    def build(config: dict[str, Any]) -> FlamebotProcess:
        workdir = tmp_path / f"flamebot-{len(made) + 1}"
        workdir.mkdir()
        process = FlamebotProcess(workdir, config)
        made.append(process)
        return process

    yield build
    for process in made:
        process.close()
