"""A clock that only moves when the code under test sleeps (for retry and deadline tests)."""

from __future__ import annotations

import asyncio
import time


class FakeTime:
    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class ManualClock:
    """A monotonic clock for caches and listings: `clock()` reads `now`; tests move it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedSleep:
    """A `sleep` for loops that wait between steps: the first `steps` calls return at once,
    the next one waits until the task is cancelled (and sets `parked`), so a test sees an
    exact number of steps whatever the machine's load."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.calls: list[float] = []
        self.parked = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if len(self.calls) > self.steps:
            self.parked.set()
            await asyncio.Event().wait()  # until cancelled
        await asyncio.sleep(0)


class SteppedTime:
    """A wall clock that moves only when the test calls `advance()`: `sleep(s)` returns once
    the clock has moved `s` past the moment it was called (`sleeping` counts who waits)."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now
        self._waiting: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    @property
    def sleeping(self) -> int:
        return sum(1 for _, future in self._waiting if not future.done())

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.now + seconds, future)
        self._waiting.append(entry)
        try:
            await future
        finally:
            self._waiting.remove(entry)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for until, future in self._waiting:
            if until <= self.now and not future.done():
                future.set_result(None)
