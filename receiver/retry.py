"""The retry policy of a delivery, after Alertmanager's one retry stage: notifiers only
classify a failure (`NotifyError.retryable`, `retry_after`), this decides the waits."""

from __future__ import annotations

import random
from collections.abc import Callable

from tenacity import RetryCallState

from receiver.config import DeliverySettings
from receiver.errors import NotifyError

__all__ = ["RetryPolicy"]


class RetryPolicy:
    """Backoff for one delivery: initial * 2^(n-1), capped, ±20 % jitter, >= Retry-After."""

    def __init__(self, settings: DeliverySettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock

    def wait(self, state: RetryCallState) -> float:
        s = self.settings
        exponent = min(state.attempt_number - 1, 32)
        backoff: float = min(s.max_backoff_seconds, s.initial_backoff_seconds * 2.0**exponent)
        backoff *= random.uniform(0.8, 1.2)
        exc = state.outcome.exception() if state.outcome else None
        asked = exc.retry_after if isinstance(exc, NotifyError) else None
        return max(backoff, asked or 0.0)

    def out_of_time(self, deadline: float, state: RetryCallState) -> bool:
        return self.clock() + state.upcoming_sleep > deadline
