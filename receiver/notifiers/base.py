"""What every notifier shares: its settings' name, and failure classification.

Integrations only classify failures (STYLE.md, after Alertmanager's `notify/`), all through
one table: `failure_code()` maps an HTTP status and, for APIs that answer 200 with an error
name (Slack's `ok: false`), that name to a `FailureCode`. 2xx is success; 429, 5xx and
transport errors are retryable; any other status is permanent (410 and the names in
`API_ERRORS` say what we meant to update is gone, 413 that the body is too large). The
pipeline alone owns the retry policy.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Self

import httpx
from pydantic import Field, model_validator

from enrichers.settings import StrictModel, resolve_secret_files
from receiver.errors import FailureCode, NotifyError

__all__ = [
    "API_ERRORS",
    "NotifierSettingsBase",
    "check_status",
    "failure",
    "failure_code",
    "parse_retry_after",
    "send",
    "transport_error",
]


class NotifierSettingsBase(StrictModel):
    """An entry of `notifiers`: each integration's settings add their `type` tag and keys.

    `secrets` are the integration's secret keys, each with a `*_file` twin read once here;
    without one of its `required_secrets` an integration cannot work at all."""

    secrets: ClassVar[tuple[str, ...]] = ()
    required_secrets: ClassVar[tuple[str, ...]] = ()

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    type: str

    @model_validator(mode="after")
    def _secret_files(self) -> Self:
        resolve_secret_files(self, self.secrets)
        for name in self.required_secrets:
            if getattr(self, name) is None:
                raise ValueError(f"{self.type} needs {name} or {name}_file")
        return self


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: a number of seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# Error names far ends answer with (HTTP 200 or not) whose meaning differs from a plain
# refusal; any other name is REJECTED. Slack: chat.update cannot edit the message any more.
API_ERRORS: dict[str, FailureCode] = {
    "ratelimited": FailureCode.RATE_LIMITED,
    "message_not_found": FailureCode.GONE,
    "cant_update_message": FailureCode.GONE,
    "edit_window_closed": FailureCode.GONE,
    "channel_not_found": FailureCode.GONE,
}
_STATUSES = {429: FailureCode.RATE_LIMITED, 410: FailureCode.GONE, 413: FailureCode.TOO_LARGE}


def failure_code(status: int, error: str | None = None) -> FailureCode | None:
    """The one classification: None for success (2xx and no error name), else the code.

    A retryable status (429, 5xx) decides; otherwise a known error name does, then the
    status; an unknown error name in a 2xx answer is REJECTED."""
    by_status = None
    if not 200 <= status < 300:
        by_status = FailureCode.UNAVAILABLE if status >= 500 else _STATUSES.get(status)
        by_status = by_status or FailureCode.REJECTED
    if by_status is not None and by_status.retryable:
        return by_status
    if error:
        return API_ERRORS.get(error, by_status or FailureCode.REJECTED)
    return by_status


def failure(
    integration: str, code: FailureCode, message: str, *, retry_after: str | None = None
) -> NotifyError:
    """A NotifyError of `code`; Retry-After travels with it only when a retry will come."""
    wait = parse_retry_after(retry_after) if code.retryable else None
    return NotifyError(integration, message, code=code, retry_after=wait)


def check_status(
    integration: str, status: int, *, retry_after: str | None = None, detail: str = ""
) -> None:
    """Raise NotifyError unless `status` is 2xx; 429 and 5xx are retryable."""
    code = failure_code(status)
    if code is None:
        return
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    raise failure(integration, code, message, retry_after=retry_after)


def transport_error(integration: str, exc: BaseException) -> NotifyError:
    """A connection, TLS or timeout failure: retryable. The URL is left out (it may hold a key)."""
    kind = type(exc).__name__
    return NotifyError(integration, f"transport error ({kind})", code=FailureCode.TRANSPORT)


async def send(
    client: httpx.AsyncClient,
    integration: str,
    method: str,
    url: str,
    *,
    detail: Callable[[httpx.Response], str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One HTTP call, classified: a transport error or a non-2xx answer is a NotifyError
    (`detail` says what the far end said about it)."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise transport_error(integration, exc) from None
    check_status(
        integration,
        response.status_code,
        retry_after=response.headers.get("Retry-After"),
        detail=detail(response) if detail is not None else "",
    )
    return response
