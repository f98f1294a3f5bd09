"""Server-side diffs for the fake Pyroscope: Connect `Diff` and the legacy `render-diff`.

`add_diff_routes(fake, app)` adds, to the fake's aiohttp app, the routes a real server has
(pyroscope-api.md §1.3-1.4, §1.6), served from the fake's own profiles (each side is the
fake's `SelectMergeStacktraces` answer for that side's request, validated the same way):

- `POST /querier.v1.QuerierService/Diff` with `{"left": <SelectMergeStacktracesRequest>,
  "right": ...}` (only those two fields) answers `{"flamegraph": {names, levels[{values}],
  total, maxSelf, leftTicks, rightTicks}}`, int64 as strings, zero values omitted;
- `GET /pyroscope/render-diff?leftQuery=&leftFrom=&leftUntil=&rightQuery=&rightFrom=&rightUntil=`
  answers the flamebearer envelope with `metadata.format = "double"`, `numTicks` = left +
  right, `leftTicks`/`rightTicks` at the top level, `timeline: null`, numbers as JSON numbers.

Both refuse two different profile types (400 `profile types must match`). The two trees are
aligned as the server aligns them: every node on both sides (zeros where it is missing),
children sorted by name, 7 values per node `[xL, totalL, selfL, xR, totalR, selfR, name]`
with both x columns delta-encoded. Connect routes exist when the fake has `connect`, the
legacy one when it has `legacy_render`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from enrichers.flamegraph_tree import Node
from receiver.demo.pyroscope_checks import (
    FIELDS,
    QUERIER,
    RECORD,
    RecordedRequest,
    RejectError,
    check_profile_type,
    check_window,
    connect_error,
    invalid,
    read_connect_body,
)

if TYPE_CHECKING:
    from receiver.demo.pyroscope_fake import FakePyroscope

__all__ = ["add_diff_routes", "double_levels"]


@dataclass
class _Pair:
    name: str
    left: Node
    right: Node
    children: list[_Pair] = field(default_factory=list)


def _tree(graph: Mapping[str, Any]) -> Node:
    """A single-format flame graph (Connect object) as a tree; `{}` is an empty root."""
    names = graph.get("names", ["total"])
    root = Node("total")
    above: list[tuple[int, int, Node]] = []
    for depth, level in enumerate(graph.get("levels", [])):
        values = [int(v) for v in level.get("values", [])]
        here, end = [], 0
        for i in range(0, len(values), 4):
            start = end + values[i]
            end = start + values[i + 1]
            node = root if depth == 0 else Node(names[values[i + 3]], values[i + 1], values[i + 2])
            if depth == 0:
                root.total, root.self = values[i + 1], values[i + 2]
            else:
                parent = next(n for s, e, n in above if s <= start and end <= e)
                parent.children.append(node)
            here.append((start, end, node))
        above = here
    return root


def _pair(left: Node, right: Node) -> _Pair:
    """Both trees aligned by name, children sorted by name (`combineTree` on the server)."""
    by_name_left = {c.name: c for c in left.children}
    by_name_right = {c.name: c for c in right.children}
    pair = _Pair(left.name if left.total else right.name, left, right)
    for name in sorted(by_name_left.keys() | by_name_right.keys()):
        pair.children.append(
            _pair(by_name_left.get(name, Node(name)), by_name_right.get(name, Node(name)))
        )
    return pair


def double_levels(
    left: Mapping[str, Any], right: Mapping[str, Any]
) -> tuple[list[str], list[list[int]]]:
    """Names and 7-value levels of the diff of two Connect flame graph objects."""
    names, index = ["total"], {"total": 0}
    levels: list[list[int]] = []
    frontier = [(0, 0, _pair(_tree(left), _tree(right)))]
    while frontier:
        values: list[int] = []
        following = []
        end_left = end_right = 0
        for x_left, x_right, node in frontier:
            position = index.setdefault(node.name, len(names))
            if position == len(names):
                names.append(node.name)
            lhs, rhs = node.left, node.right
            values += [x_left - end_left, lhs.total, lhs.self, x_right - end_right, rhs.total]
            values += [rhs.self, position]
            end_left, end_right = x_left + lhs.total, x_right + rhs.total
            child_left, child_right = x_left + lhs.self, x_right + rhs.self
            for child in node.children:
                following.append((child_left, child_right, child))
                child_left += child.left.total
                child_right += child.right.total
        levels.append(values)
        frontier = following
    return names, levels


def _sides(
    fake: FakePyroscope, left: dict[str, Any], right: dict[str, Any], record: RecordedRequest
) -> tuple[Any, Any]:
    """Each side's flame graph object, as the fake's SelectMergeStacktraces answers it."""
    if check_profile_type(left.get("profileTypeID")) != check_profile_type(
        right.get("profileTypeID")
    ):
        raise invalid("profile types must match")
    graphs = []
    for side in (left, right):
        answer = fake._SelectMergeStacktraces(side, record)
        graphs.append(answer.get("flamegraph", {}))
    return graphs[0], graphs[1]


def _ticks(graph: Mapping[str, Any]) -> int:
    return int(graph.get("total", 0))


def _connect_diff(
    fake: FakePyroscope, body: dict[str, Any], record: RecordedRequest
) -> dict[str, Any]:
    if set(body) - {"left", "right"}:
        raise invalid(f"unknown field {sorted(set(body) - {'left', 'right'})[0]!r}")
    sides: list[dict[str, Any]] = []
    for name in ("left", "right"):
        side = body.get(name)
        if not isinstance(side, dict):
            raise invalid(f"{name}: a SelectMergeStacktracesRequest is required")
        if unknown := set(side) - FIELDS["SelectMergeStacktraces"]:
            raise invalid(f"{name}: unknown field {sorted(unknown)[0]!r}")
        sides.append(side)
    left, right = _sides(fake, sides[0], sides[1], record)
    if not left and not right:
        return {}
    names, levels = double_levels(left, right)
    graph: dict[str, Any] = {
        "names": names,
        "levels": [{"values": [str(v) for v in level]} for level in levels],
        "total": str(_ticks(left) + _ticks(right)),
    }
    most = max(max(level[2::7] + level[5::7]) for level in levels)
    extra = {"maxSelf": most, "leftTicks": _ticks(left), "rightTicks": _ticks(right)}
    graph |= {key: str(value) for key, value in extra.items() if value}
    return {"flamegraph": graph}


def _legacy_side(request: web.Request, side: str) -> dict[str, Any]:
    query = request.query.get(f"{side}Query", "")
    if "{" not in query:
        raise invalid(f'"{side}Query" must contain a profile-type selection')
    start, end = check_window(
        {"start": request.query.get(f"{side}From"), "end": request.query.get(f"{side}Until")}
    )
    return {
        "profileTypeID": query[: query.index("{")],
        "labelSelector": query[query.index("{") :],
        "start": start,
        "end": end,
    }


def _legacy_body(ptype: str, left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    names, levels = double_levels(left, right)
    sample_type, unit = ptype.split(":")[1], ptype.split(":")[2]
    return {
        "version": 1,
        "flamebearer": {
            "names": names,
            "levels": levels,
            "numTicks": _ticks(left) + _ticks(right),
            "maxSelf": max(max(level[2::7] + level[5::7]) for level in levels),
        },
        "metadata": {
            "format": "double",
            "spyName": "",
            "sampleRate": 1_000_000_000,
            "units": "samples" if sample_type == "cpu" else unit,
            "name": sample_type,
        },
        "leftTicks": _ticks(left),
        "rightTicks": _ticks(right),
        "timeline": None,
        "groups": None,
        "heatmap": None,
    }


def add_diff_routes(fake: FakePyroscope, app: web.Application) -> None:
    """Add `Diff` (with `fake.connect`) and `/pyroscope/render-diff` (with `legacy_render`);
    call it before the fake's catch-all Connect route is added."""

    async def connect(request: web.Request) -> web.Response:
        record: RecordedRequest = request[RECORD]
        try:
            await fake._gate(request)
            record.body = await read_connect_body(request)
            answer = _connect_diff(fake, record.body, record)
        except RejectError as reject:
            return connect_error(reject)
        return web.json_response(answer)

    async def legacy(request: web.Request) -> web.Response:
        try:
            await fake._gate(request)
            left, right = (_legacy_side(request, side) for side in ("left", "right"))
            graphs = _sides(fake, left, right, request[RECORD])
        except RejectError as reject:
            return connect_error(reject)
        return web.json_response(_legacy_body(left["profileTypeID"], *graphs))

    if fake.connect:
        app.router.add_post(QUERIER + "Diff", connect)
    if fake.legacy_render:
        app.router.add_get("/pyroscope/render-diff", legacy)
