"""PyroscopeClient against the fake Pyroscope on loopback: requests, auth, fallback, errors."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from enrichers.clients.pyroscope import (
    PyroscopeClient,
    ServiceProfiles,
    parse_legacy_label_values,
)
from enrichers.errors import BackendError, BackendTimeoutError
from enrichers.flamegraph import FlameGraph, parse_connect
from enrichers.promql import label_selector
from enrichers.settings import PyroscopeSettings
from receiver.demo.folded import encode_flamegraph
from tests.fakes.pyroscope import FakePyroscope, Matcher, by_window, parse_selector
from tests.support.outcomes import Outcomes

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
ALLOC = "memory:alloc_in_new_tlab_bytes:bytes:space:bytes"
START, END = 1732540800000, 1732541700000
HOSTILE = 'x"} or vector(1) #'
CHECKOUT = {("main", "checkout"): 70, ("main", "gc"): 20, ("main",): 10}
BASELINE = {("main", "checkout"): 10, ("main",): 90}

Start = Callable[..., Awaitable[tuple[FakePyroscope, PyroscopeClient]]]


@pytest.fixture
def outcomes() -> Outcomes:
    return Outcomes()


@pytest.fixture
async def start(outcomes: Outcomes) -> AsyncIterator[Start]:
    """Start a fake on 127.0.0.1 and a client on it; both are closed after the test."""
    async with AsyncExitStack() as stack:

        async def run(
            fake: FakePyroscope, **settings: Any
        ) -> tuple[FakePyroscope, PyroscopeClient]:
            await stack.enter_async_context(fake)
            config = PyroscopeSettings(url=settings.pop("url", fake.url), **settings)
            client = PyroscopeClient(config, observe=outcomes)
            stack.push_async_callback(client.aclose)
            return fake, client

        yield run


EVERY_TYPE = frozenset({CPU, ALLOC})  # the legacy API lists the server's, not the service's


def fleet(**kwargs: Any) -> FakePyroscope:
    services: dict[str, dict[str, Any]] = {
        "checkout": {CPU: CHECKOUT, ALLOC: {("main",): 5}},
        "cart": {CPU: BASELINE},
    }
    return FakePyroscope(services, **kwargs)


async def test_profile_types_come_from_series(start: Start) -> None:
    """Series with the service matcher lists the service's profile type IDs."""
    fake, client = await start(fleet())
    assert await client.profile_types("checkout", START, END) == ServiceProfiles(
        frozenset({CPU, ALLOC})
    )
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", "/querier.v1.QuerierService/Series")
    assert request.body == {
        "matchers": ['{service_name="checkout"}'],
        "labelNames": ["service_name", "__profile_type__", "pyroscope_spy"],
        "start": START,
        "end": END,
    }


async def test_services_are_sorted_label_values(start: Start) -> None:
    """LabelValues of service_name, sorted."""
    fake, client = await start(fleet())
    assert await client.services(START, END) == ["cart", "checkout"]
    assert fake.requests[-1].body == {
        "name": "service_name",
        "matchers": [],
        "start": START,
        "end": END,
    }


async def test_flamegraph_round_trip(start: Start) -> None:
    """SelectMergeStacktraces sends ms, maxNodes and the selector; the graph comes back."""
    fake, client = await start(fleet(), max_nodes=4096)
    graph = await client.flamegraph(CPU, label_selector("checkout"), START, END)
    assert graph == parse_connect({"flamegraph": encode_flamegraph(CHECKOUT)})
    request = fake.requests[-1]
    assert request.path == "/querier.v1.QuerierService/SelectMergeStacktraces"
    assert request.body == {
        "profileTypeID": CPU,
        "labelSelector": '{service_name="checkout"}',
        "start": START,
        "end": END,
        "maxNodes": 4096,
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "flamebot/0.1"


async def test_baseline_and_incident_windows_get_their_own_profiles(start: Start) -> None:
    """A source by window serves the baseline before the threshold, the incident after."""
    fake = FakePyroscope({"checkout": {CPU: by_window([(START, BASELINE), (END, CHECKOUT)])}})
    _, client = await start(fake)
    baseline = await client.flamegraph(CPU, label_selector("checkout"), START - 3600000, START)
    incident = await client.flamegraph(CPU, label_selector("checkout"), START, END)
    assert baseline == parse_connect({"flamegraph": encode_flamegraph(BASELINE)})
    assert incident == parse_connect({"flamegraph": encode_flamegraph(CHECKOUT)})


async def test_unknown_service_is_an_empty_graph(start: Start) -> None:
    """No series match: the server answers `{}`, an empty graph."""
    _, client = await start(fleet())
    assert await client.flamegraph(CPU, label_selector("nope"), START, END) == FlameGraph([], [], 0)


async def test_tenant_header_is_sent(start: Start) -> None:
    """With a tenant configured, X-Scope-OrgID carries it."""
    fake, client = await start(fleet(tenant="acme"), tenant="acme")
    assert await client.services(START, END) == ["cart", "checkout"]
    assert fake.requests[-1].headers["X-Scope-OrgID"] == "acme"


async def test_missing_tenant_is_unauthenticated(start: Start) -> None:
    """A multi-tenant server answers 401 without the tenant header."""
    fake, client = await start(fleet(tenant="acme"))
    with pytest.raises(BackendError) as caught:
        await client.services(START, END)
    assert (caught.value.backend, caught.value.reason) == (
        "pyroscope",
        "LabelValues: HTTP 401: no org id",
    )
    assert "X-Scope-OrgID" not in fake.requests[-1].headers


async def test_basic_auth_and_extra_headers(start: Start) -> None:
    """Basic auth from settings, plus the configured extra headers."""
    basic = {"username": "123456", "password": "glc_secret"}
    fake, client = await start(fleet(), basic=basic, headers={"X-Extra": "1"})
    await client.services(START, END)
    token = base64.b64encode(b"123456:glc_secret").decode()
    assert fake.requests[-1].headers["Authorization"] == f"Basic {token}"
    assert fake.requests[-1].headers["X-Extra"] == "1"


async def test_bearer_token(start: Start) -> None:
    """A bearer token (Grafana datasource proxy) goes in Authorization."""
    fake, client = await start(fleet(), bearer_token="glsa_secret")
    await client.services(START, END)
    assert fake.requests[-1].headers["Authorization"] == "Bearer glsa_secret"


async def test_falls_back_to_render_once_connect_is_missing(start: Start) -> None:
    """A 404 on Connect switches to /pyroscope/render for this and later calls."""
    fake, client = await start(fleet(connect=False, legacy_render=True), max_nodes=512)
    expected = parse_connect({"flamegraph": encode_flamegraph(CHECKOUT)})
    assert await client.flamegraph(CPU, label_selector("checkout"), START, END) == expected
    assert await client.flamegraph(CPU, label_selector("checkout"), START, END) == expected
    assert [r.path for r in fake.requests] == [
        "/querier.v1.QuerierService/SelectMergeStacktraces",
        "/pyroscope/render",
        "/pyroscope/render",
    ]
    assert fake.requests[-1].query == {
        "query": CPU + '{service_name="checkout"}',
        "from": str(START),
        "until": str(END),
        "format": "json",
        "max-nodes": "512",
    }


async def test_profile_types_fall_back_to_legacy_label_values(start: Start) -> None:
    """Series 404: `label=__name__` lists the server's profile types, unfiltered by service."""
    fake, client = await start(fleet(connect=False, legacy_render=True))
    assert await client.profile_types("cart", START, END) == ServiceProfiles(EVERY_TYPE)
    assert await client.profile_types("checkout", START, END) == ServiceProfiles(EVERY_TYPE)
    assert [(r.method, r.path, r.query) for r in fake.requests] == [
        ("POST", "/querier.v1.QuerierService/Series", {}),
        ("GET", "/pyroscope/label-values", {"label": "__name__"}),
        ("GET", "/pyroscope/label-values", {"label": "__name__"}),
    ]


async def test_services_fall_back_to_legacy_label_values(start: Start) -> None:
    """LabelValues 404: `label=service_name` lists the services, sorted."""
    fake, client = await start(fleet(connect=False, legacy_render=True))
    assert await client.services(START, END) == ["cart", "checkout"]
    assert [(r.method, r.path, r.query) for r in fake.requests] == [
        ("POST", "/querier.v1.QuerierService/LabelValues", {}),
        ("GET", "/pyroscope/label-values", {"label": "service_name"}),
    ]


async def test_one_404_moves_every_query_to_the_legacy_api(
    start: Start, outcomes: Outcomes
) -> None:
    """After the first Connect 404, services, profile types and graphs ask only legacy routes."""
    fake, client = await start(
        fleet(connect=False, legacy_render=True, tenant="acme"), tenant="acme"
    )
    assert await client.services(START, END) == ["cart", "checkout"]
    assert await client.profile_types("checkout", START, END) == ServiceProfiles(EVERY_TYPE)
    expected = parse_connect({"flamegraph": encode_flamegraph(CHECKOUT)})
    assert await client.flamegraph(CPU, label_selector("checkout"), START, END) == expected
    assert [r.path for r in fake.requests] == [
        "/querier.v1.QuerierService/LabelValues",
        "/pyroscope/label-values",
        "/pyroscope/label-values",
        "/pyroscope/render",
    ]
    assert {r.headers["X-Scope-OrgID"] for r in fake.requests} == {"acme"}
    assert outcomes == [("pyroscope", "error")] + [("pyroscope", "ok")] * 3


async def test_legacy_null_is_no_values(start: Start) -> None:
    """An empty server answers `null` on the legacy route: no services, no profile types."""
    _, client = await start(FakePyroscope(connect=False, legacy_render=True))
    assert await client.services(START, END) == []
    assert await client.profile_types("checkout", START, END) == ServiceProfiles()


async def test_server_without_either_api_names_the_legacy_route(start: Start) -> None:
    """Connect and the legacy route both 404: the reason names the legacy route."""
    _, client = await start(fleet(connect=False))
    with pytest.raises(BackendError) as caught:
        await client.profile_types("checkout", START, END)
    assert (caught.value.backend, caught.value.reason) == ("pyroscope", "label-values: HTTP 404")


@pytest.mark.parametrize("doc", [{"names": ["a"]}, ["a", 1], "a"], ids=["object", "int", "str"])
def test_legacy_label_values_must_be_strings(doc: Any) -> None:
    """Anything but a list of strings (or null) is an invalid response."""
    with pytest.raises(ValueError, match=r"^expected a JSON array of strings$"):
        parse_legacy_label_values(doc)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_refused_connection(start: Start, outcomes: Outcomes) -> None:
    """Nothing listening: the OS error's meaning, never its message (it may hold the URL)."""
    _, client = await start(fleet(), url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(BackendError) as caught:
        await client.services(START, END)
    assert str(caught.value) == "pyroscope: connection refused"
    assert outcomes == [("pyroscope", "error")]


@pytest.mark.parametrize(
    ("knobs", "source", "reason"),
    [
        (
            {"fail_with": 500},
            CHECKOUT,
            "SelectMergeStacktraces: HTTP 500: fake failure: injected by the test",
        ),
        (
            {"fail_with": 502, "garbage": b""},
            CHECKOUT,
            "SelectMergeStacktraces: HTTP 502: fake failure: injected by the test",
        ),
        (
            {"garbage": b"<html>oops</html>"},
            CHECKOUT,
            "invalid response: SelectMergeStacktraces: Expecting value: line 1 column 1 (char 0)",
        ),
        (
            {},
            {"names": ["total"], "levels": [{"values": ["0", "1", "0", "5"]}], "total": "1"},
            "invalid response: SelectMergeStacktraces: "
            "flamegraph.levels[0][3]: name index 5 out of range (1 names)",
        ),
    ],
)
async def test_server_failures_map_to_backend_errors(
    start: Start, outcomes: Outcomes, knobs: dict[str, Any], source: Any, reason: str
) -> None:
    """Non-2xx (with the Connect message), garbage and malformed graphs; no secret leaks."""
    fake = FakePyroscope({"checkout": {CPU: source}}, tenant="acme-tenant", **knobs)
    _, client = await start(fake, tenant="acme-tenant", bearer_token="glsa_secret")
    with pytest.raises(BackendError) as caught:
        await client.flamegraph(CPU, label_selector("checkout"), START, END)
    assert type(caught.value) is BackendError
    assert (caught.value.backend, caught.value.reason) == ("pyroscope", reason)
    assert outcomes == [("pyroscope", "error")]


async def test_secrets_echoed_by_the_server_are_redacted(start: Start) -> None:
    """A server message that repeats the tenant or a credential never reaches the reason."""
    fake = fleet(fail_with=403, fail_message="tenant acme-tenant: token glsa_secret revoked")
    _, client = await start(fake, tenant="acme-tenant", bearer_token="glsa_secret")
    with pytest.raises(BackendError) as caught:
        await client.services(START, END)
    assert caught.value.reason == "LabelValues: HTTP 403: tenant ***: token *** revoked"


async def test_profile_type_the_service_lacks_is_an_empty_graph(start: Start) -> None:
    """No series has that type for the service: an empty graph, not an error."""
    _, client = await start(fleet())
    assert await client.flamegraph(ALLOC, label_selector("cart"), START, END) == FlameGraph(
        [], [], 0
    )


async def test_profile_type_unknown_to_the_server_is_rejected(start: Start) -> None:
    """A profile type no series has (a typo, another runtime's ID) is a 400."""
    _, client = await start(fleet())
    with pytest.raises(BackendError) as caught:
        await client.flamegraph(
            "mutex:delay:nanoseconds:contentions:count", label_selector("cart"), START, END
        )
    assert caught.value.reason == (
        "SelectMergeStacktraces: HTTP 400: unknown profile type"
        " 'mutex:delay:nanoseconds:contentions:count'"
    )


async def test_bad_selector_is_rejected(start: Start) -> None:
    """A selector the server cannot parse is a 400 with the server's message."""
    _, client = await start(fleet())
    with pytest.raises(BackendError) as caught:
        await client.flamegraph(CPU, 'service_name="cart"', START, END)
    assert caught.value.reason == (
        "SelectMergeStacktraces: HTTP 400: parse error at char 1: expected '{'"
    )


async def test_hanging_server_times_out(start: Start, outcomes: Outcomes) -> None:
    """A server slower than timeout_seconds raises BackendTimeoutError."""
    _, client = await start(fleet(delay_seconds=1.0), timeout_seconds=0.1)
    with pytest.raises(BackendTimeoutError) as caught:
        await client.profile_types("checkout", START, END)
    assert str(caught.value) == "pyroscope: Series timed out after 0.1s"
    assert outcomes == [("pyroscope", "timeout")]


async def test_observe_counts_each_request(start: Start, outcomes: Outcomes) -> None:
    """One observation per HTTP request: ok, ok, then error for a rejected query."""
    _, client = await start(fleet())
    await client.services(START, END)
    await client.profile_types("checkout", START, END)
    with pytest.raises(BackendError):
        await client.flamegraph(CPU, 'service_name="cart"', START, END)
    assert outcomes == [("pyroscope", "ok"), ("pyroscope", "ok"), ("pyroscope", "error")]


async def test_observe_counts_the_fallback(start: Start, outcomes: Outcomes) -> None:
    """The 404 that triggers the fallback is an error, the render call is ok."""
    _, client = await start(fleet(connect=False, legacy_render=True))
    await client.flamegraph(CPU, label_selector("checkout"), START, END)
    assert outcomes == [("pyroscope", "error"), ("pyroscope", "ok")]


async def test_hostile_service_name_stays_one_literal(start: Start) -> None:
    """Quotes, braces, backslashes and newlines reach the server as one literal value."""
    fake, client = await start(fleet())
    selector = label_selector(HOSTILE, {"namespace": "a\\b\nc"})
    assert selector == '{service_name="x\\"} or vector(1) #", namespace="a\\\\b\\nc"}'
    assert await client.flamegraph(CPU, selector, START, END) == FlameGraph([], [], 0)
    assert fake.requests[-1].matchers == [
        Matcher("service_name", "=", HOSTILE),
        Matcher("namespace", "=", "a\\b\nc"),
    ]


def test_label_selector_rejects_bad_label_names() -> None:
    """Extra label names must be valid Prometheus names and not repeat service_name."""
    with pytest.raises(ValueError, match="not a usable label name"):
        label_selector("a", {"bad-name": "x"})
    with pytest.raises(ValueError, match="not a usable label name"):
        label_selector("a", {"service_name": "x"})


# --- the fake is strict, like the real server ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"profileTypeID": "cpu", "labelSelector": "{}", "start": START, "end": END},
            "profile-type selection must be of the form "
            "<name>:<sample-type>:<sample-unit>:<period-type>:<period-unit>, got 'cpu'",
        ),
        (
            {
                "profileTypeID": CPU,
                "labelSelector": '{service_name="a}',
                "start": START,
                "end": END,
            },
            "parse error at char 15: unterminated quoted string",
        ),
        (
            {"profileTypeID": CPU, "labelSelector": "service_name=a", "start": START, "end": END},
            "parse error at char 1: expected '{'",
        ),
        (
            {
                "profileTypeID": CPU,
                "labelSelector": "{}",
                "start": START // 1000,
                "end": END // 1000,
            },
            "start: 1732540800 is not in milliseconds (seconds or nanoseconds given)",
        ),
        (
            {
                "profileTypeID": CPU,
                "labelSelector": "{}",
                "start": START * 10**6,
                "end": END * 10**6,
            },
            "start: 1732540800000000000 is not in milliseconds (seconds or nanoseconds given)",
        ),
        (
            {"profileTypeID": CPU, "labelSelector": "{}", "start": END, "end": START},
            "start must be before end",
        ),
        (
            {
                "profileTypeID": CPU,
                "labelSelector": "{}",
                "start": START,
                "end": END,
                "max_nodes": 1,
            },
            "unknown field 'max_nodes'",
        ),
    ],
)
async def test_fake_rejects_what_the_server_rejects(body: dict[str, Any], message: str) -> None:
    """Bad IDs, selectors and windows are Connect invalid_argument errors."""
    async with FakePyroscope({"a": {CPU: CHECKOUT}}) as fake, httpx.AsyncClient() as http:
        url = fake.url + "/querier.v1.QuerierService/SelectMergeStacktraces"
        response = await http.post(url, json=body)
    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid_argument", "message": message},
    )


@pytest.mark.parametrize(
    ("text", "matchers"),
    [
        ("{}", []),
        ('{a="1", b!="2",}', [Matcher("a", "=", "1"), Matcher("b", "!=", "2")]),
        ('{a=~"x.*",b!~"y"}', [Matcher("a", "=~", "x.*"), Matcher("b", "!~", "y")]),
        ('{a="\\x41\\u00e9\\101\\t"}', [Matcher("a", "=", "AéA\t")]),
    ],
)
def test_fake_selector_parser_decodes_go_strings(text: str, matchers: list[Matcher]) -> None:
    """Go escapes (\\x, \\u, octal, \\t) decode to their characters."""
    assert parse_selector(text) == matchers


async def test_fake_answers_like_the_server() -> None:
    """ProfileTypes omits empty fields; Series sorts labels by name, as the captures show."""
    samples = "process_cpu:samples:count::milliseconds"
    fake = FakePyroscope({"a": {CPU: CHECKOUT, samples: CHECKOUT}})
    series_body = {
        "matchers": ['{service_name="a"}'],
        "labelNames": ["service_name", "__profile_type__"],
    }
    async with fake, httpx.AsyncClient(base_url=fake.url + "/querier.v1.QuerierService") as http:
        types = await http.post("/ProfileTypes", json={"start": START, "end": END})
        series = await http.post("/Series", json=series_body | {"start": START, "end": END})
    assert types.json() == {
        "profileTypes": [
            {
                "ID": CPU,
                "name": "process_cpu",
                "sampleType": "cpu",
                "sampleUnit": "nanoseconds",
                "periodType": "cpu",
                "periodUnit": "nanoseconds",
            },
            {
                "ID": samples,
                "name": "process_cpu",
                "sampleType": "samples",
                "sampleUnit": "count",
                "periodUnit": "milliseconds",
            },
        ]
    }
    labels = [
        [{"name": "__profile_type__", "value": ptype}, {"name": "service_name", "value": "a"}]
        for ptype in (CPU, samples)
    ]
    assert series.json() == {"labelsSet": [{"labels": one} for one in labels]}


async def test_fake_legacy_label_values_requires_the_label() -> None:
    """Without `label` the legacy route is a plain-text 400, as the Go handler answers."""
    fake = FakePyroscope({"a": {CPU: CHECKOUT}}, connect=False, legacy_render=True)
    async with fake, httpx.AsyncClient(base_url=fake.url) as http:
        missing = await http.get("/pyroscope/label-values")
        names = await http.get("/pyroscope/label-values", params={"label": "__name__"})
    assert (missing.status_code, missing.text) == (400, "label parameter is required\n")
    assert missing.headers["Content-Type"].startswith("text/plain")
    assert (names.status_code, names.json()) == (200, [CPU])
