"""What the command line does for a person at a terminal: colour and a status while waiting.

Colour only when the stream is a terminal, `NO_COLOR` is unset and `TERM` is not `dumb`
(https://no-color.org). The status appears only when the work takes longer than a second:
a spinner on a terminal, one plain line otherwise (a CI log).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, NamedTuple, TextIO

from enrichers.times import Clock, utc_now
from receiver.background import Background

if TYPE_CHECKING:
    from enrichers.analysis import GroupEnricher
    from receiver.config import Config

__all__ = [
    "SEVERITY_COLOURS",
    "DelayedStatus",
    "Terminal",
    "paint",
    "querying",
    "wants_colour",
]

# bold red, yellow, magenta (flamebot could not see), green
SEVERITY_COLOURS = {"critical": "1;31", "warning": "33", "unknown": "35", "ok": "32"}
SPINNER = "|/-\\"
SPINNER_FRAME_SECONDS = 0.1


class Terminal(NamedTuple):
    """Where a command runs: `out` for its result, `err` for its status and problems, and
    the clock its windows end at."""

    out: TextIO
    err: TextIO
    clock: Clock = utc_now

    @classmethod
    def stdio(cls) -> Terminal:
        """The process's own stdout and stderr (as they are now: tests replace them)."""
        return cls(sys.stdout, sys.stderr)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def wants_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    return _is_terminal(stream)


def paint(text: str, code: str | None) -> str:
    """`text` in an ANSI SGR colour; unchanged without a code."""
    return f"\x1b[{code}m{text}\x1b[0m" if code else text


@dataclass
class DelayedStatus:
    """`async with DelayedStatus(sys.stderr, "querying..."):` shows the message after `delay`."""

    stream: TextIO
    message: str
    delay: float = 1.0
    _: KW_ONLY
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _spinning: bool = field(default=False, init=False)
    _showing: Background = field(default_factory=Background, init=False)

    async def __aenter__(self) -> DelayedStatus:
        self._showing.start(self._show())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._showing.cancel()
        if self._spinning:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    async def _show(self) -> None:
        await self.sleep(self.delay)
        if not _is_terminal(self.stream):
            self.stream.write(self.message + "\n")
            self.stream.flush()
            return
        self._spinning = True
        for frame in itertools.cycle(SPINNER):
            self.stream.write(f"\r{frame} {self.message}")
            self.stream.flush()
            await self.sleep(SPINNER_FRAME_SECONDS)


@contextlib.asynccontextmanager
async def querying(config: Config, err: TextIO, message: str) -> AsyncIterator[GroupEnricher]:
    """`config`'s backends for a command's queries, with the status `message` on `err` while
    they take long; closed after."""
    from enrichers.analysis import build_enricher  # the backends' clients only where used

    enricher = build_enricher(config)
    try:
        async with DelayedStatus(err, message):
            yield enricher
    finally:
        await enricher.aclose()
