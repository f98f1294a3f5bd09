"""The Helm chart: strict lint, offline render, Kubernetes schemas and the settings it promises."""

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.packaging.deployment import NOTIFIERS, ROUTES, SECRETS_DIR

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "flamebot"
KUBERNETES_VERSION = "1.30"
RELEASE = "flamebot"
NAMESPACE = "monitoring"
# Where NOTES.txt suggests Alertmanager mounts its copy of the credential.
AM_SECRETS_DIR = "/etc/alertmanager/secrets/flamebot"

# The one lint finding a strict lint leaves: an informational note (severity 1), not a warning.
LINT_CLEAN = {
    "total_charts_linted": 1,
    "messages": [{"severity": 1, "path": "Chart.yaml", "error": "icon is recommended"}],
    "errors": [],
}
SELECTOR_LABELS = {"app.kubernetes.io/name": "flamebot", "app.kubernetes.io/instance": RELEASE}
LABELS = {
    **SELECTOR_LABELS,
    "helm.sh/chart": "flamebot-0.1.0",
    "app.kubernetes.io/version": "0.1.0",
    "app.kubernetes.io/managed-by": "Helm",
}


# Every opt-in feature on, the credentials in a Secret the chart does not own.
ALL_OPTIONS = {
    "auth": {"type": "basic", "username": "am"},
    "secrets": {"existingSecret": "flamebot-credentials"},
    "persistence": {"enabled": True, "storageClass": "fast-ssd", "size": "5Gi"},
    "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "podDisruptionBudget": {"enabled": True},
    "networkPolicy": {
        "enabled": True,
        "ingressFrom": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "alertmanager"}},
            }
        ],
    },
    "config": {"notifiers": NOTIFIERS, "routes": ROUTES},
}
# Every secret value given to the chart, which then creates the Secret.
CHART_SECRETS = {
    "secrets": {
        "webhookBearerToken": "am-token",
        "slackToken": "xoxb-test",
        "pagerdutyRoutingKey": "routing-key",
        "pagerdutyApiToken": "api-token",
    },
    "config": {"notifiers": NOTIFIERS, "routes": ROUTES},
}

POSTGRES = {
    "replicaCount": 3,
    "store": {"type": "postgresql", "leaseSeconds": 20},
    "secrets": {"postgresqlUrl": "postgresql://flamebot:pw@db:5432/flamebot"},
}


def render(values: dict[str, Any] | None = None) -> dict[str, str]:
    """Render the chart offline as a fresh install; template path -> text."""
    with helm.Chart.load(CHART) as chart:
        return chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def manifests(values: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The rendered objects by kind (the chart renders at most one of each)."""
    objects: dict[str, dict[str, Any]] = {}
    for path, text in render(values).items():
        if path.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                assert document["kind"] not in objects
                objects[document["kind"]] = document
    return objects


def flamebot_config(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The flamebot config file carried by the rendered ConfigMap."""
    config: dict[str, Any] = yaml.safe_load(objects["ConfigMap"]["data"]["config.yaml"])
    return config


def pod_spec(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The pod template spec of the rendered Deployment."""
    spec: dict[str, Any] = objects["Deployment"]["spec"]["template"]["spec"]
    return spec


def file_references(node: Any) -> set[str]:
    """Every value of a `*_file` key anywhere in a config tree."""
    if isinstance(node, dict):
        found = {v for k, v in node.items() if k.endswith("_file")}
        return found.union(*(file_references(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(file_references(v) for v in node))
    return set()


def test_chart_lints_strictly_with_default_values() -> None:
    """`helm lint --strict` finds no warning or error with the default values."""
    assert helm.lint(CHART, strict=True, kube_version=f"v{KUBERNETES_VERSION}.0") == LINT_CLEAN


@pytest.mark.parametrize(
    "values", [ALL_OPTIONS, CHART_SECRETS, POSTGRES], ids=["all-options", "secrets", "postgresql"]
)
def test_chart_lints_strictly_with_non_default_values(values: dict[str, Any]) -> None:
    """`helm lint --strict` finds no warning or error with every option switched on."""
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{KUBERNETES_VERSION}.0")
    assert report == LINT_CLEAN


@pytest.mark.parametrize(
    ("values", "kinds"),
    [
        (None, {"ConfigMap", "Deployment", "Secret", "Service", "ServiceAccount"}),
        (
            ALL_OPTIONS,
            {
                "ConfigMap",
                "Deployment",
                "NetworkPolicy",
                "PersistentVolumeClaim",
                "PodDisruptionBudget",
                "Service",
                "ServiceAccount",
                "ServiceMonitor",
            },
        ),
        (CHART_SECRETS, {"ConfigMap", "Deployment", "Secret", "Service", "ServiceAccount"}),
        (
            POSTGRES,
            {
                "ConfigMap",
                "Deployment",
                "PodDisruptionBudget",
                "Secret",
                "Service",
                "ServiceAccount",
            },
        ),
    ],
    ids=["defaults", "all-options", "secrets", "postgresql"],
)
def test_rendered_objects_validate_strictly_against_kubernetes_schemas(
    values: dict[str, Any] | None, kinds: set[str]
) -> None:
    """Every rendered object but the ServiceMonitor CRD passes the strict Kubernetes schema."""
    objects = manifests(values)
    assert set(objects) == kinds
    for kind, document in objects.items():
        assert document["metadata"]["labels"] == LABELS | (
            {"release": "kube-prometheus-stack"} if kind == "ServiceMonitor" else {}
        )
        assert document["metadata"]["namespace"] == NAMESPACE
        if kind != "ServiceMonitor":
            validated = kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
            assert validated == KUBERNETES_VERSION


def test_service_monitor_scrapes_metrics_from_the_service_http_port() -> None:
    """The opt-in ServiceMonitor selects the Service and scrapes /metrics on its `http` port."""
    objects = manifests(ALL_OPTIONS)
    monitor, service = objects["ServiceMonitor"], objects["Service"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["kind"] == "ServiceMonitor"
    assert monitor["metadata"]["name"] == "flamebot"
    assert monitor["spec"] == {
        "namespaceSelector": {"matchNames": [NAMESPACE]},
        "selector": {"matchLabels": SELECTOR_LABELS},
        "endpoints": [
            {"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
        ],
    }
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert [port["name"] for port in service["spec"]["ports"]] == ["http"]


def test_service_is_cluster_ip_on_port_8080_named_http() -> None:
    """The Service exposes the pod's `http` port as ClusterIP port 8080."""
    service = manifests()["Service"]
    assert service["spec"] == {
        "type": "ClusterIP",
        "ports": [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}],
        "selector": SELECTOR_LABELS,
    }


def test_pod_runs_as_numeric_non_root_user_with_read_only_root_filesystem() -> None:
    """The pod and container security contexts are locked down by default."""
    objects = manifests()
    spec = pod_spec(objects)
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["containers"][0]["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == "flamebot"
    assert objects["ServiceAccount"]["automountServiceAccountToken"] is False


def test_deployment_runs_one_replica_of_flamebot_serve_with_probes() -> None:
    """One replica, recreated on update, serves with liveness /healthz and readiness /readyz."""
    deployment = manifests()["Deployment"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "flamebot:0.1.0"
    assert container["args"] == ["serve", "--config", "/etc/flamebot/config.yaml"]
    assert container["env"] == [{"name": "FLAMEBOT_CONFIG", "value": "/etc/flamebot/config.yaml"}]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["livenessProbe"] == probe("/healthz", delay=5, period=10, failures=3)
    assert container["readinessProbe"] == probe("/readyz", delay=2, period=5, failures=2)
    assert container["resources"] == {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30


def probe(path: str, *, delay: int, period: int, failures: int) -> dict[str, Any]:
    """A Kubernetes HTTP probe of the container's `http` port with a 2 s timeout."""
    return {
        "httpGet": {"path": path, "port": "http"},
        "initialDelaySeconds": delay,
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def test_default_config_listens_on_all_interfaces_with_the_store_on_the_volume() -> None:
    """The chart's config binds 0.0.0.0, stores on the emptyDir and requires a bearer token."""
    objects = manifests()
    assert flamebot_config(objects) == {
        "server": {
            "host": "0.0.0.0",
            "port": 8080,
            "auth": {"bearer_token_file": f"{SECRETS_DIR}/webhook-bearer-token"},
        },
        "store": {"path": "/var/lib/flamebot/flamebot.db"},
    }
    spec = pod_spec(objects)
    assert spec["containers"][0]["volumeMounts"] == [
        {
            "name": "config",
            "mountPath": "/etc/flamebot/config.yaml",
            "subPath": "config.yaml",
            "readOnly": True,
        },
        {"name": "store", "mountPath": "/var/lib/flamebot"},
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True},
    ]
    assert spec["volumes"] == [
        {"name": "config", "configMap": {"name": "flamebot"}},
        {"name": "store", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        {"name": "secrets", "secret": {"secretName": "flamebot", "defaultMode": 0o440}},
    ]


def test_user_config_overrides_listen_address_and_store_path() -> None:
    """A user's server.host, port and store.path win; the container port and volume follow."""
    values = {
        "auth": {"type": "none"},
        "config": {
            "server": {"host": "::", "port": 9000, "shutdown_grace_seconds": 45},
            "store": {"path": "/data/flamebot/state.db"},
            "queue": {"max_pending": 20000, "workers": 4},
        },
    }
    objects = manifests(values)
    assert flamebot_config(objects) == {
        "server": {"host": "::", "port": 9000, "shutdown_grace_seconds": 45},
        "store": {"path": "/data/flamebot/state.db"},
        "queue": {"max_pending": 20000, "workers": 4},
    }
    spec = pod_spec(objects)
    container = spec["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": 9000, "protocol": "TCP"}]
    assert {"name": "store", "mountPath": "/data/flamebot"} in container["volumeMounts"]
    assert spec["terminationGracePeriodSeconds"] == 55
    assert "Secret" not in objects
    assert [v["name"] for v in spec["volumes"]] == ["config", "store", "tmp"]


def test_relative_store_path_fails_to_render() -> None:
    """A store.path the volume cannot be mounted for is refused with the reason."""
    with pytest.raises(helm.HelmRenderError) as caught:
        render({"config": {"store": {"path": "./flamebot.db"}}})
    assert (
        "config.store.path must be an absolute path (the volume is mounted at its folder),"
        ' got "./flamebot.db"'
    ) in str(caught.value)


def test_persistence_keeps_the_store_on_a_claim() -> None:
    """With persistence on, the store volume is a ReadWriteOnce PVC of the requested size."""
    objects = manifests(ALL_OPTIONS)
    assert objects["PersistentVolumeClaim"]["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "fast-ssd",
        "resources": {"requests": {"storage": "5Gi"}},
    }
    volumes = {v["name"]: v for v in pod_spec(objects)["volumes"]}
    assert volumes["store"] == {"name": "store", "persistentVolumeClaim": {"claimName": "flamebot"}}


def test_every_secret_file_the_config_reads_is_a_key_of_the_mounted_secret() -> None:
    """The config's `*_file` paths are exactly the chart Secret's keys under its mount path."""
    objects = manifests(CHART_SECRETS)
    secret = objects["Secret"]
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {
        "webhook-bearer-token": "am-token",
        "slack-token": "xoxb-test",
        "pagerduty-routing-key": "routing-key",
        "pagerduty-api-token": "api-token",
    }
    spec = pod_spec(objects)
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "secrets")
    volume = next(v for v in spec["volumes"] if v["name"] == "secrets")
    assert mount == {"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True}
    assert volume["secret"] == {"secretName": secret["metadata"]["name"], "defaultMode": 0o440}
    config = flamebot_config(objects)
    assert file_references(config) == {f"{SECRETS_DIR}/{key}" for key in decoded}
    assert config["server"]["auth"] == {"bearer_token_file": f"{SECRETS_DIR}/webhook-bearer-token"}
    assert config["notifiers"] == NOTIFIERS


def test_slack_signing_secret_is_a_key_the_slack_block_reads() -> None:
    """secrets.slackSigningSecret is the Secret file that slack.signing_secret_file reads."""
    reference = {"signing_secret_file": f"{SECRETS_DIR}/slack-signing-secret"}
    objects = manifests(
        {
            "secrets": {"webhookBearerToken": "am-token", "slackSigningSecret": "s1gn1ng"},
            "config": {"slack": reference},
        }
    )
    decoded = {k: base64.b64decode(v).decode() for k, v in objects["Secret"]["data"].items()}
    assert decoded == {"webhook-bearer-token": "am-token", "slack-signing-secret": "s1gn1ng"}
    assert flamebot_config(objects)["slack"] == reference


def test_existing_secret_is_mounted_instead_of_a_chart_secret() -> None:
    """With existingSecret the chart creates no Secret and basic auth reads that Secret's file."""
    objects = manifests(ALL_OPTIONS)
    assert "Secret" not in objects
    spec = pod_spec(objects)
    volume = next(v for v in spec["volumes"] if v["name"] == "secrets")
    assert volume["secret"] == {"secretName": "flamebot-credentials", "defaultMode": 0o440}
    config = flamebot_config(objects)
    assert config["server"]["auth"] == {
        "basic": {"username": "am", "password_file": f"{SECRETS_DIR}/webhook-password"}
    }
    assert file_references(config) == {
        f"{SECRETS_DIR}/webhook-password",
        f"{SECRETS_DIR}/slack-token",
        f"{SECRETS_DIR}/pagerduty-routing-key",
        f"{SECRETS_DIR}/pagerduty-api-token",
    }
    annotations = objects["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert set(annotations) == {"checksum/config"}


def test_missing_webhook_token_is_generated() -> None:
    """Without a token or existingSecret, the Secret holds a generated 32-character token."""
    secret = manifests()["Secret"]
    assert set(secret["data"]) == {"webhook-bearer-token"}
    token = base64.b64decode(secret["data"]["webhook-bearer-token"]).decode()
    assert len(token) == 32
    assert token.isalnum()


def test_config_change_changes_the_pod_checksum() -> None:
    """The checksum/config annotation follows the config, so a config change rolls the pod."""

    def checksum(values: dict[str, Any]) -> str:
        template = manifests(values)["Deployment"]["spec"]["template"]
        annotation: str = template["metadata"]["annotations"]["checksum/config"]
        return annotation

    first = {"config": {"enrichment": {"deadline_seconds": 8}}}
    second = {"config": {"enrichment": {"deadline_seconds": 5}}}
    assert checksum(first) == checksum(first)
    assert checksum(first) != checksum(second)
    assert len(checksum(first)) == 64


def test_opt_in_policies_allow_drains_and_restrict_ingress_to_the_http_port() -> None:
    """The PDB allows one pod down; the NetworkPolicy admits the peers on `http` only."""
    objects = manifests(ALL_OPTIONS)
    assert objects["PodDisruptionBudget"]["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": SELECTOR_LABELS},
    }
    assert objects["NetworkPolicy"]["spec"] == {
        "podSelector": {"matchLabels": SELECTOR_LABELS},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "ports": [{"port": "http", "protocol": "TCP"}],
                "from": ALL_OPTIONS["networkPolicy"]["ingressFrom"],
            }
        ],
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicaCount": "two"}, "- at '/replicaCount': got string, want integer"),
        ({"service": {"port": "x"}}, "- at '/service/port': got string, want integer"),
        ({"replicaCount": 2}, "- at '/store/type': value must be 'postgresql'"),
        (
            {"persistance": {"enabled": True}},
            "- at '': additional properties 'persistance' not allowed",
        ),
        (
            {"auth": {"type": "token"}},
            "- at '/auth/type': value must be one of 'bearer', 'basic', 'none'",
        ),
    ],
    ids=["replicas-type", "port-type", "replicas-cap", "unknown-key", "auth-enum"],
)
def test_values_schema_rejects_invalid_values(values: dict[str, Any], message: str) -> None:
    """A wrong type, an unknown key or a second replica on SQLite fails lint and render."""
    report = helm.lint(CHART, values, strict=True)
    assert report["errors"] == [
        f"{message}\n",
        f"values don't meet the specifications of the schema(s) in the following chart(s):\n"
        f"flamebot:\n{message}\n",
    ]
    with pytest.raises(helm.HelmValuesError) as caught:
        render(values)
    assert message in str(caught.value)


def notes_snippet(values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Alertmanager configuration printed by NOTES.txt, parsed."""
    notes = render(values)["flamebot/templates/NOTES.txt"]
    snippet: dict[str, Any] = yaml.safe_load(notes[notes.index("receivers:") :])
    return snippet


def test_notes_print_the_webhook_config_with_bearer_credentials_file() -> None:
    """NOTES.txt prints a webhook_configs entry with the in-cluster URL and the bearer file."""
    assert notes_snippet() == {
        "receivers": [
            {
                "name": "flamebot",
                "webhook_configs": [
                    {
                        "url": "http://flamebot.monitoring.svc:8080/webhook",
                        "send_resolved": True,
                        "http_config": {
                            "authorization": {
                                "type": "Bearer",
                                "credentials_file": f"{AM_SECRETS_DIR}/webhook-bearer-token",
                            }
                        },
                    }
                ],
            }
        ],
        "route": {
            "routes": [
                {"receiver": "flamebot", "group_by": ["alertname", "instance"], "continue": True}
            ]
        },
    }


def test_notes_print_basic_auth_for_basic_webhook_auth() -> None:
    """With basic auth, the printed webhook_configs entry uses basic_auth with a password file."""
    receiver = notes_snippet(ALL_OPTIONS)["receivers"][0]["webhook_configs"][0]
    assert receiver == {
        "url": "http://flamebot.monitoring.svc:8080/webhook",
        "send_resolved": True,
        "http_config": {
            "basic_auth": {
                "username": "am",
                "password_file": f"{AM_SECRETS_DIR}/webhook-password",
            }
        },
    }


@pytest.mark.parametrize("values", [None, ALL_OPTIONS], ids=["bearer", "basic"])
def test_notes_snippet_passes_amtool_check_config(
    values: dict[str, Any] | None, tmp_path: Path
) -> None:
    """The printed snippet, under a root route, is a valid Alertmanager 0.28 configuration."""
    amtool = ROOT / ".tools" / "bin" / "amtool"
    assert amtool.exists(), f"{amtool} is missing: run ./scripts/install-tools.sh"
    snippet = notes_snippet(values)
    snippet["route"]["receiver"] = "flamebot"
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(snippet))
    result = subprocess.run(
        [amtool, "check-config", tmp_path / "alertmanager.yml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " - 1 receivers\n" in result.stdout


@pytest.mark.parametrize("values", [None, CHART_SECRETS], ids=["defaults", "secrets"])
def test_rendered_config_passes_flamebot_check_config(
    values: dict[str, Any] | None, tmp_path: Path
) -> None:
    """The config file the chart renders is valid for flamebot, with its secret files in place."""
    flamebot = Path(sys.executable).parent / "flamebot"
    assert flamebot.exists(), f"{flamebot} is missing: run `make install`"
    text = manifests(values)["ConfigMap"]["data"]["config.yaml"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for reference in file_references(yaml.safe_load(text)):
        (secrets / Path(reference).name).write_text("test-secret\n")
    text = text.replace(SECRETS_DIR, str(secrets)).replace("/var/lib/flamebot", str(tmp_path))
    (tmp_path / "config.yaml").write_text(text)
    result = subprocess.run(
        [flamebot, "check-config", "--config", tmp_path / "config.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_chart_ships_no_dependencies() -> None:
    """The chart renders offline: no dependencies to fetch, no charts/ folder to vendor."""
    with helm.Chart.load(CHART) as chart:
        assert chart.dependencies == []
        assert "dependencies" not in chart.metadata
    assert not (CHART / "charts").exists()


def test_replicas_on_postgresql_roll_one_at_a_time_with_a_pdb_and_the_dsn_from_a_secret() -> None:
    """replicaCount > 1 with PostgreSQL: RollingUpdate, a PDB, store.url_file from the Secret."""
    objects = manifests(POSTGRES)
    deployment = objects["Deployment"]["spec"]
    assert deployment["replicas"] == 3
    assert deployment["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    assert objects["PodDisruptionBudget"]["spec"] == {
        "minAvailable": 1,
        "selector": {"matchLabels": SELECTOR_LABELS},
    }
    store = flamebot_config(objects)["store"]
    assert store["url_file"] == "/etc/flamebot/secrets/postgresql-url"
    assert store["lease_seconds"] == 20
    secret = objects["Secret"]["data"]
    assert base64.b64decode(secret["postgresql-url"]).decode() == (
        "postgresql://flamebot:pw@db:5432/flamebot"
    )
    assert "postgresql://" not in objects["ConfigMap"]["data"]["config.yaml"]  # a secret
    assert helm.lint(CHART, POSTGRES, strict=True)["errors"] == []


def test_postgresql_without_a_dsn_fails_to_render() -> None:
    """store.type postgresql with neither secrets.postgresqlUrl nor an existing Secret fails."""
    with pytest.raises(helm.HelmRenderError) as caught:
        render({"store": {"type": "postgresql"}})
    assert "store.type postgresql needs the DSN: set secrets.postgresqlUrl" in str(caught.value)
