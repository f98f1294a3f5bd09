"""structlog, configured once: JSON lines on stderr, secrets scrubbed from every event.

Events are past-tense snake_case (`webhook_accepted`, `notify_failed`); context such as
group_key, route and receiver is given with each event or bound per delivery. Lines are
compact JSON written by orjson (every webhook logs one, and the standard encoder took a
third of a line's cost); what orjson cannot encode (integers past 64 bits, strings that
are not Unicode) is written by the standard encoder instead, so no event is lost.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import orjson
import structlog

__all__ = ["SecretScrubber", "configure_logging", "render"]

MASK = "[secret]"


class SecretScrubber:
    """A processor that replaces every known secret value in an event with a mask.

    Secrets are never logged on purpose; this is the guard for the day one slips into an
    exception message or a URL.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, MASK)
            return value
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(v) for v in value]
        return value

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if not self._secrets:
            return event
        return {k: self._scrub(v) for k, v in event.items()}


def render(event: Any, **_: Any) -> str:
    """One event as a JSON line's text: orjson, the standard encoder where orjson refuses."""
    try:
        return orjson.dumps(event, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError: a 65-bit integer, a lone surrogate
        return json.dumps(event, default=repr)


def configure_logging(
    secrets: Iterable[str] = (), *, level: str = "info", stream: TextIO | None = None
) -> None:
    """JSON logs on stderr (stdout belongs to the console notifier)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            SecretScrubber(secrets),
            structlog.processors.JSONRenderer(serializer=render),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
