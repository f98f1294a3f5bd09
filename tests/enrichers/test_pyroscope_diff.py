"""Server-side diffs: the client's `diff()` over Connect `Diff` and legacy `render-diff`,
against the strict fake, and the fake's double format against the upstream capture."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from enrichers.clients.pyroscope import PyroscopeClient
from enrichers.flamegraph import (
    FlameGraph,
    parse_connect,
    parse_connect_diff,
    parse_render_diff,
    self_percentages,
)
from enrichers.promql import label_selector
from enrichers.settings import PyroscopeSettings
from receiver.demo.folded import encode_flamegraph
from tests.fakes.pyroscope import FakePyroscope, by_window

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
ALLOC = "memory:alloc_in_new_tlab_bytes:bytes:space:bytes"
BEFORE = (1732537200000, 1732539000000)
AFTER = (1732540800000, 1732542600000)
OLD = {("main", "checkout"): 10, ("main", "gone"): 30, ("main",): 60}
NEW = {("main", "checkout"): 70, ("main", "fresh", "hash"): 20, ("main",): 10}
FIXTURE = (
    Path(__file__).resolve().parents[3] / "shared/fixtures/pyroscope/render_diff_double_go_cpu.json"
)


def diff_fake(**kwargs: Any) -> FakePyroscope:
    source = by_window([(BEFORE[1], OLD), (AFTER[1], NEW)])
    return FakePyroscope({"checkout": {CPU: source, ALLOC: OLD}}, **kwargs)


@pytest.fixture
async def served(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[FakePyroscope, PyroscopeClient]]:
    async with diff_fake(**getattr(request, "param", {})) as fake:
        client = PyroscopeClient(PyroscopeSettings(url=fake.url, max_nodes=4096))
        try:
            yield fake, client
        finally:
            await client.aclose()


def shares(graph: FlameGraph) -> dict[str, float]:
    return {name: round(pct, 6) for name, pct in self_percentages(graph).items()}


EXPECTED_LEFT = {"main": 60.0, "gone": 30.0, "checkout": 10.0}
EXPECTED_RIGHT = {"checkout": 70.0, "hash": 20.0, "main": 10.0}


async def test_diff_over_connect(served: tuple[FakePyroscope, PyroscopeClient]) -> None:
    """One Connect `Diff` request gives both windows' graphs, aligned, totals per side."""
    fake, client = served
    left, right = await client.diff(CPU, label_selector("checkout"), BEFORE, AFTER)
    assert (left.total, right.total) == (100, 100)
    assert shares(left) == EXPECTED_LEFT
    assert shares(right) == EXPECTED_RIGHT
    [request] = fake.requests
    side = {"profileTypeID": CPU, "labelSelector": '{service_name="checkout"}', "maxNodes": 4096}
    assert (request.path, request.body) == (
        "/querier.v1.QuerierService/Diff",
        {
            "left": {**side, "start": BEFORE[0], "end": BEFORE[1]},
            "right": {**side, "start": AFTER[0], "end": AFTER[1]},
        },
    )


@pytest.mark.parametrize("served", [{"connect": False, "legacy_render": True}], indirect=True)
async def test_diff_falls_back_to_legacy_render_diff(
    served: tuple[FakePyroscope, PyroscopeClient],
) -> None:
    """Without the Connect API (404) the same diff comes from `GET /pyroscope/render-diff`."""
    fake, client = served
    left, right = await client.diff(CPU, label_selector("checkout"), BEFORE, AFTER)
    assert (shares(left), shares(right)) == (EXPECTED_LEFT, EXPECTED_RIGHT)
    assert [r.path for r in fake.requests] == [
        "/querier.v1.QuerierService/Diff",
        "/pyroscope/render-diff",
    ]
    query = CPU + '{service_name="checkout"}'
    assert fake.requests[1].query == {
        "leftQuery": query,
        "leftFrom": str(BEFORE[0]),
        "leftUntil": str(BEFORE[1]),
        "rightQuery": query,
        "rightFrom": str(AFTER[0]),
        "rightUntil": str(AFTER[1]),
        "max-nodes": "4096",
    }


async def test_fake_diff_is_strict() -> None:
    """Different profile types, unknown fields and a missing side are refused (400)."""
    async with diff_fake(legacy_render=True) as fake, httpx.AsyncClient(base_url=fake.url) as http:
        side = {"profileTypeID": CPU, "labelSelector": "{}", "start": BEFORE[0], "end": BEFORE[1]}
        url = "/querier.v1.QuerierService/Diff"
        cases = [
            ({"left": side, "right": {**side, "profileTypeID": ALLOC}}, "profile types must match"),
            ({"left": side, "right": side, "extra": 1}, "unknown field 'extra'"),
            ({"left": side}, "right: a SelectMergeStacktracesRequest is required"),
            ({"left": side, "right": {**side, "step": 1}}, "right: unknown field 'step'"),
        ]
        for body, message in cases:
            response = await http.post(url, json=body)
            assert (response.status_code, response.json()) == (
                400,
                {"code": "invalid_argument", "message": message},
            )
        query = CPU + "{}"
        mixed = {
            "leftQuery": query,
            "rightQuery": ALLOC + "{}",
            **{k: str(v) for k, v in zip(("leftFrom", "leftUntil"), BEFORE, strict=True)},
            **{k: str(v) for k, v in zip(("rightFrom", "rightUntil"), AFTER, strict=True)},
        }
        response = await http.get("/pyroscope/render-diff", params=mixed)
        assert response.status_code == 400
        assert response.json()["message"] == "profile types must match"


async def test_fake_render_diff_has_the_upstream_shape() -> None:
    """The legacy answer has every key of the real capture, and numTicks = left + right."""
    upstream = json.loads(FIXTURE.read_text())
    async with diff_fake(legacy_render=True, connect=False) as fake:
        params = {
            "leftQuery": CPU + '{service_name="checkout"}',
            "rightQuery": CPU + '{service_name="checkout"}',
            "leftFrom": str(BEFORE[0]),
            "leftUntil": str(BEFORE[1]),
            "rightFrom": str(AFTER[0]),
            "rightUntil": str(AFTER[1]),
        }
        async with httpx.AsyncClient(base_url=fake.url) as http:
            body = (await http.get("/pyroscope/render-diff", params=params)).json()
    assert set(upstream) <= set(body)
    assert {"names", "levels", "numTicks", "maxSelf"} <= set(body["flamebearer"])
    assert (body["metadata"]["format"], body["timeline"]) == ("double", None)
    assert (body["leftTicks"], body["rightTicks"], body["flamebearer"]["numTicks"]) == (
        100,
        100,
        200,
    )
    assert body["flamebearer"]["levels"][0] == [0, 100, 0, 0, 100, 0, 0]
    left, right = parse_render_diff(body)
    assert (shares(left), shares(right)) == (EXPECTED_LEFT, EXPECTED_RIGHT)


def test_connect_diff_parses_like_render_diff() -> None:
    """The upstream capture's 7-value levels, as Connect strings, parse to the same graphs."""
    upstream = json.loads(FIXTURE.read_text())
    bearer = upstream["flamebearer"]
    connect = {
        "flamegraph": {
            "names": bearer["names"],
            "levels": [{"values": [str(v) for v in level]} for level in bearer["levels"]],
            "total": str(bearer["numTicks"]),
            "leftTicks": str(upstream["leftTicks"]),
            "rightTicks": str(upstream["rightTicks"]),
        }
    }
    assert parse_connect_diff(connect) == parse_render_diff(upstream)
    empty = FlameGraph([], [], 0)
    assert parse_connect_diff({}) == (empty, empty)


def test_single_graphs_survive_the_double_encoding() -> None:
    """Each side of the fake's diff parses back to exactly that side's own graph."""
    from receiver.demo.pyroscope_diff import double_levels

    left, right = encode_flamegraph(OLD), encode_flamegraph(NEW)
    names, levels = double_levels(left, right)
    doc = {"flamebearer": {"names": names, "levels": levels}, "leftTicks": 100, "rightTicks": 100}
    parsed = parse_render_diff(doc)
    assert [self_percentages(g) for g in parsed] == [
        self_percentages(parse_connect({"flamegraph": g})) for g in (left, right)
    ]
