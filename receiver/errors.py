"""flamebot's exceptions, in one place.

    FlamebotError
    ├── ConfigError            a config that cannot be used (each problem names its key path)
    ├── StartupError           `serve` cannot start: the address is taken, the store won't open
    ├── ReplayRefusedError     a dead letter older than what its group has since delivered
    ├── StoreError
    │   ├── StoreUnavailableError   the store cannot take a write: answer 503, Alertmanager retries
    │   └── StoreFullError          `queue.max_pending` reached: answer 503, never drop
    └── NotifyError            a notifier failed; `retryable` says whether to try again

Messages say which integration and what happened, and never contain a secret.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "FlamebotError",
    "NotifyError",
    "ReplayRefusedError",
    "StartupError",
    "StoreError",
    "StoreFullError",
    "StoreTooNewError",
    "StoreUnavailableError",
]


class FlamebotError(Exception):
    """Base of flamebot's own errors."""


class ConfigError(FlamebotError):
    """A config that cannot be used; each line of `problems` is `key.path: reason`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class StartupError(FlamebotError):
    """The service cannot start (address in use, store cannot be opened)."""


class ReplayRefusedError(FlamebotError):
    """Replaying would bring back a state its group has already moved past."""


class StoreError(FlamebotError):
    """The durable store failed."""


class StoreUnavailableError(StoreError):
    """The store cannot take a write (locked, disk full, I/O error)."""


class StoreTooNewError(StoreUnavailableError):
    """The store was written by a newer flamebot (a schema version this code does not know)."""


class StoreFullError(StoreError):
    """`queue.max_pending` notifications are already waiting."""


class NotifyError(FlamebotError):
    """A notifier could not deliver.

    `retryable`: 429, 5xx and transport errors are worth another attempt; other 4xx and
    Slack `ok: false` (except `ratelimited`) are not. `retry_after`: seconds the far end
    asked us to wait (HTTP `Retry-After`), if it said.
    """

    def __init__(
        self, integration: str, message: str, *, retryable: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{integration}: {message}")
        self.integration = integration
        self.retryable = retryable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"NotifyError({str(self)!r}, retryable={self.retryable})"
