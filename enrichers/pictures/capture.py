"""What an analysis keeps for its picture, pure: the deciding profile's graphs, pruned.

Both windows' flame graphs of the deciding profile are pruned to the frames a picture
draws (at least MIN_SHARE of the total), named as the picture shows them (as the service's
runtime writes them), with the frame class of every name, so the picture of an alert can be drawn
later from the stored analysis alone: by the Slack notifier, a replay or the demo.
"""

from __future__ import annotations

from collections.abc import Sequence

from enrichers.flamegraph import FlameGraph
from enrichers.flamegraph_tree import prune
from enrichers.frames import FrameRules
from enrichers.pictures.layout import MIN_SHARE
from enrichers.result import FlameGraphData, ProfileKind

__all__ = ["flamegraph_data", "shown"]


def shown(graph: FlameGraph, *, frames: FrameRules) -> FlameGraph:
    """The graph pruned to the frames a picture draws, names as the runtime shows them."""
    pruned = prune(graph, MIN_SHARE)
    if frames.normalize is None:
        return pruned
    return FlameGraph([frames.show(name) for name in pruned.names], pruned.levels, pruned.total)


def flamegraph_data(
    profile: ProfileKind,
    profile_type: str | None,
    incident: FlameGraph | None,
    baseline: FlameGraph | None,
    *,
    frames: FrameRules,
    app_prefixes: Sequence[str],
) -> FlameGraphData | None:
    """The picture data of one profile, or None when the incident window has no samples."""
    if profile_type is None or incident is None or incident.total <= 0:
        return None
    now = shown(incident, frames=frames)
    before = shown(baseline, frames=frames) if baseline and baseline.total > 0 else None
    names = sorted({*now.names, *(before.names if before else ())})
    return FlameGraphData(
        profile=profile,
        profile_type=profile_type,
        incident=now,
        baseline=before,
        classes={name: frames.classify(name, app_prefixes) for name in names},
    )
