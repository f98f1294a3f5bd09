"""The command line's conventions (PRODUCT.md §7.6): `--version`, help without a command,
exit 64 on a usage error, and each command's `--help` ending with its exit codes and an
example that the README's command tables repeat."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

from receiver.commands.cli import main
from receiver.commands.cli_help import HELP_TAIL
from tests.cli.conftest import flamebot

README = Path(__file__).resolve().parents[2] / "README.md"
COMMANDS = ["serve", "check-config", "send-test", "dead-letters", "replay", "feedback", "triage"]
COMMANDS += ["top", "demo"]
COMMANDS += ["flamegraph", "compare", "snapshot", "gate", "diagnose"]


async def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    """`flamebot --version` prints `flamebot <version>` and exits 0."""
    result = await flamebot("--version", cwd=tmp_path)
    assert (result.code, result.stdout, result.stderr) == (
        0,
        f"flamebot {version('flamebot')}\n",
        "",
    )


async def test_no_command_prints_the_help_and_exits_0(tmp_path: Path) -> None:
    """`flamebot` alone prints exactly what `flamebot --help` prints, exit 0, nothing on stderr."""
    alone = await flamebot(cwd=tmp_path)
    helped = await flamebot("--help", cwd=tmp_path)
    assert (alone.code, alone.stderr) == (0, "")
    assert alone.stdout == helped.stdout
    assert alone.stdout.startswith("usage: flamebot [-h] [--version] COMMAND ...\n")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["bogus"], "flamebot: error: argument COMMAND: invalid choice: 'bogus'"),
        (["triage", "--bogus"], "flamebot: error: unrecognized arguments: --bogus"),
        (
            ["top", "cpu", "payment-service", "-n", "0"],
            "flamebot top: error: argument -n: must be at least 1",
        ),
        (["replay"], "flamebot replay: error: the following arguments are required: id"),
        (
            ["compare", "svc"],
            "flamebot compare: error: the following arguments are required: --before, --after",
        ),
    ],
)
def test_a_usage_error_exits_64(
    args: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A usage error exits 64 (EX_USAGE), never 2 (a backend unreachable), and says why."""
    with pytest.raises(SystemExit) as stopped:
        main(args)
    out, err = capsys.readouterr()
    assert (stopped.value.code, out) == (64, "")
    assert err.splitlines()[-1].startswith(error)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_help_ends_with_its_exit_codes_and_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`flamebot COMMAND --help` exits 0 and ends with the exit codes and one example."""
    with pytest.raises(SystemExit) as stopped:
        main([command, "--help"])
    out = capsys.readouterr().out
    codes, example = HELP_TAIL[command]
    assert stopped.value.code == 0
    assert out.endswith(f"\nexit codes: {codes}\nexample:\n  {example}\n")
    assert example.startswith(f"flamebot {command} ")


def test_the_readme_tables_say_the_exit_codes_help_says() -> None:
    """Every command row of the README's command tables names the exit codes of `--help`."""
    found: dict[str, str] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `flamebot "):
            continue
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        for name in re.findall(r"`flamebot ([a-z-]+)", cells[0]):
            if cells[-1] != "as above":
                found[name] = cells[-1]
    assert found == {name: codes for name, (codes, _) in HELP_TAIL.items()}
