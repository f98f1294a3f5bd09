"""`flamebot triage` against the simulated fleet: the JSON contract, the report, exit codes."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from receiver.demo.fleet import DEFAULT_SCENARIO
from receiver.demo.simulation import Simulation
from tests.cli.conftest import flamebot, unused_url, write_config
from tests.cli.fleet_report import FLEET_BLOCKS

SERVICE_KEYS = [
    "service",
    "pyroscope_service",
    "verdict",
    "severity",
    "metrics",
    "hotspot",
    "top",
    "action",
    "evidence",
    "notes",
    "errors",
    # added keys (the contract allows additions only)
    "unseen",
    "truncated",
    "truncated_pct",
    "runtime",
    "runtime_from",
    "units",
    "profile_types",
    "changes",
    "links",
]
# The fleet's (service, verdict, severity), worst first, then the healthy ones by name.
HEALTHY = [
    "account-service",
    "api-gateway",
    "fraud-service",
    "loan-service",
    "notification-service",
    "stream-service",
]
FLEET_ORDER = [
    ("payment-service", "CPU-BOUND", "critical"),
    ("order-service", "LOCK-BOUND", "warning"),
    *((service, "HEALTHY", "ok") for service in HEALTHY),
]
PAYMENT_CPU_TOP = [
    ("com.example.PaymentVerticle.sha256", 34.2, 52.0, 252.396, "seconds", "app"),
    (
        "io.netty.channel.AbstractChannelHandlerContext.write",
        12.0,
        12.0,
        88.56,
        "seconds",
        "library",
    ),
    (
        "io.vertx.core.http.impl.Http1xServerConnection.handleMessage",
        10.0,
        94.8,
        73.8,
        "seconds",
        "library",
    ),
    ("java.security.MessageDigest.getInstance", 9.5, 9.5, 70.11, "seconds", "runtime"),
    ("java.math.BigDecimal.<init>", 8.8, 8.8, 64.944, "seconds", "runtime"),
]


def rounded(value: Any) -> Any:
    """Floats to 6 places, through lists and dicts: exact values without float noise."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def stat_rows(stats: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("function", "self_pct", "total_pct", "value", "unit", "frame_class")
    assert all(list(s) == list(keys) for s in stats)
    return [tuple(s[k] for k in keys) for s in rounded(stats)]


RUNTIME_REASONS = {"pyroscope_spy=javaspy", "metric jvm_gc_collection_seconds_sum"}


def parse_time(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


async def test_triage_json_follows_the_contract(tmp_path: Path, sim_config: Path) -> None:
    """Every service, ranked, with exactly the documented keys and the scenario's numbers."""
    result = await flamebot("triage", "--config", sim_config, "--json", cwd=tmp_path)
    assert (result.code, result.error_lines) == (0, [])
    doc = json.loads(result.stdout)
    assert list(doc) == ["generated_at", "window", "services"]
    generated, start, end = (
        parse_time(doc["generated_at"]),
        parse_time(doc["window"]["from"]),
        parse_time(doc["window"]["to"]),
    )
    assert list(doc["window"]) == ["from", "to"]
    assert end.timestamp() % 30 == 0
    assert timedelta(0) <= generated - end < timedelta(seconds=30)
    assert end - start == timedelta(minutes=15)
    services = doc["services"]
    assert [(s["service"], s["verdict"], s["severity"]) for s in services] == FLEET_ORDER
    assert all(list(s) == SERVICE_KEYS for s in services)
    payment = rounded(services[0])
    assert payment["pyroscope_service"] == "bank-payment-service"
    assert payment["metrics"] == DEFAULT_SCENARIO.services["payment-service"].health.model_dump()
    assert payment["hotspot"] == {
        "function": "com.example.PaymentVerticle.sha256",
        "self_pct": 34.2,
        "baseline_pct": 5.1,
        "profile": "cpu",
        "culprit": "com.example.PaymentVerticle.sha256",
    }
    # Whichever of Pyroscope and Prometheus answers first tells the runtime (a slow Pyroscope
    # must not hold the metrics back), so on a busy machine either reason may be given.
    assert payment["runtime"] == "jvm"
    assert payment["runtime_from"] in RUNTIME_REASONS
    assert sorted(payment["top"]) == ["alloc", "cpu", "wall"]
    assert stat_rows(payment["top"]["cpu"]) == PAYMENT_CPU_TOP
    assert payment["action"] == (
        "optimise com.example.PaymentVerticle.sha256 (algorithm, caching, async offload)"
    )
    assert [(e["key"], e["value"], e["crossed"]) for e in payment["evidence"] if e["crossed"]] == [
        ("cpu", 0.82, True),
        ("critical_cpu", 0.82, True),
    ]
    assert (payment["notes"], payment["errors"]) == ([], [])
    order = rounded(services[1])
    assert order["hotspot"] == {
        "function": "com.example.OrderVerticle.processOrders",
        "self_pct": 71.3,
        "baseline_pct": 41.2,
        "profile": "mutex",
        "culprit": "com.example.OrderVerticle.processOrders",
    }
    assert [s["hotspot"] for s in services[2:]] == [None] * 6


async def test_triage_prints_one_block_per_service(tmp_path: Path, sim_config: Path) -> None:
    """The reference `bottleneck` layout, most severe first; no colour outside a terminal."""
    result = await flamebot("triage", "--config", sim_config, cwd=tmp_path)
    assert (result.code, result.error_lines) == (0, [])
    header, _, rest = result.stdout.partition("\n")
    assert re.fullmatch(
        r"flamebot triage: 8 services, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to \d\d:\d\d:\d\d UTC", header
    )
    assert re.sub(r"Flame graph: \S+", "Flame graph: <link>", rest) == FLEET_BLOCKS
    assert "\x1b" not in result.stdout


async def test_triage_takes_a_host_or_a_pyroscope_name(tmp_path: Path, sim_config: Path) -> None:
    """`--service payment-service` and `--service bank-payment-service` are the same service."""
    by_host = await flamebot("triage", "--config", sim_config, "--json", "--service",
                             "payment-service", cwd=tmp_path)  # fmt: skip
    by_name = await flamebot("triage", "--config", sim_config, "--json", "--service",
                             "bank-payment-service", cwd=tmp_path)  # fmt: skip
    assert (by_host.code, by_name.code) == (0, 0)
    host_services = json.loads(by_host.stdout)["services"]
    assert [(s["service"], s["verdict"]) for s in host_services] == [
        ("payment-service", "CPU-BOUND")
    ]
    # The same service read the same way. The two runs may straddle a 30 s boundary of the
    # window (values in seconds and the links' times differ then) and either backend may
    # have told the runtime first (RUNTIME_REASONS), so those are left out.
    same = ("service", "pyroscope_service", "verdict", "severity", "metrics", "hotspot", "action")
    name_services = json.loads(by_name.stdout)["services"]
    assert [[s[k] for k in same] for s in name_services] == [
        [s[k] for k in same] for s in host_services
    ]
    reasons = {s["runtime_from"] for s in (*host_services, *name_services)}
    assert reasons <= RUNTIME_REASONS


async def test_triage_exits_3_for_an_unknown_service(tmp_path: Path, sim_config: Path) -> None:
    """A name neither Pyroscope nor Prometheus knows: exit 3, said on stderr, empty report."""
    result = await flamebot("triage", "--config", sim_config, "--service", "ledger", cwd=tmp_path)
    as_json = await flamebot(
        "triage", "--config", sim_config, "--service", "ledger", "--json", cwd=tmp_path
    )
    message = (
        "triage: unknown service 'ledger': Pyroscope has no service_name 'ledger'"
        " and Prometheus no instance 'ledger' in the last 15m"
    )
    assert (result.code, result.stdout, result.error_lines) == (3, "", [message])
    assert (as_json.code, as_json.error_lines) == (3, [message])
    assert json.loads(as_json.stdout)["services"] == []


async def test_triage_exits_2_when_prometheus_is_unreachable(
    tmp_path: Path, simulation: Simulation
) -> None:
    """One stderr line, no traceback; JSON from profiles: a lock is LOCK-BOUND, the rest UNKNOWN."""
    url = unused_url()
    config = write_config(tmp_path, url, simulation.pyroscope_url)
    result = await flamebot("triage", "--config", config, "--json", cwd=tmp_path)
    assert result.code == 2
    assert result.error_lines == [f"triage: prometheus unreachable at {url}: connection refused"]
    services = json.loads(result.stdout)["services"]
    assert [(s["service"], s["verdict"], s["severity"]) for s in services] == [
        ("order-service", "LOCK-BOUND", "warning"),
        *[
            (name, "UNKNOWN", "unknown")
            for name in sorted(DEFAULT_SCENARIO.services)
            if name != "order-service"
        ],
    ]
    payment = next(s for s in services if s["service"] == "payment-service")
    assert payment["errors"] == [{"source": "prometheus", "reason": "connection refused"}]
    assert payment["unseen"] == ["prometheus unreachable (connection refused)"]
    assert payment["notes"] == []
    assert set(payment["metrics"].values()) == {None}


async def test_triage_exits_2_when_pyroscope_is_unreachable(
    tmp_path: Path, simulation: Simulation
) -> None:
    """The service map stands in for Pyroscope's list; the verdicts come from the metrics."""
    url = unused_url()
    config = write_config(tmp_path, simulation.prometheus_url, url)
    result = await flamebot("triage", "--config", config, cwd=tmp_path)
    assert result.code == 2
    assert result.error_lines == [f"triage: pyroscope unreachable at {url}: connection refused"]
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[2:6] == [
        "  [!!!] payment-service  →  CPU-BOUND",
        "       Not seen: pyroscope unreachable (connection refused)",
        "       CPU: 0.82 cores  Heap: 45%  GC: 0.012s/s  Threads: 24  Lat: 340ms  Err: 0.0%",
        "       Action:  optimise the hottest function (unknown: no profile data)"
        " (algorithm, caching, async offload)",
    ]
    assert "  [ ! ] order-service  →  I/O-BOUND" in lines


async def test_triage_exits_1_for_a_bad_config(tmp_path: Path) -> None:
    """The config loader's own exit: 1 with the key path."""
    config = tmp_path / "flamebot.yaml"
    config.write_text("prometheus: {url: nowhere}\n")
    result = await flamebot("triage", "--config", config, cwd=tmp_path)
    assert (result.code, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        "config error:",
        "  prometheus.url: must start with http:// or https://",
    ]
