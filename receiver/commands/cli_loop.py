"""The command line of the rest of the incident loop (PRODUCT.md §7.2): `compare`,
`snapshot`, `gate` and `diagnose`, registered on `flamebot`'s subcommands by `add_loop_commands`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from enrichers.regression import DEFAULT_WINDOWS, GateRule
from receiver.commands.cli_help import EXIT_USAGE, UsageError
from receiver.commands.terminal import Terminal
from receiver.config import Config, secret_values
from receiver.logs import configure_logging

__all__ = ["add_loop_commands", "at_terminal", "positive"]

Loader = Callable[[argparse.Namespace], Config]
Handler = Callable[[argparse.Namespace], int]
Run = Callable[[Config, argparse.Namespace, Terminal], Coroutine[Any, Any, int]]
PROFILE_CHOICES = ["cpu", "alloc", "memory", "mutex", "wall"]


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def at_terminal(load: Loader, run: Run) -> Handler:
    """The handler of a command for a person at a terminal: the config (`load` exits 1 on a
    bad one), only warnings logged (the output is the point), `run` on stdout and stderr;
    a UsageError it raises is said on stderr, exit 64."""

    def handler(args: argparse.Namespace) -> int:
        config = load(args)
        configure_logging(secret_values(config), level="warning")
        try:
            return asyncio.run(run(config, args, Terminal.stdio()))
        except UsageError as exc:
            print(f"{args.command}: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return handler


async def _compare(config: Config, args: argparse.Namespace, term: Terminal) -> int:
    from receiver.commands.compare import print_compare

    return await print_compare(
        config,
        service=args.service,
        before=args.before,
        after=args.after,
        kind=args.type,
        n=args.n,
        form="json" if args.json else "markdown" if args.markdown else "text",
        term=term,
    )


def _add_compare(sub: argparse._SubParsersAction[argparse.ArgumentParser], load: Loader) -> None:
    text = "what changed between two windows of a service's profiles"
    p = sub.add_parser("compare", help=text, description=text)
    p.set_defaults(handler=at_terminal(load, _compare))
    p.add_argument(
        "service", metavar="SERVICE", help="a Prometheus host or a Pyroscope service_name"
    )
    p.add_argument(
        "--before",
        required=True,
        metavar="FROM..TO",
        help="the earlier window: RFC 3339, epoch seconds or now-2h, e.g. now-2h..now-1h",
    )
    p.add_argument("--after", required=True, metavar="FROM..TO", help="the later window")
    p.add_argument(
        "--type",
        default="all",
        choices=[*PROFILE_CHOICES, "all"],
        help="profile type (default all)",
    )
    p.add_argument("-n", type=positive, default=10, help="functions per list (default 10)")
    forms = p.add_mutually_exclusive_group()
    forms.add_argument("--json", action="store_true", help="JSON output (see the README)")
    forms.add_argument(
        "--markdown", action="store_true", help="Markdown (a PR comment, a postmortem)"
    )
    p.add_argument("--config", type=Path, help="YAML config file (default: $FLAMEBOT_CONFIG)")


def _window_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="S",
        help="a service (repeatable; Prometheus host or Pyroscope service_name)",
    )
    p.add_argument("--window", default="10m", help="how long a window (default 10m)")
    p.add_argument(
        "--at", default="now", metavar="TIME", help="the window's end: RFC 3339, epoch s, now-1h"
    )
    p.add_argument(
        "--windows",
        type=positive,
        default=DEFAULT_WINDOWS,
        metavar="N",
        help=f"sub-windows, one query each (default {DEFAULT_WINDOWS}, at least 5)",
    )
    p.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="K=V",
        help="narrow the profiles to a deployment, e.g. version=1.4.2 (repeatable)",
    )
    p.add_argument("--config", type=Path, help="YAML config file (default: $FLAMEBOT_CONFIG)")


async def _snapshot(config: Config, args: argparse.Namespace, term: Terminal) -> int:
    from receiver.commands.snapshot import print_snapshot

    return await print_snapshot(
        config,
        services=args.service,
        window=args.window,
        at=args.at,
        windows=args.windows,
        labels=args.label,
        out_path=args.out,
        term=term,
    )


async def _gate(config: Config, args: argparse.Namespace, term: Terminal) -> int:
    from receiver.commands.gate import GateOptions, print_gate

    options = GateOptions(
        baseline=args.baseline,
        services=args.service,
        window=args.window,
        at=args.at,
        windows=args.windows,
        labels=args.label,
        rule=GateRule(min_pp=args.min_pp, min_rel=args.min_rel, alpha=args.alpha),
        markdown=args.markdown,
        junit=args.junit,
        as_json=args.json,
        artifacts=args.artifacts,
        notify=args.notify,
    )
    return await print_gate(config, options, term=term)


def _add_snapshot_and_gate(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], load: Loader
) -> None:
    text = "write the baseline file of per-window function shares"
    p = sub.add_parser("snapshot", help=text, description=text)
    p.set_defaults(handler=at_terminal(load, _snapshot))
    _window_args(p)
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="the baseline file")
    text = "fail when a function's share rose significantly since the baseline"
    g = sub.add_parser("gate", help=text, description=text)
    g.set_defaults(handler=at_terminal(load, _gate))
    g.add_argument("--baseline", type=Path, required=True, metavar="FILE", help="from snapshot")
    _window_args(g)
    g.add_argument("--min-pp", type=float, default=2.0, help="rise in points (default 2)")
    g.add_argument("--min-rel", type=float, default=0.2, help="relative rise (default 0.2)")
    g.add_argument("--alpha", type=float, default=0.05, help="false discovery rate (0.05)")
    g.add_argument("--markdown", type=Path, metavar="FILE", help="the PR comment, with marker")
    g.add_argument("--junit", type=Path, metavar="FILE", help="JUnit XML")
    g.add_argument("--json", action="store_true", help="JSON on stdout (see the README)")
    g.add_argument("--artifacts", type=Path, metavar="DIR", help="JSON diffs for review")
    g.add_argument("--notify", metavar="ROUTE", help="send a regression summary to a route")


async def _diagnose(config: Config, args: argparse.Namespace, term: Terminal) -> int:
    from receiver.commands.diagnose import print_diagnose

    return await print_diagnose(config, service=args.service, as_json=args.json, term=term)


def _add_diagnose(sub: argparse._SubParsersAction[argparse.ArgumentParser], load: Loader) -> None:
    text = "the full diagnostic: triage, HTTP numbers, top functions, app share, firing alerts"
    p = sub.add_parser("diagnose", help=text, description=text)
    p.set_defaults(handler=at_terminal(load, _diagnose))
    p.add_argument("--service", metavar="S", help="only S (Prometheus host or service_name)")
    p.add_argument("--json", action="store_true", help="JSON output (see the README)")
    p.add_argument("--config", type=Path, help="YAML config file (default: $FLAMEBOT_CONFIG)")


def add_loop_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], load: Loader
) -> None:
    """Register the commands; `load` reads the config or exits 1 (cli's `_load`)."""
    _add_compare(sub, load)
    _add_snapshot_and_gate(sub, load)
    _add_diagnose(sub, load)
