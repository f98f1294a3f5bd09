"""The examples pass the real amtool, promtool and flamebot checks."""

import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import load_payload
from tests.packaging.deployment import NOTIFIERS, ROUTES, SECRETS_DIR

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TOOLS = ROOT / ".tools" / "bin"

# The alert of the captured webhook alertmanager/reference-highcpuusage.json.
REFERENCE_ALERT = load_payload("reference-highcpuusage.json")["alerts"][0]
REFERENCE_HIGH_CPU_LABELS = REFERENCE_ALERT["labels"]
REFERENCE_HIGH_CPU_ANNOTATIONS = REFERENCE_ALERT["annotations"]


def run(tool: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run a tool from the repository root; a missing tool is a failure, never a skip."""
    assert tool.exists(), f"{tool} is missing: run ./scripts/install-tools.sh or `make install`"
    return subprocess.run(
        [tool, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_alertmanager_example_passes_amtool_check_config() -> None:
    """amtool accepts examples/alertmanager.yml with both flamebot receivers."""
    result = run(TOOLS / "amtool", "check-config", "examples/alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert " - 2 receivers\n" in result.stdout


def test_alertmanager_example_sends_resolved_alerts_with_a_bearer_token() -> None:
    """Groups per alert and instance, posts to both routes, at most 1,000 alerts a webhook."""
    config = yaml.safe_load((EXAMPLES / "alertmanager.yml").read_text())
    assert config["route"]["receiver"] == "flamebot"
    assert config["route"]["group_by"] == ["alertname", "instance"]
    assert config["route"]["routes"] == [
        {"receiver": "flamebot-payments", "matchers": ['verticle="payment"']}
    ]

    def receiver(name: str, path: str) -> dict[str, object]:
        return {
            "name": name,
            "webhook_configs": [
                {
                    "url": f"http://flamebot:8080{path}",
                    "send_resolved": True,
                    "max_alerts": 1000,
                    "http_config": {
                        "authorization": {"type": "Bearer", "credentials": "example-webhook-token"}
                    },
                }
            ],
        }

    assert config["receivers"] == [
        receiver("flamebot", "/webhook"),
        receiver("flamebot-payments", "/webhook/payments"),
    ]


def test_prometheus_rules_pass_promtool_check_rules() -> None:
    """promtool accepts the six reference alert rules."""
    result = run(TOOLS / "promtool", "check", "rules", "examples/prometheus-rules.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def test_prometheus_rules_are_the_reference_fleet_rules() -> None:
    """Each rule has the reference expression, `for`, severity and the three annotations."""
    groups = yaml.safe_load((EXAMPLES / "prometheus-rules.yml").read_text())["groups"]
    rules = {
        rule["alert"]: (" ".join(rule["expr"].split()), rule["for"], rule["labels"])
        for group in groups
        for rule in group["rules"]
    }
    assert rules == {
        "HighCpuUsage": (
            'rate(process_cpu_seconds_total{job="jvm"}[2m]) > 0.8',
            "1m",
            {"severity": "warning"},
        ),
        "HighHeapUsage": (
            'jvm_memory_used_bytes{job="jvm",area="heap"}'
            ' / jvm_memory_max_bytes{job="jvm",area="heap"} > 0.85',
            "2m",
            {"severity": "warning"},
        ),
        "HighGcPauseRate": (
            'rate(jvm_gc_collection_seconds_sum{job="jvm"}[2m]) > 0.05',
            "1m",
            {"severity": "warning"},
        ),
        "HighErrorRate": (
            "sum by (instance) ("
            'rate(vertx_http_server_requests_total{job="vertx-apps",code=~"5.."}[2m]))'
            " / sum by (instance) ("
            'rate(vertx_http_server_requests_total{job="vertx-apps"}[2m]))'
            " > 0.05",
            "1m",
            {"severity": "critical"},
        ),
        "HighLatency": (
            'vertx_http_server_response_time_seconds_max{job="vertx-apps"} > 2',
            "2m",
            {"severity": "warning"},
        ),
        "ServiceDown": ('up{job="vertx-apps"} == 0', "30s", {"severity": "critical"}),
    }
    for group in groups:
        for rule in group["rules"]:
            assert set(rule["annotations"]) == {"summary", "description", "runbook"}


def test_high_cpu_usage_unit_test_passes() -> None:
    """promtool's unit test proves HighCpuUsage fires for payment-service after `for: 1m`."""
    result = run(TOOLS / "promtool", "test", "rules", "examples/prometheus-rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_high_cpu_usage_unit_test_expects_the_reference_alert() -> None:
    """The unit test expects exactly the labels and annotations of the reference fixture."""
    suite = yaml.safe_load((EXAMPLES / "prometheus-rules.test.yml").read_text())
    [case] = suite["tests"]
    [firing] = [check for check in case["alert_rule_test"] if check["exp_alerts"]]
    assert firing["eval_time"] == "3m"
    assert firing["exp_alerts"] == [
        {
            "exp_labels": REFERENCE_HIGH_CPU_LABELS,
            "exp_annotations": REFERENCE_HIGH_CPU_ANNOTATIONS,
        }
    ]


def localized_flamebot_config(tmp_path: Path) -> Path:
    """examples/flamebot.yml with its secret files and store moved into tmp_path."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in ("webhook-bearer-token", "slack-token", "pagerduty-routing-key"):
        (secrets / name).write_text(f"test-{name}\n")
    (secrets / "pagerduty-api-token").write_text("test-api-token\n")
    text = (EXAMPLES / "flamebot.yml").read_text()
    text = text.replace(SECRETS_DIR, str(secrets)).replace("/var/lib/flamebot", str(tmp_path))
    config = tmp_path / "flamebot.yml"
    config.write_text(text)
    return config


def test_flamebot_example_passes_check_config(tmp_path: Path) -> None:
    """`flamebot check-config` accepts the reference deployment's config."""
    config = localized_flamebot_config(tmp_path)
    result = run(Path(sys.executable).parent / "flamebot", "check-config", "--config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_flamebot_example_references_secrets_only_through_files() -> None:
    """Every secret of the example config is a `*_file` path under the chart's secrets folder."""
    config = yaml.safe_load((EXAMPLES / "flamebot.yml").read_text())
    assert config["server"]["auth"] == {"bearer_token_file": f"{SECRETS_DIR}/webhook-bearer-token"}
    slack, pagerduty = NOTIFIERS
    assert config["notifiers"] == [slack, {**pagerduty, "default_severity": "warning"}]
    assert config["routes"] == ROUTES
    assert config["grafana"]["pyroscope_datasource_uid"] == "pyroscope-ds"
    assert config["grafana"]["dashboards"] == [
        {
            "title": "Pyroscope Java overview",
            "uid": "pyroscope-java-overview",
            "vars": {"application": "{pyroscope_service}"},
        }
    ]
    services = ["api-gateway", "order-service", "payment-service", "fraud-service"]
    services += ["account-service", "loan-service", "notification-service", "stream-service"]
    assert config["enrichment"]["service_map"] == {name: f"bank-{name}" for name in services}
    assert config["enrichment"]["app_prefixes"] == ["com.example."]
    assert config["enrichment"]["preset"] == "jvm"


def test_flamebot_check_config_rejects_a_typo_in_the_example(tmp_path: Path) -> None:
    """The check is real: an unknown key in the example's enrichment section exits 1 naming it."""
    config = localized_flamebot_config(tmp_path)
    text = config.read_text().replace("enrichment:\n", "enrichment:\n  servce_map: {}\n", 1)
    config.write_text(text)
    result = run(Path(sys.executable).parent / "flamebot", "check-config", "--config", config)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "servce_map" in result.stdout + result.stderr
