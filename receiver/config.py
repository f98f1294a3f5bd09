"""flamebot's configuration: one YAML file, `FLAMEBOT__A__B` env overrides, `*_file` secrets.

Every key is optional; no file at all gives the embedded default (127.0.0.1:8080, SQLite in
the working directory, the console notifier). Unknown keys are errors. `load_config` returns
a validated `Config` or raises `ConfigError`, whose lines each name the key path and the
reason, and never a secret value.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, SecretStr, ValidationError, model_validator

from enrichers.clients.alertmanager import AlertmanagerSettings
from enrichers.settings import (
    BasicAuth,
    EnrichmentSettings,
    GrafanaSettings,
    PrometheusSettings,
    PyroscopeSettings,
    StrictModel,
    resolve_secret_files,
)
from receiver.errors import ConfigError
from receiver.interactions.settings import SlackAppSettings
from receiver.notifiers.console import ConsoleNotifierSettings
from receiver.notifiers.registry import INTEGRATIONS, NotifierSettings
from receiver.notifiers.templates import TemplateSettings

__all__ = ["Config", "ConfigError", "NotifierSettings", "load_config", "secret_values"]

ENV_PREFIX = "FLAMEBOT__"
DEFAULT_ROUTE = "default"


class ServerAuth(StrictModel):
    bearer_token: SecretStr | None = None
    bearer_token_file: Path | None = None
    basic: BasicAuth | None = None

    @model_validator(mode="after")
    def _secrets(self) -> ServerAuth:
        resolve_secret_files(self, ("bearer_token",))
        return self


class ServerSettings(StrictModel):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    # 16 MiB: a 5,000-alert group of the reference alert is 3.2 MB as Alertmanager sends it,
    # and Alertmanager never retries a 413 (a 4xx): a group too big for this is lost.
    max_body_bytes: Annotated[int, Field(ge=1)] = 16_777_216
    auth: ServerAuth | None = None
    shutdown_grace_seconds: Annotated[float, Field(ge=0)] = 20.0


class StoreSettings(StrictModel):
    path: Path = Path("flamebot.db")
    # SQLite's max_page_count: caps the file size (pages of 4 KiB); a full store answers 503.
    max_page_count: Annotated[int, Field(ge=1)] | None = None
    # PostgreSQL (`postgresql://user@host:5432/flamebot`): every piece of state there, so
    # several replicas can share it. A secret (it may hold a password), also as `url_file`.
    url: SecretStr | None = None
    url_file: Path | None = None
    # How long a replica's claim on a delivery lasts unrenewed: after it, another takes over.
    lease_seconds: Annotated[float, Field(gt=0)] = 30.0

    @model_validator(mode="after")
    def _secrets(self) -> StoreSettings:
        resolve_secret_files(self, ("url",))
        if self.url is not None and not self.url.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("url: must be a postgresql:// URL")
        return self


class QueueSettings(StrictModel):
    max_pending: Annotated[int, Field(ge=1)] = 10_000
    workers: Annotated[int, Field(ge=1, le=256)] = 8


class DeliverySettings(StrictModel):
    max_seconds: Annotated[float, Field(ge=0)] = 3600.0
    initial_backoff_seconds: Annotated[float, Field(gt=0)] = 1.0
    max_backoff_seconds: Annotated[float, Field(gt=0)] = 60.0


def _default_notifiers() -> list[NotifierSettings]:
    return [ConsoleNotifierSettings(name="console", type="console")]


class Config(StrictModel):
    server: ServerSettings = Field(default_factory=ServerSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings)
    pyroscope: PyroscopeSettings = Field(default_factory=PyroscopeSettings)
    grafana: GrafanaSettings = Field(default_factory=GrafanaSettings)
    alertmanager: AlertmanagerSettings | None = None  # enrichers/clients/alertmanager.py
    slack: SlackAppSettings | None = None  # the Slack app's signing secret: receiver/interactions
    enrichment: EnrichmentSettings = Field(default_factory=EnrichmentSettings)
    notifiers: list[NotifierSettings] = Field(default_factory=_default_notifiers)
    templates: TemplateSettings = Field(default_factory=TemplateSettings)  # notifiers/templates.py
    # Without `routes`, `/webhook` (the `default` route) goes to every notifier.
    routes: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")], list[str]] | None = None

    @model_validator(mode="after")
    def _check_routes(self) -> Config:
        names = [n.name for n in self.notifiers]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ValueError(f"notifiers: the name {name!r} is used twice")
            seen.add(name)
        for route, targets in (self.routes or {}).items():
            for target in targets:
                if target not in seen:
                    raise ValueError(f"routes.{route}: no notifier is named {target!r}")
        return self

    def route_table(self) -> dict[str, list[str]]:
        """Route name -> notifier names, with the implicit `default` route filled in."""
        if self.routes is None:
            return {DEFAULT_ROUTE: [n.name for n in self.notifiers]}
        return {route: list(targets) for route, targets in self.routes.items()}


_NOTIFIER_TAGS = set(INTEGRATIONS)
_KEY_PATH = re.compile(r"[a-z_][a-z0-9_]*(?:\.[A-Za-z0-9_.-]+)*")


def _problem(loc: tuple[int | str, ...], kind: str, msg: str) -> str:
    # A discriminated union puts its tag ("slack") after the list index: not a key.
    parts = [
        str(p)
        for i, p in enumerate(loc)
        if not (p in _NOTIFIER_TAGS and i > 0 and isinstance(loc[i - 1], int))
    ]
    msg = msg.removeprefix("Value error, ")
    # Section validators start their message with the key they are about ("token_file: ...").
    key, sep, rest = msg.partition(": ")
    if kind == "value_error" and sep and _KEY_PATH.fullmatch(key):
        parts.append(key)
        msg = rest
    return f"{'.'.join(parts) or '(top level)'}: {msg}"


def _problems(error: ValidationError) -> list[str]:
    # Only messages, never `input`: the offending value could be a secret.
    return [_problem(e["loc"], e["type"], e["msg"]) for e in error.errors()]


def _parse_env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def apply_env_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Apply `FLAMEBOT__A__B=value` as `a.b = value` (JSON when it parses, else a string)."""
    for key in sorted(environ):
        if not key.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in key[len(ENV_PREFIX) :].split("__")]
        if not all(path):
            raise ConfigError([f"{key}: empty key segment"])
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[path[-1]] = _parse_env_value(environ[key])
    return data


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"{path}: invalid YAML{where}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of sections"])
    return data


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load the config file (or none: the embedded default) and the env overrides."""
    environ = os.environ if environ is None else environ
    if path is None and environ.get("FLAMEBOT_CONFIG"):
        path = Path(environ["FLAMEBOT_CONFIG"])
    data = _read_yaml(path) if path is not None else {}
    data = apply_env_overrides(data, environ)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None


def secret_values(config: Config) -> list[str]:
    """Every secret in the config, so that log output can be scrubbed of them."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            if secret:
                found.append(secret)
        elif isinstance(value, StrictModel):
            for field in type(value).model_fields:
                walk(getattr(value, field))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(config)
    return found
