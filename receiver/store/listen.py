"""LISTEN/NOTIFY wake-ups on PostgreSQL: a replica hears at once that another one accepted
work (`receiver.store.intake.WORK_CHANNEL`, notified in the commit that stored it), instead
of polling. The connection is re-made after a failure; meanwhile the lease timer still
takes over work (`receiver.feeder`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import psycopg
import structlog

from receiver.store.intake import WORK_CHANNEL

__all__ = ["WorkListener"]

log = structlog.get_logger("flamebot.store")
RECONNECT_SECONDS = 1.0


class WorkListener:
    def __init__(self, url: str, wake: Callable[[], None]) -> None:
        self._url = url
        self._wake = wake
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="flamebot-store-listen")

    async def _run(self) -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {WORK_CHANNEL}")
                    self.listening.set()
                    self._wake()  # whatever was notified while not listening
                    async for _ in conn.notifies():
                        self._wake()
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("store_listen_failed", reason=str(exc).splitlines()[0])
            await asyncio.sleep(RECONNECT_SECONDS)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
