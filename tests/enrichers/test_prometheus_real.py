"""PrometheusClient and the jvm preset against a real Prometheus holding the reference fleet.

Tolerance: the fleet's counters grow linearly and are sampled every 15 s for 31 minutes up
to `evaluated_at`, so the 2m window of `rate()` is covered to both edges and Prometheus'
extrapolation adds nothing; what remains is float rounding of counters near 1e3-1e5
(relative 1e-12 at worst). `rel=1e-9` leaves room for that and nothing else.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web

from enrichers.clients.prometheus import PrometheusClient
from enrichers.errors import BackendError, BackendTimeoutError
from enrichers.presets import GO, JVM
from enrichers.promql import instance_selector, render_query
from enrichers.settings import PrometheusSettings
from tests.support.outcomes import Outcomes
from tests.support.prometheus import HOSTILE_HOST, FleetService, RealPrometheus

REL = 1e-9
NAMES = ("cpu", "heap_ratio", "gc", "threads", "req_per_sec", "error_ratio", "latency_ms")
PAYMENT = dict(zip(NAMES, (0.82, 0.45, 0.012, 24, 50, 0, 340), strict=True))  # CPU-bound
ORDER = dict(zip(NAMES, (0.15, 0.38, 0.004, 80, 20, 0.01, 800), strict=True))  # lock-bound shape
HOSTILE = dict(zip(NAMES, (0.33, 0.61, 0.021, 7, 3, 0.25, 123), strict=True))


@pytest.fixture
def observed() -> Outcomes:
    return Outcomes()


@pytest.fixture
async def client(
    real_prometheus: RealPrometheus, observed: Outcomes
) -> AsyncIterator[PrometheusClient]:
    settings = PrometheusSettings(url=real_prometheus.url, timeout_seconds=10)
    prometheus = PrometheusClient(settings, observe=observed)
    yield prometheus
    await prometheus.aclose()


async def preset_metrics(
    client: PrometheusClient, host: str, at: datetime
) -> dict[str, float | None]:
    selector = instance_selector(host, {})
    return {
        name: await client.query(render_query(template, selector), at)
        for name, template in JVM.queries.items()
    }


def instances(prometheus: RealPrometheus, host: str) -> set[tuple[str, str]]:
    """The (instance, job) pairs the host's selector matches, read with a plain HTTP call."""
    query = f"group by (instance, job) ({{{instance_selector(host, {})}}})"
    params = {"query": query, "time": str(prometheus.evaluated_at.timestamp())}
    body = httpx.get(f"{prometheus.url}/api/v1/query", params=params).json()
    return {(item["metric"]["instance"], item["metric"]["job"]) for item in body["data"]["result"]}


@pytest.mark.parametrize(
    ("host", "expected"),
    [("payment-service", PAYMENT), ("order-service", ORDER)],
    ids=["payment-service", "order-service"],
)
async def test_jvm_preset_reads_each_service_history(
    client: PrometheusClient,
    real_prometheus: RealPrometheus,
    observed: Outcomes,
    host: str,
    expected: dict[str, float],
) -> None:
    """Every jvm preset query returns the service's numbers at the evaluation time."""
    metrics = await preset_metrics(client, host, real_prometheus.evaluated_at)
    assert metrics == pytest.approx(expected, rel=REL)
    assert real_prometheus.expected(host) == pytest.approx(expected, rel=REL)
    assert observed == [("prometheus", "ok")] * 7


def test_selector_matches_the_jvm_and_vertx_targets(real_prometheus: RealPrometheus) -> None:
    """The host's selector matches its JMX exporter on :9404 and its Vert.x app on :8080."""
    assert instances(real_prometheus, "payment-service") == {
        ("payment-service:9404", "jvm"),
        ("payment-service:8080", "vertx-apps"),
    }


async def test_hostile_instance_reads_only_its_own_series(
    client: PrometheusClient, real_prometheus: RealPrometheus
) -> None:
    """A host built to break out of the selector gets its own numbers and nothing else."""
    metrics = await preset_metrics(client, HOSTILE_HOST, real_prometheus.evaluated_at)
    assert metrics == pytest.approx(HOSTILE, rel=REL)
    assert all(HOSTILE[name] != PAYMENT[name] for name in NAMES)
    assert instances(real_prometheus, HOSTILE_HOST) == {
        (f"{HOSTILE_HOST}:9404", "jvm"),
        (f"{HOSTILE_HOST}:8080", "vertx-apps"),
    }


@pytest.mark.parametrize("host", ["checkout-service", "payment", "payment.service", ".*", ""])
async def test_unknown_or_pattern_like_host_matches_nothing(
    client: PrometheusClient, real_prometheus: RealPrometheus, host: str
) -> None:
    """An unknown host, a prefix, or a regex-looking host yields None for every metric."""
    metrics = await preset_metrics(client, host, real_prometheus.evaluated_at)
    assert metrics == dict.fromkeys(JVM.queries, None)


@pytest.mark.parametrize(
    "value", ["line\nbreak\ttab\x00", "\ufffd", "lone\ud800", "nbsp\u00a0😀\U000e0001", "back\\"]
)
async def test_awkward_label_values_parse_on_the_real_prometheus(
    client: PrometheusClient, real_prometheus: RealPrometheus, value: str
) -> None:
    """Control characters, U+FFFD and surrogates in a host or label still make valid PromQL."""
    selector = instance_selector(value, {"namespace": value})
    at = real_prometheus.evaluated_at
    assert await client.query(render_query(JVM.queries["cpu"], selector), at) is None


async def test_go_preset_queries_are_valid_promql(
    client: PrometheusClient, real_prometheus: RealPrometheus
) -> None:
    """Every go preset query parses and runs; on a JVM service only the CPU is found."""
    selector = instance_selector("payment-service", {})
    at = real_prometheus.evaluated_at
    results = {n: await client.query(render_query(q, selector), at) for n, q in GO.queries.items()}
    assert results.pop("cpu") == pytest.approx(0.82, rel=REL)
    assert results == dict.fromkeys(NAMES[1:], None)


async def test_live_scrapes_continue_the_history_series(
    client: PrometheusClient, real_prometheus: RealPrometheus
) -> None:
    """The exporter's samples land on the backfilled series, not on new ones."""
    now = datetime.now(UTC)
    jvm = sum(
        1 for service in real_prometheus.services.values() if isinstance(service, FleetService)
    )
    assert await client.query("count(jvm_threads_current)", now) == jvm == 4
    latest = await client.query("min(timestamp(jvm_threads_current))", now)
    assert latest is not None
    assert latest > real_prometheus.evaluated_at.timestamp()


@pytest.mark.parametrize(
    ("promql", "expected"),
    [
        ('scalar(jvm_threads_current{instance="payment-service:9404"})', 24.0),
        ("1 / 0", None),
        ("0 / 0", None),
        ('label_replace(vector(1) / 0, "a", "x", "", "") or vector(3) or vector(-1)', 3.0),
        ('max by (instance) (jvm_threads_current{job="jvm"})', 80.0),
    ],
)
async def test_query_returns_the_largest_finite_value(
    client: PrometheusClient, real_prometheus: RealPrometheus, promql: str, expected: float | None
) -> None:
    """Scalars count, NaN and Inf are ignored, and a vector gives its largest value."""
    assert await client.query(promql, real_prometheus.evaluated_at) == expected


async def test_range_result_is_an_invalid_answer(
    client: PrometheusClient, real_prometheus: RealPrometheus, observed: Outcomes
) -> None:
    """A query that yields a matrix is reported, not guessed at."""
    with pytest.raises(BackendError) as caught:
        await client.query("jvm_threads_current[1m]", real_prometheus.evaluated_at)
    assert str(caught.value) == "prometheus: unexpected result type: matrix"
    assert observed == [("prometheus", "error")]


async def test_malformed_promql_is_bad_data(
    client: PrometheusClient, real_prometheus: RealPrometheus, observed: Outcomes
) -> None:
    """Prometheus' own error type and message come through."""
    with pytest.raises(BackendError) as caught:
        await client.query("rate(", real_prometheus.evaluated_at)
    assert (caught.value.backend, caught.value.reason) == (
        "prometheus",
        'bad_data: invalid parameter "query": 1:6: parse error: unclosed left parenthesis',
    )
    assert observed == [("prometheus", "error")]


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_refused_port_is_a_connection_failure(observed: Outcomes) -> None:
    """Nothing listening: the OS error's meaning, never its message (it may hold the URL)."""
    settings = PrometheusSettings(url=f"http://127.0.0.1:{refused_port()}", timeout_seconds=2)
    client = PrometheusClient(settings, observe=observed)
    with pytest.raises(BackendError) as caught:
        await client.query("up", datetime.now(UTC))
    await client.aclose()
    assert type(caught.value) is BackendError
    assert str(caught.value) == "prometheus: connection refused"
    assert observed == [("prometheus", "error")]


Handler = Callable[[web.Request], Awaitable[web.Response]]


async def serve(aiohttp_server: Any, handler: Handler) -> str:
    """A local stand-in for Prometheus answering /api/v1/query with `handler`; its URL."""
    app = web.Application()
    app.router.add_post("/api/v1/query", handler)
    server = await aiohttp_server(app)
    return str(server.make_url("/"))


async def test_slow_server_is_a_timeout(aiohttp_server: Any, observed: Outcomes) -> None:
    """An answer later than the client's timeout raises BackendTimeoutError."""
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"status": "success"})

    url = await serve(aiohttp_server, hang)
    settings = PrometheusSettings(url=url, timeout_seconds=0.2)
    client = PrometheusClient(settings, observe=observed)
    try:
        with pytest.raises(BackendTimeoutError) as caught:
            await client.query("up", datetime.now(UTC))
    finally:
        release.set()
        await client.aclose()
    assert str(caught.value) == "prometheus: timed out after 0.2s"
    assert observed == [("prometheus", "timeout")]


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, "<html>maintenance</html>", "invalid response: JSONDecodeError"),
        (200, '{"status": "success"}', "invalid response: no data"),
        (
            200,
            '{"status":"success","data":{"resultType":"vector","result":[{"value":[1,2]}]}}',
            "invalid response: sample [1, 2]",
        ),
        (502, "<html>bad gateway</html>", "HTTP 502 Bad Gateway"),
        (
            503,
            '{"status":"error","errorType":"unavailable","error":"' + "x" * 300 + '"}',
            "unavailable: " + "x" * 186 + "…",
        ),
        (
            422,
            '{"status":"error","errorType":"execution","error":"query timed out"}',
            "execution: query timed out",
        ),
    ],
)
async def test_bad_answers_are_backend_errors(
    aiohttp_server: Any, observed: Outcomes, status: int, body: str, reason: str
) -> None:
    """Garbage, HTTP errors and API errors each map to one readable BackendError."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="application/json")

    url = await serve(aiohttp_server, answer)
    client = PrometheusClient(PrometheusSettings(url=url), observe=observed)
    with pytest.raises(BackendError) as caught:
        await client.query("up", datetime.now(UTC))
    await client.aclose()
    assert (type(caught.value), caught.value.reason) == (BackendError, reason)
    assert observed == [("prometheus", "error")]


@pytest.mark.parametrize(
    ("auth", "authorization"),
    [
        ({"bearer_token": "s3cr3t-token"}, "Bearer s3cr3t-token"),
        (
            {"basic": {"username": "prom", "password": "s3cr3t-pass"}},
            "Basic cHJvbTpzM2NyM3QtcGFzcw==",
        ),
    ],
)
async def test_requests_carry_credentials_that_errors_never_show(
    aiohttp_server: Any, auth: dict[str, Any], authorization: str
) -> None:
    """The client sends its User-Agent, headers and credentials; the error repeats none."""
    seen: list[dict[str, str]] = []

    async def deny(request: web.Request) -> web.Response:
        form = await request.post()
        seen.append({**request.headers, "query": str(form["query"]), "time": str(form["time"])})
        return web.Response(status=401, text="Authorization: " + request.headers["Authorization"])

    url = await serve(aiohttp_server, deny)
    settings = PrometheusSettings.model_validate(
        {"url": url, "headers": {"X-Scope-OrgID": "bank"}, **auth}
    )
    client = PrometheusClient(settings)
    with pytest.raises(BackendError) as caught:
        await client.query("up", datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
    await client.aclose()
    assert str(caught.value) == "prometheus: HTTP 401 Unauthorized"
    assert "s3cr3t" not in repr(caught.value)
    [headers] = seen
    assert (headers["User-Agent"], headers["X-Scope-OrgID"], headers["Authorization"]) == (
        "flamebot/0.1",
        "bank",
        authorization,
    )
    assert (headers["query"], headers["time"]) == ("up", "1767323045.678")
