"""Waiting for something that happens on its own time: a process, a server, a background task.

Every readiness poll of the tests and the benchmarks goes through `wait_until` (from plain
code) or `wait_until_async` (from a coroutine, so the event loop keeps serving meanwhile).
The timeout only ends a wait that would never succeed: it is generous (`SETTLE_SECONDS`)
because a shared, loaded machine may take many times longer than an idle one, and a wait
that succeeds returns at once. No outcome is decided by how long something took.
"""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx

__all__ = ["SETTLE_SECONDS", "answers_200", "running", "wait_until", "wait_until_async"]

T = TypeVar("T")

SETTLE_SECONDS = 30.0  # how long a wait may take before it counts as never


def _expired(deadline: float, within: float, what: str) -> None:
    if time.monotonic() > deadline:
        raise AssertionError(f"{what} not met within {within:g} s")


def wait_until(
    condition: Callable[[], T],
    within: float = SETTLE_SECONDS,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll `condition()` until it returns something truthy (returned); AssertionError after
    `within` seconds. `condition` may raise to end the wait early (a process that died)."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        _expired(deadline, within, what)
        time.sleep(interval)


async def wait_until_async(
    condition: Callable[[], T | Awaitable[T]],
    within: float = SETTLE_SECONDS,
    interval: float = 0.02,
    what: str = "condition",
) -> T:
    """`wait_until` for a coroutine: the loop keeps running between polls, and `condition`
    may itself be a coroutine function (an HTTP probe)."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        _expired(deadline, within, what)
        await asyncio.sleep(interval)


def answers_200(url: str, timeout: float = 1.0) -> bool:
    """A readiness probe: GET `url` is answered 200 (no answer yet is False, not an error)."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def running(process: subprocess.Popen[bytes], name: str, log: Path) -> bool:
    """True while `process` runs; once it exited, AssertionError with the end of its `log`."""
    if process.poll() is None:
        return True
    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
    raise AssertionError(f"{name} exited with {process.returncode}:\n{tail}")
