"""Runtime presets: one module per runtime, one registry (this module), pure.

Each of `jvm`, `go`, `python`, `dotnet`, `nodejs`, `ruby` and `ebpf` is one module holding its
`PRESET` (`enrichers.presets.base.Preset`: queries, units and thresholds, profile types,
frame rules, actions, how to recognise it). A new runtime is one more module and one more
line in `PRESETS`. `enrichment.preset: auto` (the default) picks a preset per service
(`enrichers.detection`); `build_preset()` lays the config's `queries`, `profile_types` and
`actions` over a built-in one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from enrichers.presets import dotnet, ebpf, go, jvm, nodejs, python, ruby
from enrichers.presets.base import Preset

if TYPE_CHECKING:
    from enrichers.settings import EnrichmentSettings

__all__ = [
    "AUTO",
    "FALLBACK",
    "GO",
    "JVM",
    "PRESETS",
    "PRESET_NAMES",
    "UNKNOWN_HOTSPOT",
    "Preset",
    "build_preset",
    "render_action",
]

PRESETS: Mapping[str, Preset] = MappingProxyType(
    {
        preset.name: preset
        for preset in (
            jvm.PRESET,
            go.PRESET,
            python.PRESET,
            dotnet.PRESET,
            nodejs.PRESET,
            ruby.PRESET,
            ebpf.PRESET,
        )
    }
)
PRESET_NAMES = tuple(PRESETS)
AUTO = "auto"
FALLBACK = "ebpf"  # when nothing tells a service's runtime: process metrics, CPU profile
JVM, GO = PRESETS["jvm"], PRESETS["go"]

UNKNOWN_HOTSPOT = "the hottest function (unknown: no profile data)"
_PLACEHOLDER = re.compile(r"\{(?:hotspot|service|pyroscope_service)\}")


def build_preset(settings: EnrichmentSettings, name: str) -> Preset:
    """The built-in preset `name` with the config's overrides laid over it."""
    base = PRESETS[name]
    profile_types = dict(base.profile_types)
    for kind, ids in settings.profile_types.items():
        profile_types[kind] = tuple(ids)
    return replace(
        base,
        queries=MappingProxyType({**base.queries, **settings.queries}),
        profile_types=MappingProxyType(profile_types),
        actions=MappingProxyType({**base.actions, **settings.actions}),
    )


def render_action(
    template: str, *, hotspot: str | None, service: str, pyroscope_service: str
) -> str:
    """`template` with `{hotspot}`, `{service}` and `{pyroscope_service}` filled in.

    Plain replacement, in one pass: other braces stay as written, and a value that itself
    contains a placeholder is not expanded again.
    """
    values = {
        "{hotspot}": hotspot if hotspot is not None else UNKNOWN_HOTSPOT,
        "{service}": service,
        "{pyroscope_service}": pyroscope_service,
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(0)], template)
