"""What every notifier shares: its settings' name, and failure classification.

Integrations only classify failures (STYLE.md, after Alertmanager's `notify/`): 2xx is
success; 429, 5xx and transport errors are retryable; any other status is permanent. The
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
from receiver.errors import NotifyError

__all__ = [
    "NotifierSettingsBase",
    "check_status",
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


def check_status(
    integration: str, status: int, *, retry_after: str | None = None, detail: str = ""
) -> None:
    """Raise NotifyError unless `status` is 2xx; 429 and 5xx are retryable."""
    if 200 <= status < 300:
        return
    retryable = status == 429 or status >= 500
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    raise NotifyError(
        integration,
        message,
        retryable=retryable,
        retry_after=parse_retry_after(retry_after) if retryable else None,
    )


def transport_error(integration: str, exc: BaseException) -> NotifyError:
    """A connection, TLS or timeout failure: retryable. The URL is left out (it may hold a key)."""
    kind = type(exc).__name__
    return NotifyError(integration, f"transport error ({kind})", retryable=True)


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
