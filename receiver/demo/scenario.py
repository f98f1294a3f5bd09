"""What the demo's simulated backends serve: a fleet of services, their numbers and profiles.

A `Scenario` holds, per service (keyed by its Prometheus instance host), the health numbers
the simulated Prometheus answers with and, per profile kind, folded stacks for the baseline
and the incident window that the simulated Pyroscope turns into flame graphs. Folded stacks
are the usual text form, one `root;caller;leaf value` line per stack, values in the profile
type's unit (nanoseconds of CPU or wall time, bytes allocated, lock contentions).

`load_scenario()` lays a JSON or YAML file over the default: mappings merge key by key,
anything else (a list of stack lines, a number, the alert list) replaces what was there.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from enrichers.result import ProfileKind
from receiver.errors import ConfigError

__all__ = [
    "DemoAlert",
    "Profile",
    "Scenario",
    "ServiceHealth",
    "SimulatedService",
    "load_scenario",
    "merge",
    "parse_folded",
]

Stacks = dict[tuple[str, ...], int]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_folded(lines: list[str]) -> Stacks:
    """`["a;b;c 42", ...]` as `{("a", "b", "c"): 42}`; repeated stacks add up."""
    stacks: Stacks = {}
    for line in lines:
        frames, _, value = line.strip().rpartition(" ")
        if not frames or not value.isdigit():
            raise ValueError(f"not a folded stack line ('frame;frame;leaf <value>'): {line!r}")
        key = tuple(frames.split(";"))
        stacks[key] = stacks.get(key, 0) + int(value)
    return stacks


class Profile(_Model):
    """Folded stacks of one profile kind; no `baseline` means the same as the incident."""

    incident: list[str] = Field(default_factory=list)
    baseline: list[str] | None = None

    @field_validator("incident", "baseline")
    @classmethod
    def _folded(cls, lines: list[str] | None) -> list[str] | None:
        if lines is not None:
            parse_folded(lines)
        return lines

    def stacks(self, incident: bool) -> Stacks:
        lines = self.incident if incident or self.baseline is None else self.baseline
        return parse_folded(lines)


Number = Annotated[float, Field(ge=0)]


class ServiceHealth(_Model):
    """What the jvm preset's queries return for the service (cores, ratios, s/s, ms)."""

    cpu: Number
    heap_ratio: Number
    gc: Number
    threads: Number
    req_per_sec: Number
    error_ratio: Number
    latency_ms: Number


class SimulatedService(_Model):
    pyroscope_service: str
    verticle: str
    health: ServiceHealth
    profiles: dict[ProfileKind, Profile] = Field(default_factory=dict)


class DemoAlert(_Model):
    """One Alertmanager alert the demo fires at the receiver (a group of its own)."""

    alertname: str
    instance: str
    job: str
    severity: str = "warning"
    verticle: str
    summary: str
    description: str
    runbook: str = ""
    expr: str
    fingerprint: str
    seconds_firing: Annotated[int, Field(ge=0)] = 60


class Scenario(_Model):
    now: AwareDatetime
    services: dict[str, SimulatedService]
    alerts: list[DemoAlert] = Field(default_factory=list)

    def service_map(self) -> dict[str, str]:
        """Instance host -> Pyroscope service_name, for `enrichment.service_map`."""
        return {host: s.pyroscope_service for host, s in self.services.items()}


def merge(base: Any, override: Any) -> Any:
    """`override` laid over `base`: mappings merge by key, anything else replaces."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    return override


def load_scenario(path: Path | None, default: Scenario) -> Scenario:
    """`default`, or `default` with the file at `path` laid over it; ConfigError if invalid."""
    if path is None:
        return default
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except yaml.YAMLError:
        raise ConfigError([f"{path}: neither JSON nor YAML"]) from None
    if not isinstance(document, dict):
        raise ConfigError([f"{path}: the top level must be a mapping"])
    data = merge(default.model_dump(mode="json"), document)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        ) from None
