"""flamebot's exceptions, in one place.

    FlamebotError
    ├── ConfigError            a config that cannot be used (each problem names its key path)
    ├── StartupError           `serve` cannot start: the address is taken, the store won't open
    ├── ReplayRefusedError     a dead letter older than what its group has since delivered
    ├── StoreError
    │   ├── StoreUnavailableError   the store cannot take a write: answer 503, Alertmanager retries
    │   └── StoreFullError          `queue.max_pending` reached: answer 503, never drop
    └── NotifyError            a notifier failed; its `code` (a FailureCode) says how, and
                               whether to try again (`retryable`)

Messages say which integration and what happened, and never contain a secret.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ConfigError",
    "FailureCode",
    "FlamebotError",
    "NotifyError",
    "ReplayRefusedError",
    "StartupError",
    "StoreError",
    "StoreFullError",
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


class StoreFullError(StoreError):
    """`queue.max_pending` notifications are already waiting."""


class FailureCode(StrEnum):
    """How a delivery failed, the one classification every notifier answers with
    (`receiver.notifiers.base` maps HTTP statuses and far-end error names to these)."""

    RATE_LIMITED = "rate_limited"  # 429, Slack `ratelimited`: retry, after Retry-After
    UNAVAILABLE = "unavailable"  # 5xx: retry
    TRANSPORT = "transport"  # connection refused, TLS, timeout: retry
    REJECTED = "rejected"  # any other refusal (4xx, Slack `ok: false`): permanent
    TOO_LARGE = "too_large"  # 413: permanent, the same body would be refused again
    GONE = "gone"  # what we meant to update no longer exists (410, a deleted message)

    @property
    def retryable(self) -> bool:
        return self in _RETRYABLE


_RETRYABLE = frozenset({FailureCode.RATE_LIMITED, FailureCode.UNAVAILABLE, FailureCode.TRANSPORT})


class NotifyError(FlamebotError):
    """A notifier could not deliver.

    `code`: how (FailureCode); `retryable` follows from it: 429, 5xx and transport errors
    are worth another attempt, other refusals are not. Callers with no finer code may pass
    `retryable=` alone (True: UNAVAILABLE, False: REJECTED). `retry_after`: seconds the far
    end asked us to wait (HTTP `Retry-After`), if it said.
    """

    def __init__(
        self,
        integration: str,
        message: str,
        *,
        code: FailureCode | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{integration}: {message}")
        if code is None:
            code = FailureCode.UNAVAILABLE if retryable else FailureCode.REJECTED
        elif retryable is not None and retryable != code.retryable:
            raise ValueError(f"{code} is {'' if code.retryable else 'not '}retryable")
        self.integration = integration
        self.code = code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.code.retryable

    def __repr__(self) -> str:
        return f"NotifyError({str(self)!r}, code={self.code.value}, retryable={self.retryable})"
