"""Time to notify: from an Alertmanager webhook to its Slack message, with backends at L ms.

Run by hand: `.venv/bin/python bench/notify.py [--latency-ms 50,200,500] [--alerts 100]
[--rate 10] [--keep]`.

For each latency L: fresh fakes (Prometheus, Pyroscope, Slack; each answers every request
after L ms; see bench/harness.py) and a fresh flamebot process (preset auto, which finds jvm
in the agents' spy label; 8 s deadline, a Slack notifier). After /healthz the benchmark
waits `--settle` seconds: flamebot may warm caches at startup, which is legitimate; those
requests are counted and shown apart. Then it sends N webhooks at a steady rate, each its
own group about its own service (the reference HighCpuUsage alert:
`instance="svc-NNN:9404"`, no `service` label, `service_map` to Pyroscope `bank-svc-NNN`),
so every alert is a cold enrichment, and measures for each the time from the start of its
POST /webhook to the fake Slack receiving its chat.postMessage.

Baselines, measured in the same run against the same fakes:
  - L itself: the physical floor, one backend round trip;
  - sequential: the requests flamebot made for one alert (as the fakes counted them), made
    again one after another, each on a new connection, as a script running curl per query
    would; the median over `--sequential` alerts.
Target: p99 <= 1.5 x L + 100 ms at L = 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from harness import (
    ALERTMANAGER_URL,
    BotStats,
    Fakes,
    Hit,
    by_method,
    firing_alert,
    machine,
    median,
    parse_latencies,
    percentile,
    post_webhook,
    pyroscope_name,
    running_flamebot,
    wait_for,
)

from receiver import payloads

DEADLINE_SECONDS = 8.0
TARGET_LATENCY_MS = 200.0
SELECT = "pyroscope SelectMergeStacktraces"
SERIES = "pyroscope Series"


def target_ms(latency_ms: float) -> float:
    return 1.5 * latency_ms + 100


def reference_alert(service: str) -> dict[str, object]:
    """PRODUCT.md's reference HighCpuUsage webhook, for host `service`."""
    labels = {
        "alertname": "HighCpuUsage",
        "group": "vertx",
        "instance": f"{service}:9404",
        "job": "jvm",
        "severity": "warning",
        "verticle": service,
    }
    alert = firing_alert(labels, f"High CPU on {service}:9404")
    return payloads.group([alert], ("alertname", "instance"), external_url=ALERTMANAGER_URL)


@dataclass
class Run:
    """What one latency's run measured."""

    latency_ms: float
    alerts: int
    startup: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)  # per service: webhook -> Slack
    hits: list[Hit] = field(default_factory=list)  # backend requests while alerts ran
    sequential: list[float] = field(default_factory=list)
    sequential_requests: int = 0
    phases: dict[str, list[float]] = field(default_factory=dict)  # ms after the POST
    slowest: list[tuple[str, float, float, float]] = field(default_factory=list)
    series_after_webhook: int = 0
    in_flight: tuple[int, int] = (0, 0)
    peak_rss_mb: float = 0.0
    stats: BotStats = field(default_factory=lambda: BotStats({}, math.nan))

    def ms(self) -> list[float]:
        return [s * 1000 for s in self.seconds.values()]

    def per_alert(self) -> float:
        return len(self.hits) / self.alerts


async def send_steadily(url: str, services: Sequence[str], rate: float) -> dict[str, float]:
    """One webhook per service, `rate` per second; the perf_counter() each POST started."""
    started: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64)) as client:

        async def one(service: str) -> None:
            started[service], _ = await post_webhook(client, url, reference_alert(service))

        first = time.perf_counter()
        tasks = []
        for n, service in enumerate(services):
            await asyncio.sleep(max(0.0, first + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(service)))
        await asyncio.gather(*tasks)
    return started


def phases(run: Run, started: dict[str, float], arrived: dict[str, float]) -> None:
    """Per alert, when its service's requests reached the fakes, relative to its POST."""
    by_service: dict[str, list[Hit]] = {}
    for hit in run.hits:
        by_service.setdefault(hit.service, []).append(hit)
    found: dict[str, list[float]] = {"first request": [], "first Select": [], "last request": []}
    each = []
    for service, at in started.items():
        hits = by_service.get(service, [])
        if not hits or service not in arrived:
            continue
        first, last = (hits[0].at - at) * 1000, (hits[-1].at - at) * 1000
        found["first request"].append(first)
        found["last request"].append(last)
        selects = [h.at for h in hits if h.name == SELECT]
        if selects:
            found["first Select"].append((selects[0] - at) * 1000)
        run.series_after_webhook += any(h.name == SERIES for h in hits)
        each.append((service, first, last, (arrived[service] - at) * 1000))
    found["Slack"] = [(arrived[s] - started[s]) * 1000 for s in started if s in arrived]
    run.phases = found
    run.slowest = sorted(each, key=lambda row: -row[3])[:3]


async def measure(latency_ms: float, alerts: int, rate: float, args: argparse.Namespace) -> Run:
    services = [f"svc-{n:03d}" for n in range(alerts)]
    run = Run(latency_ms, alerts)
    async with Fakes(latency_ms / 1000, services) as fakes:
        service_map = {s: pyroscope_name(s) for s in services}
        async with running_flamebot(
            fakes, service_map, deadline=DEADLINE_SECONDS, keep=args.keep
        ) as bot:
            await asyncio.sleep(args.settle)
            run.startup = by_method(fakes.hits())
            mark = len(fakes.hits())
            started = await send_steadily(bot.url, services, rate)
            await wait_for(lambda: len(fakes.slack.top_posts()) >= alerts, DEADLINE_SECONDS + 30)
            arrived: dict[str, float] = {}
            for post in fakes.slack.top_posts():
                arrived.setdefault(post.headline()[1], post.at)
            run.seconds = {s: arrived[s] - started[s] for s in services if s in arrived}
            run.hits = fakes.hits()[mark:]
            phases(run, started, arrived)
            run.in_flight = (fakes.prometheus.in_flight.most, fakes.pyroscope.in_flight.most)
            run.stats = await bot.stats()
            run.peak_rss_mb = bot.peak_rss_mb()
        # The sequential baseline: the same requests as one alert, one after another.
        samples = [s for s in services if any(h.service == s for h in run.hits)]
        for service in samples[: args.sequential]:
            hits = [h for h in run.hits if h.service == service]
            run.sequential_requests = len(hits)
            run.sequential.append(await fakes.replay(hits))
    return run


def fmt_counts(counts: Counter[str], per: float = 1.0) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{name} {count / per:g}" for name, count in sorted(counts.items()))


def print_heading(*columns: tuple[str, int]) -> None:
    """A table's column names, each right-aligned to its width, and a rule under them."""
    header = " ".join(f"{name:>{width}}" for name, width in columns)
    print(header)
    print("-" * len(header))


def report(runs: Sequence[Run], args: argparse.Namespace) -> None:
    print()
    print(
        f"time to notify: {args.alerts} alerts at {args.rate:g}/s, each its own group and"
        f" service (cold); auto preset (jvm detected), deadline {DEADLINE_SECONDS:g} s; every"
        " request to the fake Prometheus, Pyroscope and Slack takes L ms"
    )
    print(
        "latency = start of POST /webhook -> fake Slack receives chat.postMessage;"
        " p99 nearest rank; seq = the same requests one after another (median of"
        f" {args.sequential} alerts)"
    )
    print()
    print_heading(
        ("L ms", 5), ("notified", 9), ("req/alert", 9), ("p50 ms", 7), ("p99 ms", 7),
        ("max ms", 7), ("p50/L", 6), ("p99/L", 6), ("seq ms", 7), ("p50/seq", 8),
        ("p99/seq", 8), ("1.5L+100", 9),
    )  # fmt: skip
    for run in runs:
        ms, seq = run.ms(), median(run.sequential) * 1000
        p50, p99 = percentile(ms, 50), percentile(ms, 99)
        verdict = "PASS" if p99 <= target_ms(run.latency_ms) else "MISS"
        print(
            f"{run.latency_ms:>5g} {len(ms):>5}/{run.alerts:<3} {run.per_alert():>9.1f}"
            f" {p50:>7.0f} {p99:>7.0f} {max(ms, default=0):>7.0f}"
            f" {p50 / run.latency_ms:>6.2f} {p99 / run.latency_ms:>6.2f} {seq:>7.0f}"
            f" {p50 / seq:>8.2f} {p99 / seq:>8.2f} {target_ms(run.latency_ms):>5.0f} {verdict}"
        )
    print()
    print("where the time goes (medians over alerts, ms after the alert's POST /webhook):")
    print_heading(
        ("L ms", 5), ("1st request", 12), ("1st Select", 11), ("last request", 13),
        ("Slack", 7), ("enrich (flamebot)", 18), ("Series after webhook", 21),
        ("max in flight prom/pyro", 24),
    )  # fmt: skip
    for run in runs:
        p = {name: median(values) for name, values in run.phases.items()}
        print(
            f"{run.latency_ms:>5g} {p['first request']:>12.0f} {p['first Select']:>11.0f}"
            f" {p['last request']:>13.0f} {p['Slack']:>7.0f} {run.stats.enrichment_mean_ms:>18.0f}"
            f" {run.series_after_webhook:>15}/{run.alerts:<5}"
            f" {run.in_flight[0]:>19}/{run.in_flight[1]:<4}"
        )
    print()
    print("slowest alerts (ms after the POST: first request, last request, Slack):")
    for run in runs:
        slow = "; ".join(f"{s} {a:.0f}/{b:.0f}/{c:.0f}" for s, a, b, c in run.slowest)
        print(f"  L={run.latency_ms:g} ms: {slow}")
    print()
    print("backend requests per alert (counted at the fakes) and before the first webhook:")
    for run in runs:
        print(
            f"  L={run.latency_ms:g} ms: per alert: {fmt_counts(by_method(run.hits), run.alerts)}"
            f" | at startup ({args.settle:g} s after /healthz): {fmt_counts(run.startup)}"
            f" | replayed sequentially per alert: {run.sequential_requests}"
        )
        print(
            f"    flamebot_backend_requests_total: {run.stats.outcomes_line()};"
            f" peak RSS {run.peak_rss_mb:.0f} MB"
        )
    print()
    chosen = next((r for r in runs if r.latency_ms == TARGET_LATENCY_MS), None)
    if chosen is None:
        print(f"target: p99 <= 1.5 x L + 100 ms at L = {TARGET_LATENCY_MS:g} ms: not run")
        chosen = runs[-1]
    else:
        p99 = percentile(chosen.ms(), 99)
        limit = target_ms(TARGET_LATENCY_MS)
        verdict = "PASS" if p99 <= limit else "MISS"
        print(
            f"target: p99 <= 1.5 x L + 100 ms at L = {TARGET_LATENCY_MS:g} ms:"
            f" p99 {p99:.0f} ms vs {limit:.0f} ms: {verdict}"
        )
    p99, seq = percentile(chosen.ms(), 99), median(chosen.sequential) * 1000
    print(
        f"ratio: at L = {chosen.latency_ms:g} ms, p99 = {p99 / chosen.latency_ms:.2f} x L"
        f" and {p99 / seq:.2f} x the sequential baseline ({seq:.0f} ms for"
        f" {chosen.sequential_requests} requests)"
    )


async def main(args: argparse.Namespace) -> None:
    print(machine(), flush=True)
    runs = []
    for latency_ms in parse_latencies(args.latency_ms or ["50,200,500"]):
        started = time.perf_counter()
        run = await measure(latency_ms, args.alerts, args.rate, args)
        ms = run.ms()
        print(
            f"L = {latency_ms:g} ms: {len(ms)}/{args.alerts} notified, p50"
            f" {percentile(ms, 50):.0f} ms, p99 {percentile(ms, 99):.0f} ms"
            f" ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        runs.append(run)
    report(runs, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--latency-ms", action="append", help="backend latency; repeatable or a comma list"
    )
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0, help="webhooks per second")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after /healthz")
    parser.add_argument("--sequential", type=int, default=5, help="alerts replayed in sequence")
    parser.add_argument("--keep", action="store_true", help="keep flamebot's directory and log")
    asyncio.run(main(parser.parse_args()))
