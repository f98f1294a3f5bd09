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
    """A fresh `make demo` installs the runtime packages (no test extra), runs the demo."""
    assert planned("demo") == [
        "PYTHON=python3 ./scripts/install-runtime.sh v",
        "touch v/.runtime",
        "v/bin/python -m receiver demo",
    ]


def test_the_runtime_install_takes_pyprojects_dependencies_and_nothing_else(
    tmp_path: Path,
) -> None:
    """install-runtime.sh fills a venv with pyproject's dependencies; pytest is not in it."""
    venv = tmp_path / "v"
    subprocess.run(["./scripts/install-runtime.sh", str(venv)], cwd=ROOT, check=True, timeout=600)
    listed = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    names = {line.split("==")[0].lower().replace("_", "-") for line in listed.splitlines()}
    assert {"aiohttp", "pydantic", "psycopg", "pillow", "jinja2", "structlog"} <= names
    assert not names & {"pytest", "mypy", "ruff", "hypothesis", "flamebot"}
    demo = subprocess.run(
        [str(venv / "bin/python"), "-m", "receiver", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert demo.stdout.startswith("flamebot ")


def test_make_install_adds_the_test_toolchain_on_top() -> None:
    """`make install` (what `make test` depends on) installs the runtime, then `.[test]`."""
    assert planned("install") == [
        "PYTHON=python3 ./scripts/install-runtime.sh v",
        "touch v/.runtime",
        f"{PIP} -e '.[test]'",
        "touch v/.installed",
    ]
