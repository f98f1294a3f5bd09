"""The image recipe: hadolint-clean, multi-stage, non-root, `flamebot serve` by default."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(maxsplit=1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), " ".join(pair[1].split())) for pair in pairs]


def final_stage() -> list[tuple[str, str]]:
    """The instructions of the last build stage, from its FROM on."""
    steps = instructions()
    start = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[start:]


def test_dockerfile_passes_hadolint_without_any_finding() -> None:
    """hadolint reports nothing, not even style or info findings."""
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), f"{hadolint} is missing: run `make install`"
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", DOCKERFILE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_image_builds_in_a_separate_stage_from_python_slim() -> None:
    """A builder stage installs the package into a venv; the final stage only copies it."""
    steps = instructions()
    assert [args for name, args in steps if name == "FROM"] == [
        "python:3.11-slim AS build",
        "python:3.11-slim",
    ]
    assert ("RUN", "/opt/flamebot/bin/pip install --no-cache-dir -c constraints.txt .") in steps
    final = final_stage()
    assert ("COPY", "--from=build /opt/flamebot /opt/flamebot") in final
    runs = " ".join(args for name, args in final if name == "RUN")
    for build_tool in ("pip ", "apt-get", "gcc", "build-essential"):
        assert build_tool not in runs


def test_image_runs_flamebot_serve_as_numeric_non_root_user() -> None:
    """The image runs `flamebot serve` as uid 10001, the store on a volume, no HEALTHCHECK."""
    final = dict(final_stage())
    assert final["USER"] == "10001:10001"
    assert json.loads(final["ENTRYPOINT"]) == ["flamebot"]
    assert json.loads(final["CMD"]) == ["serve"]
    assert json.loads(final["VOLUME"]) == ["/var/lib/flamebot"]
    assert final["EXPOSE"] == "8080"
    assert "FLAMEBOT_CONFIG=/etc/flamebot/config.yaml" in final["ENV"].split()
    assert [name for name, _ in instructions() if name == "HEALTHCHECK"] == []


def test_chart_runs_the_image_as_the_image_user() -> None:
    """The chart's default uid and gid are the Dockerfile's numeric USER."""
    values = yaml.safe_load((ROOT / "charts" / "flamebot" / "values.yaml").read_text())
    user, group = dict(final_stage())["USER"].split(":")
    assert values["podSecurityContext"]["runAsUser"] == int(user)
    assert values["podSecurityContext"]["runAsGroup"] == int(group)
    assert values["securityContext"]["runAsUser"] == int(user)


def test_dockerignore_sends_only_the_package_sources() -> None:
    """The build context is what `pip install .` reads: project files and the two packages."""
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns == [
        "*",
        "!pyproject.toml",
        "!README.md",
        "!constraints.txt",
        "!receiver/",
        "!enrichers/",
        "**/__pycache__",
        "**/*.pyc",
    ]
