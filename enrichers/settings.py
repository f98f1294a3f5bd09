"""Settings of the enrichment sources: Prometheus, Pyroscope, Grafana and the classifier.

These are the `prometheus`, `pyroscope`, `grafana` and `enrichment` sections of flamebot's
YAML config (PRODUCT.md §4). Every model forbids unknown keys: a typo must not silently
disable a feature. Secrets are `SecretStr` (their repr is masked) and each has a `*_file`
twin that is read once, at validation, with the trailing newline stripped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    model_validator,
)

from enrichers.presets import AUTO, PRESET_NAMES
from enrichers.result import MetricName, ProfileKind, Verdict

__all__ = [
    "BackendAuth",
    "BasicAuth",
    "Dashboard",
    "Duration",
    "EnrichmentSettings",
    "GrafanaSettings",
    "MetricName",
    "PrometheusSettings",
    "PyroscopeSettings",
    "StrictModel",
    "Thresholds",
    "parse_duration",
    "read_secret_file",
]


class StrictModel(BaseModel):
    """A config section: unknown keys are errors, values are not coerced across types."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def read_secret_file(path: Path) -> SecretStr:
    """Read a secret from a file once; only the trailing newline is stripped."""
    text = path.read_text(encoding="utf-8")
    return SecretStr(text.rstrip("\r\n"))


def resolve_secret_files(model: BaseModel, names: tuple[str, ...]) -> None:
    """Fill each secret `name` from `name_file`; setting both is an error, and so is an
    empty secret (an empty token would let an empty credential in)."""
    for name in names:
        path = getattr(model, f"{name}_file")
        inline: SecretStr | None = getattr(model, name)
        if path is None:
            if inline is not None and not inline.get_secret_value():
                raise ValueError(f"{name}: must not be empty")
            continue
        if inline is not None:
            raise ValueError(f"{name}_file: set either {name} or {name}_file, not both")
        try:
            secret = read_secret_file(path)
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ValueError(f"{name}_file: cannot read {path}: {reason}") from None
        if not secret.get_secret_value():
            raise ValueError(f"{name}_file: {path} is empty")
        object.__setattr__(model, name, secret)


_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$")


def parse_duration(value: Any) -> timedelta:
    """Parse `15m`, `1h30m`, `90s`, `500ms` or a number of seconds into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 15m, 1h or 90s")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("duration must not be negative")
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match and value.strip():
            days, hours, minutes, seconds, millis = match.groups()
            return timedelta(
                days=int(days or 0),
                hours=int(hours or 0),
                minutes=int(minutes or 0),
                seconds=float(seconds or 0),
                milliseconds=int(millis or 0),
            )
    raise ValueError("expected a duration such as 15m, 1h or 90s")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
PositiveSeconds = Annotated[float, Field(gt=0)]


class BasicAuth(StrictModel):
    username: str
    password: SecretStr | None = None
    password_file: Path | None = None

    @model_validator(mode="after")
    def _secrets(self) -> BasicAuth:
        resolve_secret_files(self, ("password",))
        if self.password is None:
            raise ValueError("password: basic auth needs password or password_file")
        return self


class BackendAuth(StrictModel):
    """Connection settings shared by the Prometheus and Pyroscope clients."""

    url: str
    timeout_seconds: PositiveSeconds
    basic: BasicAuth | None = None
    bearer_token: SecretStr | None = None
    bearer_token_file: Path | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _secrets(self) -> BackendAuth:
        resolve_secret_files(self, ("bearer_token",))
        if self.basic is not None and self.bearer_token is not None:
            raise ValueError("bearer_token: set either basic or bearer_token, not both")
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url: must start with http:// or https://")
        return self


class PrometheusSettings(BackendAuth):
    url: str = "http://127.0.0.1:9090"
    timeout_seconds: PositiveSeconds = 3.0


class PyroscopeSettings(BackendAuth):
    url: str = "http://127.0.0.1:4040"
    timeout_seconds: PositiveSeconds = 5.0
    tenant: str = ""
    max_nodes: Annotated[int, Field(ge=1, le=1_048_576)] = 16384


class Dashboard(StrictModel):
    title: str
    uid: str
    vars: dict[str, str] = Field(default_factory=dict)


class GrafanaSettings(StrictModel):
    url: str = "http://127.0.0.1:3000"
    org_id: int = 1
    pyroscope_datasource_uid: str = "pyroscope"
    link_style: Literal["explore", "drilldown"] = "explore"
    dashboards: list[Dashboard] = Field(default_factory=list)


class Thresholds(StrictModel):
    """Decision-table thresholds (PRODUCT.md §2); units: cores, s/s, ratio, %, ms, threads."""

    cpu: float = 0.3
    gc: float = 0.03
    heap_ratio: float = 0.75
    mutex_pct: float = 5.0
    latency_ms: float = 500.0
    threads: float = 60.0
    error_ratio: float = 0.02
    critical_cpu: float = 0.8
    critical_gc: float = 0.1
    critical_heap_ratio: float = 0.85

    def laid_over(self, defaults: Mapping[str, float]) -> Thresholds:
        """A preset's defaults (in its runtime's units) with the values set in config on top."""
        chosen = {name: getattr(self, name) for name in self.model_fields_set}
        return Thresholds.model_validate({**defaults, **chosen})


def _preset_name(value: str) -> str:
    names = (AUTO, *PRESET_NAMES)
    if value not in names:
        raise ValueError(f"expected one of {', '.join(names)}, got {value!r}")
    return value


PresetName = Annotated[str, AfterValidator(_preset_name)]


class EnrichmentSettings(StrictModel):
    # `auto`: each service's runtime is detected (enrichers.detection); `service_presets`
    # pins one per service (its Prometheus host or Pyroscope service_name).
    preset: PresetName = AUTO
    service_presets: dict[str, PresetName] = Field(default_factory=dict)
    deadline_seconds: PositiveSeconds = 8.0
    # Alert groups analysed at once; in a storm the rest wait their turn (each still gets
    # its whole deadline), so the receiver's event loop stays free to answer webhooks.
    concurrency: Annotated[int, Field(ge=1, le=1024)] = 32
    window: Duration = timedelta(minutes=15)
    baseline_offset: Duration = timedelta(hours=1)
    # The fix check: this long after a group resolves, is its hotspot gone? 0 turns it off.
    verify_after: Duration = timedelta(minutes=10)
    cache_ttl_seconds: Annotated[float, Field(ge=0)] = 60.0
    service_labels: list[str] = Field(default_factory=lambda: ["service_name", "service", "app"])
    match_labels: list[str] = Field(default_factory=lambda: ["namespace"])
    service_map: dict[str, str] = Field(default_factory=dict)
    app_prefixes: list[str] = Field(default_factory=list)
    top_n: Annotated[int, Field(ge=1, le=50)] = 5
    thresholds: Thresholds = Field(default_factory=Thresholds)
    queries: dict[MetricName, str] = Field(default_factory=dict)
    profile_types: dict[ProfileKind, list[str]] = Field(default_factory=dict)
    actions: dict[Verdict, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> EnrichmentSettings:
        for name, query in self.queries.items():
            if "{selector}" not in query:
                raise ValueError(f"queries.{name}: must contain {{selector}}")
        return self
