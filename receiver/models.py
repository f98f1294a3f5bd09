"""Alertmanager webhook v4 payload (reference/protocols.md §1.1).

Tolerant of extra fields (Alertmanager adds some over versions), strict on types: a label
value must be a string, `truncatedAlerts` an integer, times RFC 3339 with a zone. Per-alert
status is what counts; `endsAt` of `0001-01-01T00:00:00Z` (the firing placeholder) is None.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
)

__all__ = ["Alert", "WebhookPayload", "notification_identity"]

Status = Literal["firing", "resolved"]
LabelSet = dict[StrictStr, StrictStr]


def _reject_non_string(value: object) -> object:
    # pydantic parses a JSON number into a datetime (epoch seconds); Alertmanager never sends one.
    if not isinstance(value, str | datetime):
        raise ValueError("expected an RFC 3339 time string")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_reject_non_string)]


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Alert(_Tolerant):
    status: Status
    labels: LabelSet
    annotations: LabelSet = Field(default_factory=dict)
    starts_at: Timestamp = Field(alias="startsAt")
    ends_at: Timestamp | None = Field(default=None, alias="endsAt")
    generator_url: StrictStr = Field(default="", alias="generatorURL")
    fingerprint: StrictStr = ""

    @field_validator("ends_at")
    @classmethod
    def _unset_end(cls, value: datetime | None) -> datetime | None:
        # Go's zero time marks "not resolved yet".
        if value is not None and value.year <= 1:
            return None
        return value

    @property
    def key(self) -> str:
        """The alert's identity: Alertmanager's fingerprint, else a hash of its labels."""
        if self.fingerprint:
            return self.fingerprint
        canonical = json.dumps(sorted(self.labels.items()), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class WebhookPayload(_Tolerant):
    receiver: StrictStr = ""
    status: Status
    alerts: Annotated[list[Alert], Field(min_length=1)]
    group_labels: LabelSet = Field(default_factory=dict, alias="groupLabels")
    common_labels: LabelSet = Field(default_factory=dict, alias="commonLabels")
    common_annotations: LabelSet = Field(default_factory=dict, alias="commonAnnotations")
    external_url: StrictStr = Field(default="", alias="externalURL")
    version: StrictStr = "4"
    group_key: Annotated[StrictStr, Field(min_length=1)] = Field(alias="groupKey")
    truncated_alerts: Annotated[StrictInt, Field(ge=0)] = Field(default=0, alias="truncatedAlerts")

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "resolved"]


def _time(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat()


def notification_identity(route: str, payload: WebhookPayload) -> str:
    """Hash of (route, groupKey, and per alert: fingerprint, status, startsAt, endsAt).

    Equal for redeliveries from an HA peer (other `externalURL`), retries after a timeout and
    `repeat_interval` repeats; different once an alert is added, resolved or restarted.
    """
    alerts = sorted((a.key, a.status, _time(a.starts_at), _time(a.ends_at)) for a in payload.alerts)
    canonical = json.dumps([route, payload.group_key, alerts], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
