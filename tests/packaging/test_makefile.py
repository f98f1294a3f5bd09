"""`make demo` installs what flamebot runs on; `make test` adds the test toolchain (§7.6)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIP = "v/bin/pip install --quiet --disable-pip-version-check -c constraints.txt"


def planned(target: str) -> list[str]:
    """The commands `make -n TARGET` would run for a fresh venv `v` (nothing is run)."""
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", target, "VENV=v", "PYTHON=python3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def test_make_demo_installs_the_runtime_dependencies_only() -> None:
    """A fresh `make demo` creates the venv, installs `-e .` (no test extra), runs the demo."""
    assert planned("demo") == [
        "python3 -m venv v",
        f"{PIP} -e .",
        "touch v/.runtime",
        "v/bin/flamebot demo",
    ]


def test_make_install_adds_the_test_toolchain_on_top() -> None:
    """`make install` (what `make test` depends on) installs the runtime, then `.[test]`."""
    assert planned("install") == [
        "python3 -m venv v",
        f"{PIP} -e .",
        "touch v/.runtime",
        f"{PIP} -e '.[test]'",
        "touch v/.installed",
    ]
