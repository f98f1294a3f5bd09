"""The GitHub Actions examples (examples/ci/) pass actionlint and run the gate as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "examples" / "ci"
ACTIONLINT = Path(sys.executable).parent / "actionlint"  # from the test extras


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.is_file(), f"{ACTIONLINT} is missing: run `make install`"
    return subprocess.run(
        [ACTIONLINT, "-no-color", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((CI / name).read_text())
    return loaded


def steps(doc: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = doc["jobs"][job]["steps"]
    return found


def test_both_workflows_pass_actionlint() -> None:
    """actionlint finds nothing in the PR gate and the weekly baseline refresh."""
    result = actionlint(CI / "profile-gate.yml", CI / "baseline-refresh.yml")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_actionlint_does_catch_a_broken_workflow(tmp_path: Path) -> None:
    """The check can fail: an unknown context and a bad cron are reported."""
    broken = tmp_path / "broken.yml"
    text = (CI / "baseline-refresh.yml").read_text()
    broken.write_text(
        text.replace('"17 3 * * 1"', '"61 3 * * 1"').replace("github.sha", "gihub.sha")
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert "invalid CRON format" in result.stdout
    assert 'undefined variable "gihub"' in result.stdout


def test_the_pr_gate_deploys_loads_gates_comments_and_uploads() -> None:
    """The steps in order, the gate's outputs, the marker the comment is found by."""
    doc = workflow("profile-gate.yml")
    assert doc[True] == {"pull_request": {"branches": ["main"]}}  # YAML reads `on` as True
    assert doc["permissions"] == {"contents": "read", "pull-requests": "write"}
    names = [s.get("name") for s in steps(doc, "gate")]
    assert names == [
        "Check out the pull request",
        "Install flamebot",
        None,
        "Deploy the build to staging",
        "Generate load",
        "Gate",
        "Sticky PR comment",
        "Upload the gate's artifacts",
        "Fail the check on a regression",
    ]
    gate = steps(doc, "gate")[5]["run"]
    for option in (
        "--baseline baseline/profiles.json",
        "--markdown gate.md",
        "--junit gate.xml",
        "--artifacts gate-artifacts",
        "--notify ci",
        '--label "service_git_ref=$BUILD"',
    ):
        assert option in gate  # fmt: skip
    comment = steps(doc, "gate")[6]["with"]["script"]
    assert "const marker = '<!-- flamebot-gate -->';" in comment
    assert "updateComment" in comment
    assert "createComment" in comment
    upload = steps(doc, "gate")[7]
    assert upload["uses"] == "actions/upload-artifact@v4"
    assert "gate-artifacts/" in upload["with"]["path"]


def test_the_baseline_refresh_snapshots_main_weekly() -> None:
    """A weekly cron on main: deploy, load, `flamebot snapshot`, a PR with the new file."""
    doc = workflow("baseline-refresh.yml")
    assert doc[True]["schedule"] == [{"cron": "17 3 * * 1"}]
    job = steps(doc, "snapshot")
    assert job[0]["with"] == {"ref": "main"}
    snapshot = next(s for s in job if s.get("name") == "Snapshot")["run"]
    assert snapshot.startswith("flamebot snapshot --window 10m --windows 10")
    assert "--out baseline/profiles.json" in snapshot
    assert job[-1]["with"]["add-paths"] == "baseline/profiles.json"
