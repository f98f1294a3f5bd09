"""The conventions every `flamebot` command shares: exit 64 (EX_USAGE) on a usage error, and
a `--help` that ends with the command's exit codes and one example (PRODUCT.md §7.6).

The table below is the one place the exit codes are written for `--help`; the README's
command tables say the same (a test compares them).
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

__all__ = [
    "EXIT_USAGE",
    "HELP_TAIL",
    "UsageError",
    "UsageExitParser",
    "help_tail",
    "usage_errors",
]

EXIT_USAGE = 64  # EX_USAGE (sysexits.h): 2 means "a backend unreachable" here
P = ParamSpec("P")
T = TypeVar("T")


class UsageError(ValueError):
    """An option's value is wrong: the command says `COMMAND: <reason>` and exits 64."""


def usage_errors(parse: Callable[P, T]) -> Callable[P, T]:
    """`parse`, which reads the user's options, with each ValueError as a UsageError."""

    @functools.wraps(parse)
    def checked(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return parse(*args, **kwargs)
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    return checked


# command -> (exit codes, one example)
HELP_TAIL: dict[str, tuple[str, str]] = {
    "serve": ("0 stopped, 1 bad config, 64 bad usage", "flamebot serve --config flamebot.yml"),
    "check-config": (
        "0 valid, 1 invalid, 64 bad usage",
        "flamebot check-config --config flamebot.yml",
    ),
    "send-test": (
        "0 on 200, 1 otherwise, 64 bad usage",
        'flamebot send-test http://127.0.0.1:8080/webhook --token "$(cat flamebot-token)"',
    ),
    "dead-letters": ("0, 1 no store, 64 bad usage", "flamebot dead-letters --json"),
    "replay": ("0 delivered, 1 not delivered, 64 bad usage", "flamebot replay 7"),
    "feedback": ("0, 1 no store, 64 bad usage", "flamebot feedback --json"),
    "triage": (
        "0 ok, 1 bad config, 2 a backend unreachable, 3 unknown service, 64 bad usage",
        "flamebot triage --service payment-service",
    ),
    "top": (
        "0 ok, 1 bad config, 2 a backend unreachable, 3 unknown service, 64 bad usage",
        "flamebot top cpu payment-service -n 5",
    ),
    "demo": ("0, 64 bad usage", "flamebot demo --out ./flamebot-demo"),
    "flamegraph": (
        "0 written, 1 bad config, 2 Pyroscope failed, 3 nothing to draw, 64 bad usage",
        "flamebot flamegraph payment-service --type cpu --diff --out cpu.png",
    ),
    "compare": (
        "0, 1 bad config, 2 a backend failed, 3 unknown service, 64 bad range or usage",
        "flamebot compare payment-service --before now-2h..now-1h --after now-1h..now",
    ),
    "snapshot": (
        "0, 1 bad config, 2 a backend failed (nothing written), 3 unknown service, 64 bad options",
        "flamebot snapshot --window 10m --out baseline/profiles.json",
    ),
    "gate": (
        "0 no regression, 1 regression, 2 a backend unreachable, 3 unknown service,"
        " 4 bad baseline file, 64 bad options",
        "flamebot gate --baseline baseline/profiles.json --junit gate.xml",
    ),
    "diagnose": (
        "0 ok, 1 bad config, 2 a backend or Alertmanager unreachable, 3 unknown service,"
        " 64 bad usage",
        "flamebot diagnose --service payment-service --json",
    ),
}


def help_tail(command: str) -> str:
    """The epilog of `flamebot COMMAND --help`."""
    codes, example = HELP_TAIL[command]
    return f"exit codes: {codes}\nexample:\n  {example}"


class UsageExitParser(argparse.ArgumentParser):
    """argparse, but a usage error exits 64 (EX_USAGE) instead of argparse's 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")
