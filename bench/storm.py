"""An alert storm: 1,000 alerts about 20 services in 50 webhooks within 10 s, backends at L ms.

Run by hand: `.venv/bin/python bench/storm.py [--latency-ms 200] [--keep]`.

Grouping, as Alertmanager does with `group_by: [alertname, service]`: each webhook is one
group of 20 alerts with one alert name about one service; its alerts differ by `pod` and
carry `service`, `namespace`, `job` and `severity` labels. Webhook k (k = 0..49) is about
service k mod 20 with alert name k div 20 (HighCpuUsage, HighHeapUsage, HighGcPauseRate), so
the first 20 webhooks reach every service once and the last 30 are more groups about
services already seen; they are sent evenly over the 10 s (one every 0.2 s).

One fresh flamebot (preset auto, which finds jvm in the agents' spy label; 8 s deadline, a
Slack notifier) against fakes that answer every request after L ms (bench/harness.py), cold:
no webhook has reached it before. After /healthz and a settle pause (startup cache warming
is legitimate, counted apart), the baseline is measured first in the same process: a single
alert about one extra service, whose backend requests are what one service needs alone and
whose time is the single-alert time. Then the storm. Reported: backend requests in total and
per service (target: at most 20 x the single service's count), Slack messages posted (50
expected), results degraded by the deadline (target: none), flamebot's peak RSS (VmHWM) and
the time from the first webhook to the last Slack message; ratios against the per-alert
approach (1,000 x the single service's requests) and the single-alert time."""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import httpx
from harness import (
    ALERTMANAGER_URL,
    ALL_SERVICES,
    BotStats,
    Fakes,
    Hit,
    SlackPost,
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
ALERT_NAMES = ("HighCpuUsage", "HighHeapUsage", "HighGcPauseRate", "HighErrorRate", "HighLatency")
DEADLINE_WORDING = "deadline"  # "no answer within the 8 s deadline" (enrichers/collect.py)
PARTIAL_WORDING = "partial data"  # "verdict from partial data" (notifiers/summary.py)
SOLO = "svc-extra"


def group(alertname: str, service: str, size: int) -> dict[str, Any]:
    """One Alertmanager group (group_by: [alertname, service]) of `size` alerts, by pod."""
    alerts = []
    for n in range(size):
        pod = f"{service}-{n:02d}"
        labels = {
            "alertname": alertname,
            "service": service,
            "namespace": "bank",
            "pod": pod,
            "job": "jvm",
            "severity": "warning",
        }
        alerts.append(firing_alert(labels, f"{alertname} on {pod}"))
    return payloads.group(alerts, ("alertname", "service"), external_url=ALERTMANAGER_URL)


def storm_groups(services: Sequence[str], webhooks: int, size: int) -> list[dict[str, Any]]:
    names = [ALERT_NAMES[(k // len(services)) % len(ALERT_NAMES)] for k in range(webhooks)]
    return [group(names[k], services[k % len(services)], size) for k in range(webhooks)]


def counts(hits: Sequence[Hit]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(by_method(hits).items()))


def crosses_bucket(first: float, last: float) -> bool:
    """Whether two wall-clock times fall in different 30 s windows (the cache's resolution)."""
    return int(first // 30) != int(last // 30)


class Storm:
    """The measurements of one run."""

    def __init__(self, latency_ms: float) -> None:
        self.latency_ms = latency_ms
        self.startup: list[Hit] = []
        self.single_hits: list[Hit] = []
        self.single_seconds = 0.0
        self.hits: list[Hit] = []
        self.posts: list[SlackPost] = []
        self.started: dict[tuple[str, str], float] = {}  # per group: POST started
        self.answered: dict[tuple[str, str], float] = {}  # per group: its 200 arrived
        self.first_wall = self.last_wall = 0.0
        self.rss_before_mb = self.peak_rss_mb = 0.0
        self.in_flight = (0, 0)
        self.stats = BotStats({}, math.nan)


async def single_alert(fakes: Fakes, url: str, run: Storm) -> None:
    """The baseline: one alert about one more service, alone, on the fresh instance."""
    mark = len(fakes.hits())
    async with httpx.AsyncClient(timeout=30) as client:
        started, _ = await post_webhook(client, url, group(ALERT_NAMES[0], SOLO, 1))
    await wait_for(lambda: len(fakes.slack.top_posts()) >= 1, DEADLINE_SECONDS + 30)
    posts = fakes.slack.top_posts()
    if not posts:
        raise SystemExit("the single alert was not notified")
    run.single_seconds = posts[0].at - started
    await asyncio.sleep(1.0)  # anything it still asks for counts too
    run.single_hits = fakes.hits()[mark:]


async def send_storm(url: str, groups: Sequence[dict[str, Any]], window: float, run: Storm) -> None:
    """Each webhook at its slot: evenly over `window` seconds."""
    limits = httpx.Limits(max_connections=len(groups))
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one(body: dict[str, Any]) -> None:
            key = (body["groupLabels"]["alertname"], body["groupLabels"]["service"])
            run.started[key], run.answered[key] = await post_webhook(client, url, body)

        first = time.perf_counter()
        run.first_wall = time.time()
        tasks = []
        for k, body in enumerate(groups):
            await asyncio.sleep(max(0.0, first + k * window / len(groups) - time.perf_counter()))
            tasks.append(asyncio.create_task(one(body)))
        run.last_wall = time.time()
        await asyncio.gather(*tasks)


async def measure(args: argparse.Namespace, latency_ms: float) -> Storm:
    services = [f"svc-{n:02d}" for n in range(args.services)]
    size = args.alerts // args.webhooks
    groups = storm_groups(services, args.webhooks, size)
    run = Storm(latency_ms)
    async with Fakes(latency_ms / 1000, [*services, SOLO]) as fakes:
        service_map = {s: pyroscope_name(s) for s in [*services, SOLO]}
        async with running_flamebot(
            fakes, service_map, deadline=DEADLINE_SECONDS, keep=args.keep
        ) as bot:
            await asyncio.sleep(args.settle)
            run.startup = fakes.hits()
            await single_alert(fakes, bot.url, run)
            run.rss_before_mb = bot.rss_mb()
            mark, posted = len(fakes.hits()), len(fakes.slack.top_posts())
            if args.across_boundary:  # start 5 s before a :00/:30 boundary of the clock
                await asyncio.sleep((25 - time.time() % 30) % 30)
            await send_storm(bot.url, groups, args.window, run)
            expected = posted + len(groups)
            await wait_for(lambda: len(fakes.slack.top_posts()) >= expected, DEADLINE_SECONDS + 60)
            await asyncio.sleep(1.0)  # late requests and duplicate posts count too
            run.hits = fakes.hits()[mark:]
            run.posts = fakes.slack.top_posts()[posted:]
            run.peak_rss_mb = bot.peak_rss_mb()
            run.in_flight = (fakes.prometheus.in_flight.most, fakes.pyroscope.in_flight.most)
            run.stats = await bot.stats()
    return run


def per_service_table(run: Storm, args: argparse.Namespace) -> None:
    """Requests per service and method; `windows`: distinct incident window ends asked of
    Prometheus (the cache key has the window end rounded down to 30 s)."""
    groups_of = Counter(service for _, service in run.started)
    methods = sorted(by_method(run.hits))
    short = [m.replace("pyroscope ", "").replace("prometheus ", "prom ") for m in methods]
    header = f"{'service':>10} {'webhooks':>9} " + " ".join(f"{m:>22}" for m in short)
    header += f" {'total':>6} {'windows':>8}"
    print(header)
    print("-" * len(header))
    services = sorted({h.service for h in run.hits} | set(groups_of))
    for service in services:
        hits = [h for h in run.hits if h.service == service]
        mine = by_method(hits)
        row = " ".join(f"{mine.get(m, 0):>22}" for m in methods)
        label = "(all)" if service == ALL_SERVICES else service
        windows = len({h.body.get("time") for h in hits if h.backend == "prometheus"})
        print(f"{label:>10} {groups_of.get(service, 0):>9} {row} {len(hits):>6} {windows:>8}")


def report(run: Storm, args: argparse.Namespace) -> None:
    single = len(run.single_hits)
    total = len(run.hits)
    per_service = [sum(1 for h in run.hits if h.service == s) for s in {s for _, s in run.started}]
    deadline = sum(1 for p in run.posts if p.says(DEADLINE_WORDING))
    partial = sum(1 for p in run.posts if p.says(PARTIAL_WORDING))
    arrived: dict[tuple[str, str], float] = {}
    for post in run.posts:
        arrived.setdefault(post.headline(), post.at)
    waits = [(arrived[k] - at) * 1000 for k, at in run.started.items() if k in arrived]
    intake = [(run.answered[k] - at) * 1000 for k, at in run.started.items()]
    first = min(run.started.values())
    last_message = max((p.at for p in run.posts), default=float("nan"))
    span = last_message - first
    drain = last_message - max(run.started.values())
    limit = args.services * single  # the target: requests per service, not per alert

    print()
    print(
        f"storm: {args.alerts} alerts, {args.services} services, {args.webhooks} webhooks"
        f" (group_by [alertname, service], {args.alerts // args.webhooks} alerts each) over"
        f" {args.window:g} s; auto preset (jvm detected), deadline {DEADLINE_SECONDS:g} s;"
        f" every request to the fake Prometheus, Pyroscope and Slack takes {run.latency_ms:g} ms"
    )
    print(
        f"startup ({args.settle:g} s after /healthz, before any webhook):"
        f" {counts(run.startup) or 'no backend requests'}"
    )
    print(
        f"baseline, single alert about {SOLO} on the fresh instance:"
        f" {run.single_seconds * 1000:.0f} ms webhook -> Slack, {single} backend requests"
        f" ({counts(run.single_hits)})"
    )
    print()
    per_service_table(run, args)
    print()
    rows = [
        ("backend requests, total", f"{total}", f"<= {args.services} x {single} = {limit}",
         total <= limit),
        ("  / requests of one service alone", f"{total / single:.1f}",
         f"<= {args.services}", total <= limit),
        ("  per service, median / max",
         f"{median(per_service):g} / {max(per_service, default=0)}", "", None),
        ("  per alert", f"{total / args.alerts:.3f}", "", None),
        ("Slack messages posted", f"{len(run.posts)}", f"{args.webhooks}",
         len(run.posts) == args.webhooks),
        ("degraded by the deadline", f"{deadline}", "0", deadline == 0),
        ("partial (any source failed)", f"{partial}", "", None),
        ("peak RSS (VmHWM)", f"{run.peak_rss_mb:.0f} MB",
         f"RSS before: {run.rss_before_mb:.0f} MB", None),
        ("first webhook -> last Slack message", f"{span:.2f} s", "", None),
        ("last webhook -> last Slack message", f"{drain * 1000:.0f} ms", "", None),
        ("webhook POST answered in, p50 / max",
         f"{percentile(intake, 50):.0f} / {max(intake, default=0):.0f} ms", "", None),
        ("backend requests arrived, first / last",
         f"{(run.hits[0].at - first) * 1000:.0f} / {(run.hits[-1].at - first) * 1000:.0f} ms"
         if run.hits else "none", "after the 1st POST", None),
        ("enrichment mean, whole run (flamebot)", f"{run.stats.enrichment_mean_ms:.0f} ms", "",
         None),
        ("webhook -> its message, p50 / p99",
         f"{percentile(waits, 50):.0f} / {percentile(waits, 99):.0f} ms", "", None),
        ("max requests in flight, prom / pyro", f"{run.in_flight[0]} / {run.in_flight[1]}",
         "", None),
        ("storm crossed a 30 s window boundary",
         "yes" if crosses_bucket(run.first_wall, run.last_wall) else "no", "", None),
    ]  # fmt: skip
    print(f"{'measure':<38} {'value':>14}  {'target':<22} check")
    print("-" * 82)
    for name, value, target, ok in rows:
        check = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"{name:<38} {value:>14}  {target:<22} {check}")
    print(f"flamebot_backend_requests_total (whole run): {run.stats.outcomes_line()}")
    print()
    per_alert = args.alerts * single
    p99 = percentile(waits, 99) / 1000
    print(
        f"ratio: backend requests {total} = {total / per_alert:.3f} x the per-alert approach"
        f" ({args.alerts} x {single} = {per_alert}); time {span:.2f} s ="
        f" {span / run.single_seconds:.1f} x the single-alert time"
        f" ({run.single_seconds * 1000:.0f} ms), of which the webhooks' own spread is"
        f" {args.window:g} s; per group, p99 webhook -> message ="
        f" {p99 / run.single_seconds:.2f} x the single-alert time"
    )


async def main(args: argparse.Namespace) -> None:
    print(machine(), flush=True)
    for latency_ms in parse_latencies(args.latency_ms or ["200"]):
        report(await measure(args, latency_ms), args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", action="append", help="backend latency (default 200)")
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--webhooks", type=int, default=50)
    parser.add_argument("--window", type=float, default=10.0, help="seconds the webhooks span")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after /healthz")
    parser.add_argument("--keep", action="store_true", help="keep flamebot's directory and log")
    parser.add_argument(
        "--across-boundary",
        action="store_true",
        help="start the storm 5 s before a :00/:30 boundary (the cache's 30 s resolution)",
    )
    asyncio.run(main(parser.parse_args()))
