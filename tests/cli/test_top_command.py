"""`flamebot top`: ranked functions of one profile type, against the simulated fleet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from receiver.commands.top import format_value
from receiver.demo.simulation import Simulation
from tests.cli.conftest import flamebot, unused_url, write_config

ORDER_MUTEX_TABLE = """\
profile type mutex:contentions:count:mutex:count: 48,000 in total

   #   self %  total %          value  class    function
   1    71.3%    71.3%         34,224  app      com.example.OrderVerticle.processOrders
   2    12.2%    12.2%          5,856  app      com.example.OrderVerticle.updateInventory
   3     9.5%     9.5%          4,560  runtime  java.util.concurrent.ConcurrentHashMap.putVal
"""


async def test_top_json_is_one_ranked_list(tmp_path: Path, sim_config: Path) -> None:
    """`--json` prints the `top` list of the contract: self and total %, value, unit, class."""
    result = await flamebot(
        "top", "cpu", "payment-service", "--config", sim_config, "-n", "2", "--json", cwd=tmp_path
    )
    assert (result.code, result.error_lines) == (0, [])
    assert json.loads(result.stdout) == [
        {
            "function": "com.example.PaymentVerticle.sha256",
            "self_pct": pytest.approx(34.2),
            "total_pct": pytest.approx(52.0),
            "value": pytest.approx(252.396),
            "unit": "seconds",
            "frame_class": "app",
        },
        {
            "function": "io.netty.channel.AbstractChannelHandlerContext.write",
            "self_pct": pytest.approx(12.0),
            "total_pct": pytest.approx(12.0),
            "value": pytest.approx(88.56),
            "unit": "seconds",
            "frame_class": "library",
        },
    ]


async def test_top_prints_a_table_in_the_profile_unit(tmp_path: Path, sim_config: Path) -> None:
    """Mutex contentions are counts; the header names the service, window and profile type."""
    result = await flamebot(
        "top", "mutex", "order-service", "--config", sim_config, "-n", "3", cwd=tmp_path
    )
    assert (result.code, result.error_lines) == (0, [])
    header, _, table = result.stdout.partition("\n")
    assert re.fullmatch(r"top mutex of bank-order-service, \S+ \S+ to \S+ UTC", header), header
    assert table == ORDER_MUTEX_TABLE


async def test_memory_is_an_alias_of_alloc(tmp_path: Path, sim_config: Path) -> None:
    """`top memory` and `top alloc` print the same allocation profile."""
    args = ("bank-payment-service", "--config", sim_config, "--json")
    memory = await flamebot("top", "memory", *args, cwd=tmp_path)
    alloc = await flamebot("top", "alloc", *args, cwd=tmp_path)
    assert (memory.code, alloc.code) == (0, 0)
    assert memory.stdout == alloc.stdout
    first = json.loads(alloc.stdout)[0]
    assert (first["function"], first["unit"], first["value"]) == (
        "java.math.BigDecimal.<init>",
        "bytes",
        520_300_000.0,
    )


async def test_top_says_when_the_service_lacks_the_profile(
    tmp_path: Path, sim_config: Path
) -> None:
    """payment-service has no lock contention: an empty list and a note, exit 0."""
    result = await flamebot(
        "top", "mutex", "payment-service", "--config", sim_config, "--json", cwd=tmp_path
    )
    assert (result.code, json.loads(result.stdout)) == (0, [])
    assert result.error_lines == [
        "top: bank-payment-service has no mutex profile (it has:"
        " memory:alloc_in_new_tlab_bytes:bytes:space:bytes,"
        " process_cpu:cpu:nanoseconds:cpu:nanoseconds, wall:wall:nanoseconds:wall:nanoseconds)"
    ]


async def test_top_exits_3_for_an_unknown_service(tmp_path: Path, sim_config: Path) -> None:
    """No profiles at all for the name: exit 3 and the reason."""
    result = await flamebot("top", "cpu", "ledger", "--config", sim_config, cwd=tmp_path)
    assert (result.code, result.stdout) == (3, "")
    assert result.error_lines == [
        "top: unknown service 'ledger': Pyroscope has no profiles for it in the last 15m"
    ]


async def test_top_exits_2_when_pyroscope_is_unreachable(
    tmp_path: Path, simulation: Simulation
) -> None:
    """One readable line, no traceback, `[]` for `--json`."""
    url = unused_url()
    config = write_config(tmp_path, simulation.prometheus_url, url)
    result = await flamebot(
        "top", "cpu", "payment-service", "--config", config, "--json", cwd=tmp_path
    )
    assert (result.code, json.loads(result.stdout)) == (2, [])
    assert result.error_lines == [f"top: pyroscope unreachable at {url}: connection refused"]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (252.396, "seconds", "252.40 s"),
        (72_000.0, "seconds", "72,000.00 s"),
        (512.0, "bytes", "512 B"),
        (520_300_000.0, "bytes", "496.2 MiB"),
        (4.3e9, "bytes", "4.0 GiB"),
        (34_224.0, "count", "34,224"),
        (7.0, "objects", "7 objects"),
    ],
)
def test_values_are_shown_in_the_profile_unit(value: float, unit: str, text: str) -> None:
    """Seconds with two decimals, bytes in binary units, counts with separators."""
    assert format_value(value, unit) == text
