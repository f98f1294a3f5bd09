"""Writes `v1.db`: a store made by the first release's schema (no schema version), with work
pending. Run once with that release's code (`python tests/data/stores/make_v1_store.py`);
the upgrade test opens a copy of the file with today's code and expects it delivered."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from receiver.store import Incoming, Store

HERE = Path(__file__).parent


def body(group: str, status: str) -> str:
    """A small Alertmanager-shaped webhook body for one group."""
    alert = {
        "status": status,
        "labels": {"alertname": "HighCpuUsage", "instance": f"{group}:8080"},
        "annotations": {},
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": f"fp-{group}",
    }
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{group}"}}',
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "flamebot",
            "groupLabels": {"alertname": group},
            "commonLabels": alert["labels"],
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": [alert],
        }
    )


async def main() -> None:
    """One delivered notification, two pending ones (one interrupted mid-send), a conversation."""
    path = HERE / "v1.db"
    path.unlink(missing_ok=True)
    store = Store(path)
    await store.open()
    done = await store.intake.accept(
        Incoming("identity-done", "default", '{}:{alertname="done"}', body("done", "firing")),
        ["a"],
        100,
    )
    await store.deliveries.mark_sending(done.id, "a")
    await store.deliveries.mark_done(done.id, "a")
    await store.conversations.of("a").set('{}:{alertname="done"}', '{"ts": "1.0"}')
    waiting = await store.intake.accept(
        Incoming(
            "identity-waiting", "default", '{}:{alertname="waiting"}', body("waiting", "firing")
        ),
        ["a"],
        100,
    )
    sending = await store.intake.accept(
        Incoming(
            "identity-sending", "default", '{}:{alertname="sending"}', body("sending", "firing")
        ),
        ["a"],
        100,
    )
    await store.deliveries.mark_sending(sending.id, "a")
    print(f"v1.db: done {done.id}, pending {waiting.id}, interrupted {sending.id}")
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
    for suffix in ("-wal", "-shm"):
        Path(str(HERE / "v1.db") + suffix).unlink(missing_ok=True)
