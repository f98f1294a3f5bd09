"""The fleet's profile types, listed in one `Series` call and kept warm in the background."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from enrichers.analysis import GroupEnricher
from enrichers.clients.discovery import ProfileTypeIndex
from enrichers.clients.pyroscope import (
    PyroscopeClient,
    ServiceProfiles,
    parse_service_profile_types,
)
from enrichers.errors import BackendError
from enrichers.result import Window
from enrichers.settings import (
    PyroscopeSettings,
)
from enrichers.targets import service_target
from tests.fakes.clock import ManualClock, ScriptedSleep
from tests.fakes.prometheus import pyroscope_only
from tests.fakes.pyroscope import FakePyroscope
from tests.support.waiting import SETTLE_SECONDS

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
ALLOC = "memory:alloc_in_new_tlab_bytes:bytes:space:bytes"
MUTEX = "mutex:contentions:count:mutex:count"
GRAPH = {("main", "work"): 9, ("main",): 1}
NOW = datetime(2026, 11, 25, 17, 15, tzinfo=UTC)
NOW_MS = 1795626900000
LISTING_START_MS = NOW_MS - 75 * 60 * 1000  # default baseline offset 1 h + window 15 min
SERIES = "/querier.v1.QuerierService/Series"


def fleet(**kwargs: object) -> FakePyroscope:
    services = {"checkout": {CPU: GRAPH, ALLOC: GRAPH}, "cart": {CPU: GRAPH}}
    return FakePyroscope(services, **kwargs)  # type: ignore[arg-type]


def series_bodies(fake: FakePyroscope) -> list[object]:
    return [r.body for r in fake.requests if r.path == SERIES]


def label_set(*labels: tuple[str, str]) -> dict[str, object]:
    """One entry of a Series answer: its labels as name/value objects, in the order given."""
    return {"labels": [{"name": name, "value": value} for name, value in labels]}


def test_parse_service_profile_types() -> None:
    """A Series answer becomes each service's set of profile types."""
    doc = {
        "labelsSet": [
            label_set(("__profile_type__", CPU), ("service_name", "a")),
            label_set(("__profile_type__", ALLOC), ("service_name", "a")),
            label_set(("__profile_type__", CPU), ("service_name", "b")),
            label_set(
                ("__profile_type__", CPU), ("pyroscope_spy", "javaspy"), ("service_name", "b")
            ),
            label_set(("__profile_type__", CPU)),
        ]
    }
    assert parse_service_profile_types(doc) == {
        "a": ServiceProfiles(frozenset({CPU, ALLOC})),
        "b": ServiceProfiles(frozenset({CPU}), frozenset({"javaspy"})),
    }
    assert parse_service_profile_types({}) == {}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"labelsSet": {}}, "labelsSet: expected a list"),
        (
            {"labelsSet": [{"labels": [{"name": "service_name", "value": 3}]}]},
            "labels: expected name/value strings",
        ),
        ({"labelsSet": [{"labels": ["service_name"]}]}, "labels: expected name/value strings"),
    ],
)
def test_parse_service_profile_types_rejects_malformed(
    doc: dict[str, object], message: str
) -> None:
    """A Series answer of another shape is an error naming what is wrong, not a guess."""
    with pytest.raises(ValueError, match=r"^labels") as caught:
        parse_service_profile_types(doc)
    assert str(caught.value) == message


async def test_fleet_listing_is_one_series_call_without_matchers() -> None:
    """The whole fleet's profile types come from one Series call with no matcher."""
    async with fleet() as fake:
        client = PyroscopeClient(PyroscopeSettings(url=fake.url))
        try:
            listed = await client.fleet_profile_types(LISTING_START_MS, NOW_MS)
        finally:
            await client.aclose()
    assert listed == {
        "checkout": ServiceProfiles(frozenset({CPU, ALLOC})),
        "cart": ServiceProfiles(frozenset({CPU})),
    }
    assert series_bodies(fake) == [
        {
            "matchers": [],
            "labelNames": ["service_name", "__profile_type__", "pyroscope_spy"],
            "start": LISTING_START_MS,
            "end": NOW_MS,
        }
    ]


async def test_legacy_server_has_no_fleet_listing() -> None:
    """After the Connect 404 the client knows better than to ask again."""
    async with fleet(connect=False, legacy_render=True) as fake:
        client = PyroscopeClient(PyroscopeSettings(url=fake.url))
        try:
            for _ in range(2):
                with pytest.raises(BackendError) as caught:
                    await client.fleet_profile_types(LISTING_START_MS, NOW_MS)
                assert str(caught.value) == (
                    "pyroscope: the legacy API lists no profile types per service"
                )
        finally:
            await client.aclose()
    assert [r.path for r in fake.requests] == [SERIES]


async def test_index_lists_at_start_refreshes_and_expires() -> None:
    """The index lists at start, takes a refresh, and keeps a failed refresh's old listing."""
    clock = ManualClock()
    async with fleet() as fake:
        client = PyroscopeClient(PyroscopeSettings(url=fake.url))
        index = ProfileTypeIndex(
            client,
            lambda: (LISTING_START_MS, NOW_MS),
            refresh_seconds=3600,
            max_age_seconds=600,
            clock=clock,
        )
        assert index.lookup("checkout") is None  # nothing listed yet
        with capture_logs() as logs:
            index.start()
            await asyncio.wait_for(index.loaded.wait(), SETTLE_SECONDS)
        assert index.lookup("checkout") == ServiceProfiles(frozenset({CPU, ALLOC}))
        assert index.lookup("cart") == ServiceProfiles(frozenset({CPU}))
        assert index.lookup("unlisted") is None

        fake.services["new"] = {MUTEX: GRAPH}
        await index.refresh()
        assert index.lookup("new") == ServiceProfiles(frozenset({MUTEX}))

        fake.fail_with = 500  # a failed refresh keeps the last listing...
        clock.now += 599
        with capture_logs() as failed:
            await index.refresh()
        assert index.lookup("checkout") == ServiceProfiles(frozenset({CPU, ALLOC}))
        clock.now += 2  # ...until it is too old to trust
        assert index.lookup("checkout") is None
        await index.aclose()
        await client.aclose()
    listing = {
        "matchers": [],
        "labelNames": ["service_name", "__profile_type__", "pyroscope_spy"],
        "start": LISTING_START_MS,
        "end": NOW_MS,
    }
    # The third listing was refused before the fake read its body.
    assert series_bodies(fake) == [listing, listing, None]
    assert logs == [{"event": "profile_types_listed", "services": 2, "log_level": "info"}]
    assert failed == [
        {
            "event": "profile_types_not_listed",
            "reason": "Series: HTTP 500: fake failure: injected by the test",
            "log_level": "info",
        }
    ]


async def test_index_keeps_listing_every_refresh_period() -> None:
    """The fleet is listed at start and again after every refresh period, until closed."""
    three_listings = ScriptedSleep(steps=2)  # two refresh periods pass, the third never ends
    async with fleet() as fake:
        client = PyroscopeClient(PyroscopeSettings(url=fake.url))
        index = ProfileTypeIndex(
            client, lambda: (LISTING_START_MS, NOW_MS), refresh_seconds=120, sleep=three_listings
        )
        index.start()
        await asyncio.wait_for(three_listings.parked.wait(), SETTLE_SECONDS)
        await index.aclose()  # cancels the third period's wait: no fourth listing
        await client.aclose()
    assert three_listings.calls == [120, 120, 120]
    assert len(series_bodies(fake)) == 3


@pytest.fixture
async def started() -> AsyncIterator[tuple[GroupEnricher, FakePyroscope]]:
    async with fleet() as fake:
        enricher = pyroscope_only(fake.url, clock=lambda: NOW)
        enricher.start()
        await asyncio.wait_for(enricher.listed(), SETTLE_SECONDS)
        yield enricher, fake
        await enricher.aclose()


async def analyse(enricher: GroupEnricher, service: str) -> list[str]:
    incident = Window(start=NOW - timedelta(minutes=15), end=NOW)
    baseline = Window(start=incident.start - timedelta(hours=1), end=NOW - timedelta(hours=1))
    analysis = await enricher.analyze(
        service_target(service, enricher.settings), incident, baseline
    )
    assert analysis.errors == []
    return sorted(analysis.profile_types.values())


async def test_a_listed_service_goes_straight_to_its_flame_graphs(
    started: tuple[GroupEnricher, FakePyroscope],
) -> None:
    """A service in the listing costs no Series of its own: only its flame graphs."""
    enricher, fake = started
    assert await analyse(enricher, "checkout") == [ALLOC, CPU]
    listing = {
        "matchers": [],
        "labelNames": ["service_name", "__profile_type__", "pyroscope_spy"],
        "start": LISTING_START_MS,
        "end": NOW_MS,
    }
    assert series_bodies(fake) == [listing]
    graphs = [r.body["profileTypeID"] for r in fake.requests if r.path.endswith("Stacktraces")]
    assert sorted(graphs) == [ALLOC, ALLOC, CPU, CPU]  # incident and baseline of each


async def test_an_unlisted_service_is_asked_for_alone(
    started: tuple[GroupEnricher, FakePyroscope],
) -> None:
    """A service that appeared after the listing is asked for with its own matcher."""
    enricher, fake = started
    fake.services["new"] = {CPU: GRAPH}  # appeared after the listing
    assert await analyse(enricher, "new") == [CPU]
    assert [body["matchers"] for body in series_bodies(fake)] == [[], ['{service_name="new"}']]
