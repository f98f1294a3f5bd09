"""`flamebot dead-letters` and `flamebot replay ID`: what could not be delivered, and a retry."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime

from receiver.config import Config
from receiver.errors import NotifyError, ReplayRefusedError
from receiver.followups import FollowUps
from receiver.metrics import Metrics
from receiver.notes import Notes
from receiver.notifiers import build_notifiers
from receiver.pipeline import Pipeline
from receiver.store import DeadLetter, DeadLetterStore, Store

__all__ = ["list_dead_letters", "replay"]


def _when(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _as_dict(letter: DeadLetter) -> dict[str, object]:
    return {
        "id": letter.id,
        "notification_id": letter.notification_id,
        "notifier": letter.notifier,
        "route": letter.route,
        "group_key": letter.group_key,
        "reason": letter.reason,
        "attempts": letter.attempts,
        "created_at": _when(letter.created_at),
        "replayed_at": _when(letter.replayed_at),
    }


def missing_store(config: Config) -> bool:
    """True (and said on stderr) when store.path holds no store: never create one here."""
    if config.store.path.is_file():
        return False
    print(f"flamebot: no store at {config.store.path} (see store.path)", file=sys.stderr)
    return True


async def list_dead_letters(config: Config, *, as_json: bool) -> int:
    if missing_store(config):
        return 1
    store = Store.from_settings(config.store)
    await store.open()
    dead: DeadLetterStore = store.deliveries
    try:
        letters = await dead.dead_letters()
    finally:
        await store.close()
    if as_json:
        print(json.dumps([_as_dict(x) for x in letters], indent=2))
        return 0
    if not letters:
        print("no dead letters")
    for x in letters:
        state = f"replayed {_when(x.replayed_at)}" if x.replayed_at else "open"
        print(
            f"{x.id:>5}  {_when(x.created_at)}  {x.notifier}  route={x.route}"
            f"  attempts={x.attempts}  [{state}]\n       group {x.group_key}\n       {x.reason}"
        )
    return 0


async def replay(config: Config, dead_id: int) -> int:
    """Deliver one dead letter again, once; exit 0 when it went through."""
    from enrichers.analysis import build_enricher

    if missing_store(config):
        return 1
    store = Store.from_settings(config.store)
    await store.open()
    metrics = Metrics()
    # A note the replayed event leaves (PagerDuty) waits in the store for `serve` to add.
    runner = FollowUps(
        store.schedules, delivery=config.delivery, clock=time.time, sleep=asyncio.sleep
    )
    notes = Notes(runner, lambda name: notifiers.get(name))
    notifiers = build_notifiers(config.notifiers, store.conversations.of, notes=notes)
    enricher = build_enricher(config, metrics.backend_outcome)
    pipeline = Pipeline(
        store.deliveries,
        enricher,
        notifiers,
        metrics,
        config.delivery,
        workers=config.queue.workers,
        analyses=config.enrichment.concurrency,
    )
    dead: DeadLetterStore = store.deliveries
    try:
        letters = await dead.dead_letters(dead_id)
        if not letters:
            print(f"replay: no dead letter {dead_id}")
            return 1
        letter = letters[0]
        if letter.replayed_at is not None:
            print(
                f"replay: dead letter {dead_id} was already replayed at {_when(letter.replayed_at)}"
            )
            return 1
        try:
            await pipeline.replay(letter.notification_id, letter.notifier)
        except ReplayRefusedError as exc:
            print(f"replay: dead letter {dead_id} refused: {exc}")
            return 1
        except (NotifyError, LookupError) as exc:
            print(f"replay: dead letter {dead_id} failed again: {exc}")
            return 1
        await dead.mark_replayed(dead_id)
        print(f"replay: dead letter {dead_id} delivered to {letter.notifier}")
        return 0
    finally:
        await pipeline.stop()
        await store.close()
