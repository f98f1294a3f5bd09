"""Config loading: defaults, YAML, env overrides, `*_file` secrets, readable errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from receiver.config import Config, load_config, secret_values
from receiver.errors import ConfigError
from tests.support.process import check_config


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path | None, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env or {})
    return caught.value.problems


def test_no_file_is_the_embedded_default() -> None:
    """Without a file: 127.0.0.1:8080, SQLite in the working directory, console notifier."""
    config = load_config(None, {})
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
    assert config.store.path == Path("flamebot.db")
    assert [(n.name, n.type) for n in config.notifiers] == [("console", "console")]
    assert config.route_table() == {"default": ["console"]}
    assert config.enrichment.window == timedelta(minutes=15)
    assert config.enrichment.baseline_offset == timedelta(hours=1)
    assert config.enrichment.verify_after == timedelta(minutes=10)
    assert config.queue.max_pending == 10_000


def test_product_example_config_is_valid(tmp_path: Path) -> None:
    """The config example of PRODUCT.md §4 loads, with its durations and routes."""
    path = write(
        tmp_path,
        """
server: {host: 127.0.0.1, port: 8080, max_body_bytes: 1048576,
         auth: {bearer_token: "tok-abc", basic: {username: am, password: "pw-xyz"}},
         shutdown_grace_seconds: 20}
store: {path: ./flamebot.db}
queue: {max_pending: 10000, workers: 8}
delivery: {max_seconds: 3600}
prometheus: {url: http://127.0.0.1:9090, timeout_seconds: 3}
pyroscope: {url: http://127.0.0.1:4040, tenant: "", timeout_seconds: 5}
grafana:
  url: http://127.0.0.1:3000
  pyroscope_datasource_uid: pyroscope
  link_style: explore
  dashboards: [{title: JVM overview, uid: pyroscope-java-overview,
                vars: {application: "{pyroscope_service}"}}]
enrichment:
  preset: jvm
  deadline_seconds: 8
  window: 15m
  baseline_offset: 1h
  cache_ttl_seconds: 60
  service_labels: [service_name, service, app]
  match_labels: [namespace]
  service_map: {payment-service: bank-payment-service}
  app_prefixes: [com.example.]
  thresholds: {cpu: 0.3, gc: 0.03, heap_ratio: 0.75, mutex_pct: 5, latency_ms: 500,
               threads: 60, error_ratio: 0.02, critical_cpu: 0.8, critical_gc: 0.1,
               critical_heap_ratio: 0.85}
  queries: {cpu: 'rate(process_cpu_seconds_total{job="jvm",{selector}}[2m])'}
  profile_types: {mutex: [mutex:delay:nanoseconds:mutex:count]}
notifiers:
  - {name: console, type: console}
  - {name: slack-payments, type: slack, token: xoxb-1, channel: "#payments",
     api_url: https://slack.com/api/}
  - {name: pd-oncall, type: pagerduty, routing_key: "rk-1",
     events_url: https://events.pagerduty.com/v2/enqueue, default_severity: warning,
     api_token: "api-1", api_url: https://api.pagerduty.com, from_email: bot@example.com}
routes: {default: [console], payments: [slack-payments, pd-oncall]}
""",
    )
    config = load_config(path, {})
    assert config.route_table() == {
        "default": ["console"],
        "payments": ["slack-payments", "pd-oncall"],
    }
    assert config.enrichment.service_map == {"payment-service": "bank-payment-service"}
    assert config.enrichment.profile_types == {"mutex": ["mutex:delay:nanoseconds:mutex:count"]}
    assert sorted(secret_values(config)) == ["api-1", "pw-xyz", "rk-1", "tok-abc", "xoxb-1"]


def test_env_overrides_parse_json_and_replace_lists(tmp_path: Path) -> None:
    """FLAMEBOT__A__B sets a.b; JSON values parse, others stay strings; lists are replaced."""
    path = write(tmp_path, "server: {port: 9000}\nenrichment: {app_prefixes: [a.]}\n")
    env = {
        "FLAMEBOT__SERVER__PORT": "9100",
        "FLAMEBOT__SERVER__HOST": "0.0.0.0",
        "FLAMEBOT__ENRICHMENT__APP_PREFIXES": '["com.example.", "org.bank."]',
        "FLAMEBOT__ENRICHMENT__THRESHOLDS__CPU": "0.5",
        "FLAMEBOT__NOTIFIERS": '[{"name": "out", "type": "console"}]',
        "OTHER__SERVER__PORT": "1",
    }
    config = load_config(path, env)
    assert (config.server.host, config.server.port) == ("0.0.0.0", 9100)
    assert config.enrichment.app_prefixes == ["com.example.", "org.bank."]
    assert config.enrichment.thresholds.cpu == 0.5
    assert [n.name for n in config.notifiers] == ["out"]


def test_flamebot_config_env_names_the_file(tmp_path: Path) -> None:
    """FLAMEBOT_CONFIG points at the config file when --config is not given."""
    path = write(tmp_path, "server: {port: 9200}\n")
    assert load_config(None, {"FLAMEBOT_CONFIG": str(path)}).server.port == 9200


def test_secret_files_are_read_and_trailing_newline_stripped(tmp_path: Path) -> None:
    """`*_file` secrets are read once, only the trailing newline stripped."""
    token = write(tmp_path, "xoxb-from-file \n", "token")
    path = write(
        tmp_path,
        f"notifiers: [{{name: s, type: slack, channel: C1, token_file: {token}}}]\n",
    )
    config = load_config(path, {})
    slack = config.notifiers[0]
    assert slack.type == "slack"
    assert slack.token is not None
    assert slack.token.get_secret_value() == "xoxb-from-file "
    assert "xoxb" not in repr(config)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "server: {port: eighty}\n",
            ["server.port: Input should be a valid integer, unable to parse string as an integer"],
        ),
        ("server: {prot: 80}\n", ["server.prot: Extra inputs are not permitted"]),
        (
            "enrichment: {window: soon}\n",
            ["enrichment.window: expected a duration such as 15m, 1h or 90s"],
        ),
        (
            "notifiers: [{name: s, type: slack, channel: C1}]\n",
            ["notifiers.0: slack needs token or token_file"],
        ),
        (
            "notifiers: [{name: s, type: carrier-pigeon}]\n",
            [
                "notifiers.0: Input tag 'carrier-pigeon' found using 'type' does not match any of"
                " the expected tags: 'console', 'webhook', 'slack', 'pagerduty', 'teams'"
            ],
        ),
        (
            "notifiers: [{name: p, type: pagerduty}]\n",
            ["notifiers.0: pagerduty needs routing_key or routing_key_file"],
        ),
        (
            "notifiers: [{name: w, type: webhook, url: u, bearer_token: a,"
            " bearer_token_file: /x}]\n",
            [
                "notifiers.0.bearer_token_file: set either bearer_token or bearer_token_file,"
                " not both"
            ],
        ),
        (
            "notifiers: [{name: p, type: pagerduty, routing_key: k, api_token: t}]\n",
            ["notifiers.0: api_token needs from_email (PagerDuty requires a From header)"],
        ),
        (
            "notifiers: [{name: s, type: slack, channel: C1, token: a, token_file: /x}]\n",
            ["notifiers.0.token_file: set either token or token_file, not both"],
        ),
        (
            "notifiers: [{name: s, type: slack, channel: C1, token_file: /nonexistent/tok}]\n",
            ["notifiers.0.token_file: cannot read /nonexistent/tok: No such file or directory"],
        ),
        ("routes: {payments: [nobody]}\n", ["routes.payments: no notifier is named 'nobody'"]),
        ('server: {auth: {bearer_token: ""}}\n', ["server.auth.bearer_token: must not be empty"]),
        (
            "notifiers: [{name: s, type: slack, channel: C1, token_file: /dev/null}]\n",
            ["notifiers.0.token_file: /dev/null is empty"],
        ),
        (
            'server: {auth: {basic: {username: am, password: ""}}}\n',
            ["server.auth.basic.password: must not be empty"],
        ),
        (
            "notifiers: [{name: a, type: console}, {name: a, type: console}]\n",
            ["notifiers: the name 'a' is used twice"],
        ),
        (
            "enrichment: {queries: {cpu: 'rate(x[2m])'}}\n",
            ["enrichment.queries.cpu: must contain {selector}"],
        ),
        (
            "prometheus: {url: localhost:9090}\n",
            ["prometheus.url: must start with http:// or https://"],
        ),
        (
            "enrichment: {preset: cobol}\n",
            [
                "enrichment.preset: expected one of auto, jvm, go, python, dotnet, nodejs,"
                " ruby, ebpf, got 'cobol'"
            ],
        ),
        (
            "enrichment: {service_presets: {checkout: cobol}}\n",
            [
                "enrichment.service_presets.checkout: expected one of auto, jvm, go, python,"
                " dotnet, nodejs, ruby, ebpf, got 'cobol'"
            ],
        ),
        (
            "enrichment: {concurrency: 0}\n",
            ["enrichment.concurrency: Input should be greater than or equal to 1"],
        ),
        ("- a\n- b\n", ["{path}: the top level must be a mapping of sections"]),
        ("server: [\n", ["{path}: invalid YAML at line 2, column 1"]),
    ],
)
def test_errors_name_the_key_path_and_reason(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    """Each invalid config is refused with `key.path: reason` lines."""
    path = write(tmp_path, text)
    assert problems(path) == [line.replace("{path}", str(path)) for line in expected]


def test_errors_never_echo_secret_values(tmp_path: Path) -> None:
    """A wrongly typed secret is reported by key, never by value."""
    path = write(tmp_path, "server: {auth: {bearer_token: [hunter2-secret]}}\n")
    assert problems(path) == ["server.auth.bearer_token: Input should be a valid string"]


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    """A config path that does not exist is refused with the reason."""
    missing = tmp_path / "absent.yaml"
    assert problems(missing) == [f"{missing}: cannot read: No such file or directory"]


def test_check_config_cli_exit_codes(tmp_path: Path) -> None:
    """`flamebot check-config` exits 0 with a summary, or 1 naming the key path and reason."""
    good = write(tmp_path, "routes: {default: [console]}\n", "good.yaml")
    ok = check_config(good)
    assert (ok.returncode, ok.stdout, ok.stderr) == (
        0,
        "config ok: 1 notifier(s); routes: default -> console\n",
        "",
    )
    bad = write(
        tmp_path, "server: {port: 99999, auth: {bearer_token: s3cr3t-value, x: 1}}\n", "bad.yaml"
    )
    failed = check_config(bad)
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == (
        "config error:\n"
        "  server.port: Input should be less than or equal to 65535\n"
        "  server.auth.x: Extra inputs are not permitted\n"
    )


def test_config_models_are_immutable() -> None:
    """Config sections are frozen: nothing changes a loaded config behind the service's back."""
    config = Config()
    with pytest.raises(ValueError, match="frozen"):
        config.server.port = 1  # type: ignore[misc]


def test_verify_after_takes_a_duration_and_zero(tmp_path: Path) -> None:
    """`verify_after: 90s` and `0` load; a word that is no duration names the key."""
    for text, expected in (("90s", timedelta(seconds=90)), ("0", timedelta(0))):
        path = write(tmp_path, f"enrichment: {{verify_after: {text}}}\n")
        assert load_config(path, {}).enrichment.verify_after == expected
    bad = problems(write(tmp_path, "enrichment: {verify_after: soon}\n"))
    assert bad == ["enrichment.verify_after: expected a duration such as 15m, 1h or 90s"]
