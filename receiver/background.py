"""Work started in the background and waited for or cancelled later: the deliveries of the
dispatcher's lanes, the follow-up runner, Slack clicks and picture uploads."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

__all__ = ["Background"]


class Background:
    """The tasks started here that are still running."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], *, name: str | None = None) -> None:
        """Run `work` as a task; returns at once."""
        task = asyncio.create_task(work, name=name)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def idle(self) -> None:
        """Wait until every task started so far (and any they start) is done."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def cancel(self, *, grace: float = 0.0) -> None:
        """Give the running tasks `grace` seconds to finish, cancel the rest, wait for them."""
        running = set(self._running)
        if running and grace > 0:
            _, running = await asyncio.wait(running, timeout=grace)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
