"""`flamebot dead-letters` and `flamebot replay ID`: what could not be delivered, and a retry."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence

from receiver.config import Config
from receiver.errors import NotifyError, ReplayRefusedError
from receiver.followups import FollowUps
from receiver.metrics import Metrics
from receiver.notes import Notes
from receiver.notifiers import build_notifiers
from receiver.pipeline import Pipeline
from receiver.store import DeadLetter, DeadLetterStore, Store, VerdictFeedback, row_document

__all__ = ["list_dead_letters", "print_rows", "replay"]


def missing_store(config: Config) -> bool:
    """True (and said on stderr) when store.path holds no store: never create one here.
    A PostgreSQL `store.url` is always there to ask (its schema is made by `serve`)."""
    if config.store.url is not None or config.store.path.is_file():
        return False
    print(f"flamebot: no store at {config.store.path} (see store.path)", file=sys.stderr)
    return True


async def print_rows(
    store: Store,
    read: Callable[[Store], Awaitable[Sequence[DeadLetter | VerdictFeedback]]],
    *,
    as_json: bool,
    empty: str,
    line: Callable[[dict[str, object]], str],
) -> int:
    """Print the rows `read` gets from `store`: JSON (`row_document` each), else a `line`
    each, or `empty` when there are none."""
    await store.open()
    try:
        rows = await read(store)
    finally:
        await store.close()
    documents = [row_document(row) for row in rows]
    if as_json:
        print(json.dumps(documents, indent=2))
    else:
        print("\n".join(map(line, documents)) if documents else empty)
    return 0


def _letter_line(d: dict[str, object]) -> str:
    state = f"replayed {d['replayed_at']}" if d["replayed_at"] else "open"
    return (
        f"{d['id']:>5}  {d['created_at']}  {d['notifier']}  route={d['route']}"
        f"  attempts={d['attempts']}  [{state}]\n       group {d['group_key']}\n"
        f"       {d['reason']}"
    )


async def list_dead_letters(config: Config, *, as_json: bool) -> int:
    if missing_store(config):
        return 1

    return await print_rows(
        Store.from_settings(config.store),
        lambda store: store.deliveries.dead_letters(),
        as_json=as_json,
        empty="no dead letters",
        line=_letter_line,
    )


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
                f"replay: dead letter {dead_id} was already replayed at"
                f" {row_document(letter)['replayed_at']}"
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
