"""`flamebot --help` lists every command of PRODUCT.md §4 and §7.2."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.conftest import flamebot

COMMANDS = ["serve", "check-config", "send-test", "dead-letters", "replay", "feedback", "triage"]
COMMANDS += ["top", "demo"]
COMMANDS += ["flamegraph", "compare", "snapshot", "gate", "diagnose"]


async def test_help_lists_every_command(tmp_path: Path) -> None:
    """Each command appears once in the command list, in the documented order."""
    result = await flamebot("--help", cwd=tmp_path)
    assert (result.code, result.error_lines) == (0, [])
    listed = re.findall(r"^    ([a-z-]+)", result.stdout, flags=re.MULTILINE)
    assert listed == COMMANDS


async def test_top_rejects_an_unknown_profile_kind(tmp_path: Path) -> None:
    """Only cpu, alloc, memory, mutex and wall are profile kinds (a usage error: exit 64)."""
    result = await flamebot("top", "heap", "payment-service", cwd=tmp_path)
    assert (result.code, result.stdout) == (64, "")
    # The list of choices is quoted differently across Python versions.
    error = result.stderr.splitlines()[-1]
    assert error.startswith("flamebot top: error: argument kind: invalid choice: 'heap' (choose")
