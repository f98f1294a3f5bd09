"""The reference bank fleet as the demo simulates it (PRODUCT.md §2).

Eight Vert.x services, `bank-<name>` in Pyroscope. Two are sick:

- payment-service is CPU-bound: `PaymentVerticle.sha256` went from 5.1% of CPU self-time in
  the baseline window to 34.2% in the incident window (0.82 cores);
- order-service is lock-bound: `OrderVerticle.processOrders` holds 71.3% of the lock
  contentions, requests take 800 ms, CPU is low.

The others are healthy. Frame names are JFR's (`/` package separators), as the Pyroscope
Java agent stores them. Shares below are per mille of a window's total in the profile's
unit: CPU and wall time in nanoseconds, allocations in bytes, lock contentions counted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from receiver.demo.scenario import DemoAlert, Profile, Scenario, ServiceHealth, SimulatedService

__all__ = ["DEFAULT_SCENARIO", "FLEET", "NOW"]

NOW = datetime(2026, 11, 25, 17, 26, 30, tzinfo=UTC)
WINDOW_NS = 15 * 60 * 1e9

RUN = "java/lang/Thread.run;io/vertx/core/impl/ContextImpl.run"
HTTP = f"{RUN};io/vertx/core/http/impl/Http1xServerConnection.handleMessage"
SELECT = f"{RUN};io/netty/channel/nio/NioEventLoop.select"
WRITE = f"{HTTP};io/netty/channel/AbstractChannelHandlerContext.write"
ENCODE = f"{HTTP};io/vertx/core/json/JsonObject.encode"
GC = "JVM;G1ParEvacuateFollowersClosure::do_void"
JSON_ALLOC = f"{HTTP};io/vertx/core/json/JsonObject.<init>"
BUFFER_ALLOC = f"{HTTP};io/vertx/core/buffer/impl/BufferImpl.<init>"

PAY = f"{HTTP};com/example/PaymentVerticle.handleTransfer"
SHA = f"{PAY};com/example/PaymentVerticle.sha256"
BIG_DECIMAL = f"{PAY};java/math/BigDecimal.<init>"
# (stack, incident share, baseline share): sha256's own time rises from 5.1% to 34.2%.
PAYMENT_CPU = (
    (SHA, 342, 51),
    (f"{SHA};java/security/MessageDigest.getInstance", 95, 60),
    (f"{SHA};java/security/MessageDigest.digest", 61, 40),
    (f"{SHA};java/lang/String.format", 22, 15),
    (BIG_DECIMAL, 88, 150),
    (ENCODE, 70, 160),
    (WRITE, 120, 230),
    (GC, 52, 90),
    (PAY, 50, 54),
    (HTTP, 100, 150),
)
PAYMENT_ALLOC = {
    BIG_DECIMAL: 121,
    BUFFER_ALLOC: 110,
    f"{SHA};java/util/Arrays.copyOf": 105,
    JSON_ALLOC: 100,
    f"{PAY};java/lang/StringBuilder.toString": 95,
    f"{HTTP};java/util/HashMap.resize": 90,
    f"{SHA};java/lang/String.format;java/util/Formatter.format": 85,
    f"{WRITE};io/netty/buffer/PooledByteBufAllocator.newDirectBuffer": 80,
    f"{PAY};java/util/ArrayList.grow": 75,
    f"{PAY};com/example/PaymentVerticle.buildReceipt": 70,
    f"{SHA};java/lang/Integer.toHexString": 69,
}

ORDER = f"{HTTP};com/example/OrderVerticle.handleOrder"
PROCESS = f"{ORDER};com/example/OrderVerticle.processOrders"
# (stack, incident share, baseline share): the lock in processOrders, contended 24x more.
ORDER_MUTEX = (
    (PROCESS, 713, 412),
    (f"{ORDER};com/example/OrderVerticle.updateInventory", 122, 250),
    (f"{ORDER};java/util/concurrent/ConcurrentHashMap.putVal", 95, 200),
    (f"{RUN};java/util/logging/StreamHandler.publish", 70, 138),
)


def folded(unit: float, shares: dict[str, int]) -> list[str]:
    """Stack lines with values `per_mille * unit`; the shares add up to 1000."""
    if sum(shares.values()) != 1000:
        raise ValueError(f"shares add up to {sum(shares.values())}, not 1000: {shares}")
    return [f"{stack} {round(per_mille * unit)}" for stack, per_mille in shares.items()]


def _windows(unit: tuple[float, float], table: tuple[tuple[str, int, int], ...]) -> Profile:
    """A profile from (stack, incident share, baseline share) rows and the window totals."""
    incident = folded(unit[0] / 1000, {stack: now for stack, now, _ in table})
    baseline = folded(unit[1] / 1000, {stack: before for stack, _, before in table})
    return Profile(incident=incident, baseline=baseline)


def _health(*values: float) -> ServiceHealth:
    """cpu (cores), heap ratio, gc (s/s), threads, req/s, error ratio, latency (ms)."""
    return ServiceHealth.model_validate(dict(zip(ServiceHealth.model_fields, values, strict=True)))


def _payment() -> SimulatedService:
    return SimulatedService(
        pyroscope_service="bank-payment-service",
        verticle="payment",
        health=_health(0.82, 0.45, 0.012, 24, 50, 0.0, 340),
        profiles={
            "cpu": _windows((0.82 * WINDOW_NS, 0.3 * WINDOW_NS), PAYMENT_CPU),
            "alloc": Profile(incident=folded(4.3e6, PAYMENT_ALLOC)),
            "wall": Profile(
                incident=folded(
                    24 * WINDOW_NS / 1000, {SELECT: 640, SHA: 250, BIG_DECIMAL: 40, HTTP: 70}
                )
            ),
        },
    )


def _order() -> SimulatedService:
    cpu = {PROCESS: 120, ENCODE: 200, WRITE: 260, HTTP: 220, GC: 100, ORDER: 100}
    alloc = {
        JSON_ALLOC: 300,
        f"{PROCESS};java/util/ArrayList.grow": 250,
        PROCESS: 250,
        f"{ORDER};java/lang/StringBuilder.toString": 200,
    }
    return SimulatedService(
        pyroscope_service="bank-order-service",
        verticle="order",
        health=_health(0.15, 0.38, 0.004, 80, 20, 0.01, 800),
        profiles={
            "cpu": Profile(incident=folded(0.15 * WINDOW_NS / 1000, cpu)),
            "alloc": Profile(incident=folded(1.2e6, alloc)),
            "mutex": _windows((48_000, 2_000), ORDER_MUTEX),
            "wall": Profile(
                incident=folded(80 * WINDOW_NS / 1000, {PROCESS: 560, SELECT: 300, HTTP: 140})
            ),
        },
    )


def _healthy(host: str, function: str, *health: float) -> SimulatedService:
    """Nothing to report: low CPU, quick answers, no lock contention."""
    verticle = host.removeprefix("api-").removesuffix("-service")
    name = "MainVerticle" if verticle == "gateway" else f"{verticle.title()}Verticle"
    app = f"{HTTP};com/example/{name}.handle;com/example/{name}.{function}"
    cpu = {app: 220, ENCODE: 180, WRITE: 250, HTTP: 200, GC: 80, RUN: 70}
    alloc = {
        JSON_ALLOC: 350,
        BUFFER_ALLOC: 300,
        app: 200,
        f"{app};java/lang/StringBuilder.toString": 150,
    }
    wall = {SELECT: 800, app: 120, HTTP: 80}
    cores, threads = health[0], health[3]
    return SimulatedService(
        pyroscope_service=f"bank-{host}",
        verticle=verticle,
        health=_health(*health),
        profiles={
            "cpu": Profile(incident=folded(cores * WINDOW_NS / 1000, cpu)),
            "alloc": Profile(incident=folded(9e5, alloc)),
            "wall": Profile(incident=folded(threads * WINDOW_NS / 1000, wall)),
        },
    )


_ALERTS = [
    DemoAlert(
        alertname="HighCpuUsage",
        instance="payment-service:9404",
        job="jvm",
        verticle="payment",
        summary="High CPU on payment-service:9404",
        description="Process CPU usage is 82% for payment-service:9404",
        runbook="Check Pyroscope CPU flame graph for hot methods. See docs/runbook.md#high-cpu",
        expr='rate(process_cpu_seconds_total{job="jvm"}[2m]) > 0.8',
        fingerprint="9104213f783bb988",
        seconds_firing=58,
    ),
    DemoAlert(
        alertname="HighLatency",
        instance="order-service:8080",
        job="vertx-apps",
        verticle="order",
        summary="Slow responses on order-service:8080",
        description="Slowest response on order-service:8080 took 2.4 s",
        runbook="Check the mutex and wall-clock flame graphs. See docs/runbook.md#high-latency",
        expr='vertx_http_server_response_time_seconds_max{job="vertx-apps"} > 2',
        fingerprint="4c1d7a2e90b35f61",
        seconds_firing=148,
    ),
]

_HEALTHY = {
    # host: (hot function, cpu, heap ratio, gc, threads, req/s, error ratio, latency ms)
    "api-gateway": ("proxyRequest", 0.18, 0.41, 0.005, 28, 140, 0, 35),
    "fraud-service": ("scoreTransaction", 0.12, 0.36, 0.004, 22, 45, 0, 48),
    "account-service": ("getBalance", 0.07, 0.33, 0.003, 20, 60, 0, 22),
    "loan-service": ("calculateInterest", 0.09, 0.39, 0.004, 21, 12, 0, 64),
    "notification-service": ("renderTemplate", 0.05, 0.31, 0.002, 18, 8, 0, 90),
    "stream-service": ("publishEvent", 0.11, 0.44, 0.006, 26, 30, 0, 27),
}
_SICK = {"order-service": _order(), "payment-service": _payment()}
# The reference's order of services.
FLEET = (
    "api-gateway",
    "order-service",
    "payment-service",
    "fraud-service",
    "account-service",
    "loan-service",
    "notification-service",
    "stream-service",
)

DEFAULT_SCENARIO = Scenario(
    now=NOW,
    services={
        host: _SICK[host] if host in _SICK else _healthy(host, *_HEALTHY[host]) for host in FLEET
    },
    alerts=_ALERTS,
)
