"""aiohttp apps (the fakes) served on loopback from a background thread, for process tests.

A flamebot child process or a real Alertmanager talks to the fakes over HTTP while the test
itself runs synchronously, polling the fakes' recorded state. One `LoopThread` runs one
event loop for the whole session; `serve()` starts an app on a free port and returns its
base URL, `close()` stops every app it started.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiohttp import web

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """An asyncio loop on a daemon thread; apps served on it answer while the test blocks."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._runners: list[web.AppRunner] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run `coro` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def serve(self, app: web.Application) -> str:
        """Serve `app` on 127.0.0.1 and a free port; returns `http://127.0.0.1:<port>`."""

        async def start() -> str:
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            return f"http://127.0.0.1:{runner.addresses[0][1]}"

        return self.run(start())

    def close_apps(self) -> None:
        """Stop every app served so far (held requests are cancelled)."""
        runners, self._runners = self._runners, []

        async def stop() -> None:
            for runner in runners:
                await runner.cleanup()

        self.run(stop())

    def close(self) -> None:
        self.close_apps()

        async def cancel_leftovers() -> None:
            # Handlers of a hanging stand-in may still be asleep: end them, quietly.
            current = asyncio.current_task()
            leftovers = [t for t in asyncio.all_tasks() if t is not current]
            for task in leftovers:
                task.cancel()
            await asyncio.gather(*leftovers, return_exceptions=True)

        self.run(cancel_leftovers())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
