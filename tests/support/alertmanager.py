"""A real Alertmanager (the Debian 0.28 binary in .tools/bin) routed to flamebot, for tests.

    config = webhook_config(flamebot.url + "/webhook/payments", token="t0ken")
    with running_alertmanager(tmp_path, config) as am:
        am.post_alerts([firing_alert(labels, starts_at)])
        wait_until(lambda: ...)

Each instance has its own storage and no clustering (`--cluster.listen-address=`), so two
of them given the same alerts behave like an HA pair whose gossip has not converged: both
notify. Timings are compressed through the route (`group_wait`, `group_interval`,
`repeat_interval`). Alertmanager is always stopped on exit, also when the test failed.
Without the binary (`./scripts/install-tools.sh`) the test fails, never skips.

The Debian build reads its notification templates from `/usr/share/prometheus/alertmanager`
(upstream embeds them); the binary `install-tools.sh` installs reads them from
`./share/alertmanager` instead, so it runs from `.tools`, as the README says to run it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.process import TOOLS, spawn_listening, stop
from tests.support.waiting import answers_200

__all__ = [
    "Alertmanager",
    "alertmanager_binary",
    "firing_alert",
    "resolved_alert",
    "running_alertmanager",
    "webhook_config",
]

START_TIMEOUT_SECONDS = 30.0


def alertmanager_binary() -> Path:
    """The installed Alertmanager binary; the test fails (never skips) without it."""
    path = TOOLS / "alertmanager"
    if (
        not path.is_file()
        or not (TOOLS.parent / "share" / "alertmanager" / "default.tmpl").is_file()
    ):
        pytest.fail("alertmanager is missing from .tools: run ./scripts/install-tools.sh")
    return path


def webhook_config(
    url: str,
    *,
    token: str,
    group_by: Sequence[str] = ("alertname", "instance"),
    group_wait: str = "1s",
    group_interval: str = "1s",
    repeat_interval: str = "1h",
) -> dict[str, Any]:
    """One route to one webhook receiver (flamebot), bearer token, resolved notices on."""
    return {
        "route": {
            "receiver": "flamebot",
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [
            {
                "name": "flamebot",
                "webhook_configs": [
                    {
                        "url": url,
                        "send_resolved": True,
                        "http_config": {"authorization": {"credentials": token}},
                    }
                ],
            }
        ],
    }


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def firing_alert(
    labels: Mapping[str, str],
    starts_at: datetime,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A postable alert (v2 API) as Prometheus sends it: explicit startsAt, no endsAt."""
    return {
        "labels": dict(labels),
        "annotations": dict(annotations or {}),
        "startsAt": _rfc3339(starts_at),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up&g0.tab=1",
    }


def resolved_alert(
    labels: Mapping[str, str], starts_at: datetime, ends_at: datetime
) -> dict[str, Any]:
    """The same alert re-posted with `endsAt` <= now: Alertmanager resolves it."""
    return {**firing_alert(labels, starts_at), "endsAt": _rfc3339(ends_at)}


@dataclass
class Alertmanager:
    url: str
    log_path: Path

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """`POST /api/v2/alerts`; Alertmanager answers 200 with an empty body."""
        response = httpx.post(f"{self.url}/api/v2/alerts", json=list(alerts), timeout=5)
        assert response.status_code == 200, response.text

    def alerts(self) -> list[dict[str, Any]]:
        """Alertmanager's view of its alerts (`GET /api/v2/alerts`)."""
        found: list[dict[str, Any]] = httpx.get(f"{self.url}/api/v2/alerts", timeout=5).json()
        return found

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def running_alertmanager(
    workdir: Path, config: Mapping[str, Any], name: str = "alertmanager"
) -> Iterator[Alertmanager]:
    """Alertmanager on a free loopback port, its own storage, no cluster; stopped on exit."""
    home = workdir / name
    home.mkdir(parents=True)
    binary = alertmanager_binary()
    config_path = home / "alertmanager.yml"
    config_path.write_text(yaml.safe_dump(dict(config)), encoding="utf-8")
    log_path = home / "alertmanager.log"
    process, address = spawn_listening(
        lambda address: [
            binary,
            f"--config.file={config_path}",
            f"--storage.path={home / 'data'}",
            f"--web.listen-address={address}",
            f"--web.external-url=http://{address}",
            "--cluster.listen-address=",
            "--log.level=debug",
        ],
        log_path,
        lambda address: answers_200(f"http://{address}/-/ready"),
        name="Alertmanager",
        within=START_TIMEOUT_SECONDS,
        cwd=TOOLS.parent,  # where its templates are (see above)
    )
    try:
        yield Alertmanager(f"http://{address}", log_path)
    finally:
        stop(process)
