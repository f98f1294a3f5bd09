"""The README's "Connect your Alertmanager" pair, copied verbatim: both files pass their
checks (`flamebot check-config`, the real `amtool check-config`), and the real Alertmanager
from `.tools/bin`, started exactly as the README says, delivers an alert to a flamebot
started exactly as the README says (PRODUCT.md §7.6)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.support.alertmanager import alertmanager_binary, firing_alert
from tests.support.harness import PAYMENT_LABELS
from tests.support.process import free_port
from tests.support.waiting import answers_200, running, wait_until

ROOT = Path(__file__).resolve().parents[2]
SECTION = re.compile(r"### Connect your Alertmanager\n(.*?)\nAt start, `serve`", re.DOTALL)
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def readme_blocks() -> list[tuple[str, str]]:
    """The fenced blocks of the section, in order: (language, text)."""
    found = SECTION.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found is not None, "README has no 'Connect your Alertmanager' section"
    return BLOCK.findall(found.group(1))


def setup_dir(tmp_path: Path) -> tuple[Path, list[str], str]:
    """The README's files written as they are, the token made by its command; also the
    command lines of the checks and of the Alertmanager run."""
    token_sh, flamebot_yml, alertmanager_yml, checks_sh, run_sh = readme_blocks()
    assert [token_sh[0], flamebot_yml[0], alertmanager_yml[0], checks_sh[0], run_sh[0]] == [
        "sh", "yaml", "yaml", "sh", "sh",
    ]  # fmt: skip
    for _, text in (flamebot_yml, alertmanager_yml):
        name = text.splitlines()[0].removeprefix("# ")
        (tmp_path / name).write_text(text, encoding="utf-8")
    shell(token_sh[1], tmp_path)
    assert len((tmp_path / "flamebot-token").read_text().strip()) == 43
    return tmp_path, checks_sh[1].splitlines(), run_sh[1].strip()


def path_env() -> dict[str, str]:
    """PATH with this venv's `flamebot` and the `.tools/bin` tools first; no FLAMEBOT_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAMEBOT")}
    env["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), str(ROOT / ".tools" / "bin"), env["PATH"]]
    )
    return env


def shell(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a README line with bash, as a reader pastes it."""
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=path_env(), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_the_readme_pair_passes_check_config_and_amtool(tmp_path: Path) -> None:
    """`flamebot check-config` and the real `amtool check-config` accept the files as printed."""
    alertmanager_binary()  # fails, never skips, without the tools
    home, checks, _ = setup_dir(tmp_path)
    assert checks[:2] == [
        "flamebot check-config --config flamebot.yml",
        "amtool check-config alertmanager.yml",
    ]
    flamebot = shell(checks[0], home)
    assert (flamebot.returncode, flamebot.stdout) == (
        0, "config ok: 1 notifier(s); routes: default -> console\n",
    )  # fmt: skip
    amtool = shell(checks[1], home)
    assert (amtool.returncode, amtool.stdout) == (
        0,
        "Checking 'alertmanager.yml'  SUCCESS\nFound:\n - global config\n - route\n"
        " - 0 inhibit rules\n - 1 receivers\n - 0 templates\n\n",
    )


@contextmanager
def started(
    line: str, cwd: Path, log: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """A README command line in its own process group, stopped (the whole group) on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", line], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_readme_alertmanager_delivers_to_the_readme_flamebot(tmp_path: Path) -> None:
    """Both started as the README says (ports moved to free ones): an alert reaches the console."""
    alertmanager_binary()
    home, checks, run_alertmanager = setup_dir(tmp_path)
    flamebot_port, alertmanager_port = free_port(), free_port()
    # Only the addresses change: loopback and free ports, as every test server here.
    config = (home / "alertmanager.yml").read_text()
    assert config.count("http://127.0.0.1:8080/webhook") == 1
    config = config.replace("127.0.0.1:8080", f"127.0.0.1:{flamebot_port}")
    (home / "alertmanager.yml").write_text(config)
    assert run_alertmanager.count("127.0.0.1:9093") == 1
    run_alertmanager = run_alertmanager.replace("127.0.0.1:9093", f"127.0.0.1:{alertmanager_port}")
    (home / ".tools").symlink_to(ROOT / ".tools")  # "the repository's .tools there too"
    env = {**path_env(), "FLAMEBOT__SERVER__HOST": "127.0.0.1"}
    env["FLAMEBOT__SERVER__PORT"] = str(flamebot_port)
    env["FLAMEBOT__ENRICHMENT__DEADLINE_SECONDS"] = "1"
    flamebot_log, alertmanager_log = home / "flamebot.out", home / "alertmanager.out"
    with (
        started(checks[2], home, flamebot_log, env) as flamebot,
        started(run_alertmanager, home, alertmanager_log, env) as alertmanager,
    ):
        wait_until(
            lambda: running(flamebot, "flamebot", flamebot_log)
            and answers_200(f"http://127.0.0.1:{flamebot_port}/healthz"),
            30, what="flamebot ready",
        )  # fmt: skip
        am = f"http://127.0.0.1:{alertmanager_port}"
        wait_until(
            lambda: running(alertmanager, "Alertmanager", alertmanager_log)
            and answers_200(f"{am}/-/ready"),
            30, what="Alertmanager ready",
        )  # fmt: skip
        # Firing for longer than group_wait: Alertmanager sends it at once.
        alert = firing_alert(PAYMENT_LABELS, datetime.now(UTC) - timedelta(minutes=3))
        assert httpx.post(f"{am}/api/v2/alerts", json=[alert], timeout=5).status_code == 200
        wait_until(
            lambda: "[FIRING:1] HighCpuUsage on payment-service" in flamebot_log.read_text(),
            30, what="the alert on flamebot's console",
        )  # fmt: skip
    assert "failed to parse templates" not in alertmanager_log.read_text()
