"""The `flamebot` command line (PRODUCT.md §4)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from receiver.commands.cli_help import UsageExitParser, help_tail
from receiver.commands.cli_loop import add_loop_commands, at_terminal, positive
from receiver.commands.terminal import Terminal
from receiver.config import Config, load_config, secret_values
from receiver.errors import ConfigError, StartupError
from receiver.logs import configure_logging

__all__ = ["main"]


def _load(args: argparse.Namespace) -> Config:
    """Load the config or exit 1 with one line per problem (key path: reason)."""
    try:
        return load_config(getattr(args, "config", None))
    except ConfigError as exc:
        print("config error:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(1) from None


def cmd_serve(args: argparse.Namespace) -> int:
    from receiver.service import serve

    config = _load(args)
    configure_logging(secret_values(config))
    try:
        asyncio.run(serve(config, freeze_startup=True))
    except StartupError as exc:
        print(f"flamebot: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    from receiver.notifiers.templates import TEMPLATE_KEYS, check_templates

    config = _load(args)
    problems = check_templates(config.templates)  # each rendered against a sample group
    if problems:
        print("config error:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    routes = ", ".join(
        f"{route} -> {', '.join(targets) or '(none)'}"
        for route, targets in sorted(config.route_table().items())
    )
    checked = [key for key in TEMPLATE_KEYS if getattr(config.templates, key) is not None]
    rendered = f"; templates: {', '.join(checked)}" if checked else ""
    print(f"config ok: {len(config.notifiers)} notifier(s); routes: {routes}{rendered}")
    return 0


def cmd_send_test(args: argparse.Namespace) -> int:
    from receiver.commands.sendtest import send_test

    return send_test(args.url, token=args.token, basic=args.basic, timeout=args.timeout)


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from receiver.commands.deadletters import list_dead_letters

    config = _load(args)
    return asyncio.run(list_dead_letters(config, as_json=args.json))


def cmd_feedback(args: argparse.Namespace) -> int:
    from receiver.commands.feedback import list_feedback

    config = _load(args)
    return asyncio.run(list_feedback(config, as_json=args.json))


def cmd_replay(args: argparse.Namespace) -> int:
    from receiver.commands.deadletters import replay

    config = _load(args)
    configure_logging(secret_values(config))
    return asyncio.run(replay(config, args.id))


async def _triage(config: Config, args: argparse.Namespace, term: Terminal) -> int:
    from receiver.commands.triage import print_triage

    return await print_triage(config, service=args.service, as_json=args.json, term=term)


async def _top(config: Config, args: argparse.Namespace, term: Terminal) -> int:
    from receiver.commands.top import print_top

    return await print_top(
        config, kind=args.kind, service=args.service, n=args.n, as_json=args.json, term=term
    )


async def _flamegraph(config: Config, args: argparse.Namespace, term: Terminal) -> int:
    from receiver.commands.flamegraph import print_flamegraph

    return await print_flamegraph(config, args, term=term)


def cmd_demo(args: argparse.Namespace) -> int:
    from receiver.demo import run_demo

    configure_logging(level="warning")
    return run_demo(args.out, scenario_file=args.scenario)


def _add_terminal_commands(parsers: dict[str, argparse.ArgumentParser]) -> None:
    triage = parsers["triage"]
    triage.add_argument(
        "--service", metavar="S", help="only S: a Prometheus host or a Pyroscope service_name"
    )
    triage.add_argument("--json", action="store_true", help="JSON output (see the README)")
    top = parsers["top"]
    top.add_argument(
        "kind",
        choices=["cpu", "alloc", "memory", "mutex", "wall"],
        help="profile type (memory is alloc)",
    )
    top.add_argument(
        "service", metavar="SERVICE", help="a Prometheus host or a Pyroscope service_name"
    )
    top.add_argument("-n", type=positive, default=10, help="how many functions (default 10)")
    top.add_argument("--json", action="store_true", help="JSON output: the list of functions")
    demo = parsers["demo"]
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("flamebot-demo"),
        metavar="DIR",
        help="where to write the Slack and PagerDuty payloads (default ./flamebot-demo)",
    )
    demo.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        help="JSON or YAML laid over the simulated scenario, e.g."
        ' {"services": {"payment-service": {"health": {"cpu": 0.95}}}}',
    )


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="YAML config file (default: $FLAMEBOT_CONFIG, else built-in)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = UsageExitParser(
        prog="flamebot",
        description="Alertmanager webhook receiver that explains alerts with profiles.",
        epilog="`flamebot COMMAND --help` lists the command's options, exit codes and an example.",
    )
    parser.add_argument("--version", action="version", version=f"flamebot {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
        "serve": ("run the webhook receiver", cmd_serve),
        "check-config": ("validate a config file", cmd_check_config),
        "send-test": ("post a sample Alertmanager webhook to URL", cmd_send_test),
        "dead-letters": ("list notifications that could not be delivered", cmd_dead_letters),
        "replay": ("deliver a dead letter again", cmd_replay),
        "feedback": ("list the verdicts users said were wrong in Slack", cmd_feedback),
        "triage": (
            "verdict per service: the bottleneck of each, from a terminal",
            at_terminal(_load, _triage),
        ),
        "top": ("ranked functions of one profile type for a service", at_terminal(_load, _top)),
        "demo": ("the whole flow on a simulated fleet, on loopback", cmd_demo),
        "flamegraph": (
            "draw a flame graph (PNG or SVG) of a service or a pprof file",
            at_terminal(_load, _flamegraph),
        ),
    }
    parsers: dict[str, argparse.ArgumentParser] = {}
    for name, (help_text, handler) in commands.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        parsers[name] = p
    add_loop_commands(sub, _load)  # compare, snapshot, gate, diagnose
    for name in (
        "serve",
        "check-config",
        "dead-letters",
        "replay",
        "feedback",
        "triage",
        "top",
        "flamegraph",
    ):
        _config_arg(parsers[name])
    _add_terminal_commands(parsers)
    from receiver.commands.flamegraph import add_arguments

    add_arguments(parsers["flamegraph"])
    send = parsers["send-test"]
    send.add_argument("url", help="flamebot's webhook URL, e.g. http://127.0.0.1:8080/webhook")
    send.add_argument("--token", help="bearer token for server.auth.bearer_token")
    send.add_argument("--basic", metavar="USER:PASSWORD", help="basic auth credentials")
    send.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    parsers["dead-letters"].add_argument("--json", action="store_true", help="JSON output")
    parsers["feedback"].add_argument("--json", action="store_true", help="JSON output")
    parsers["replay"].add_argument("id", type=int, help="dead letter id (see dead-letters)")
    for name, command in sub.choices.items():
        command.epilog = help_tail(name)
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flamebot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from receiver import __version__

        return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `flamebot` alone: the help, not an error
        parser.print_help()
        return 0
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
