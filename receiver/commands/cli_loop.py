"""The command line of the rest of the incident loop (PRODUCT.md §7.2): `compare`,
`snapshot`, `gate` and `diagnose`, registered on `flamebot`'s subcommands by `add_loop_commands`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from receiver.config import Config, secret_values
from receiver.logs import configure_logging

__all__ = ["add_loop_commands"]

Loader = Callable[[argparse.Namespace], Config]
PROFILE_CHOICES = ["cpu", "alloc", "memory", "mutex", "wall"]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _quiet(load: Loader, args: argparse.Namespace) -> Config:
    config = load(args)
    configure_logging(secret_values(config), level="warning")
    return config


def _compare(load: Loader) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from receiver.commands.compare import print_compare

        config = _quiet(load, args)
        form = "json" if args.json else "markdown" if args.markdown else "text"
        return asyncio.run(
            print_compare(
                config,
                service=args.service,
                before=args.before,
                after=args.after,
                kind=args.type,
                n=args.n,
                form=form,
                out=sys.stdout,
                err=sys.stderr,
            )
        )

    return run


def _add_compare(sub: argparse._SubParsersAction[argparse.ArgumentParser], load: Loader) -> None:
    text = "what changed between two windows of a service's profiles"
    p = sub.add_parser("compare", help=text, description=text)
    p.set_defaults(handler=_compare(load))
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
    p.add_argument("-n", type=_positive, default=10, help="functions per list (default 10)")
    forms = p.add_mutually_exclusive_group()
    forms.add_argument("--json", action="store_true", help="JSON output (see the README)")
    forms.add_argument(
        "--markdown", action="store_true", help="Markdown (a PR comment, a postmortem)"
    )
    p.add_argument("--config", type=Path, help="YAML config file (default: $FLAMEBOT_CONFIG)")


def add_loop_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], load: Loader
) -> None:
    """Register the commands; `load` reads the config or exits 1 (cli's `_load`)."""
    _add_compare(sub, load)
