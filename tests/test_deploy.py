"""The deploy files say what the docs promise, and the compose file refers only to files that exist.

Their syntax and schemas are checked by published validators in scripts/test-all (check-jsonschema's
Compose spec, hadolint, shellcheck, kubernetes-validate); these tests check what no schema knows.
"""

import configparser
import json
import re

import yaml

from .common import REPO_ROOT

DATADOG_SITES = {"datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu", "ap1.datadoghq.com",
                 "ap2.datadoghq.com", "ddog-gov.com"}  # fmt: skip


def compose_files(tracked_files):
    return [path for path in tracked_files if re.fullmatch(r"(docker-)?compose(\.[\w-]+)?\.ya?ml", path.name)]


def kubernetes_documents(tracked_files):
    for path in tracked_files:
        if "kubernetes" in path.parts and path.suffix in {".yaml", ".yml"}:
            for document in yaml.safe_load_all(path.read_text()):
                if isinstance(document, dict) and "kind" in document:
                    yield path, document


def test_every_path_the_compose_file_mounts_or_builds_from_exists(tracked_files):
    files = compose_files(tracked_files)
    assert files, "no compose file found"
    missing = []
    for compose in files:
        services = yaml.safe_load(compose.read_text())["services"]
        for name, service in services.items():
            for volume in service.get("volumes", []):
                source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
                if source.startswith((".", "/")) and not (compose.parent / source).exists():
                    missing.append(f"{compose.name}: {name} mounts {source}")
            build = service.get("build")
            if build:
                context = compose.parent / (build if isinstance(build, str) else build.get("context", "."))
                dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
                if not (context / dockerfile).is_file():
                    missing.append(f"{compose.name}: {name} builds from {context / dockerfile}")
    assert not missing, "\n".join(missing)


def test_the_helm_values_name_the_datadog_site():
    values = yaml.safe_load((REPO_ROOT / "deploy" / "kubernetes" / "values.yaml").read_text())
    assert values["datadog"].get("site") in DATADOG_SITES


def test_an_app_pod_example_sends_traces_to_the_node_agent_via_status_host_ip(tracked_files):
    found = []
    for path, document in kubernetes_documents(tracked_files):
        pod = document.get("spec", {}).get("template", {}).get("spec", document.get("spec", {}))
        for container in pod.get("containers", []):
            env = {item["name"]: item for item in container.get("env", [])}
            if "DD_AGENT_HOST" in env:
                found.append((path.name, env))
    assert found, "no Kubernetes manifest gives an app container DD_AGENT_HOST"
    for name, env in found:
        assert env["DD_AGENT_HOST"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP", name
        assert {"DD_ENV", "DD_SERVICE", "DD_VERSION"} <= env.keys(), name


def test_the_systemd_drop_in_gives_the_agent_the_mysql_password_from_a_root_only_file():
    drop_in = REPO_ROOT / "deploy" / "agent" / "systemd" / "datadog-agent.service.d" / "mysql-password.conf"
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str
    unit.read_string(drop_in.read_text())
    environment_file = unit["Service"]["EnvironmentFile"]
    assert environment_file.startswith("/etc/datadog-agent/"), environment_file
    assert "Environment" not in unit["Service"], "Environment= values are readable by any user (systemctl show)"
    readme = (REPO_ROOT / "deploy" / "README.md").read_text()
    assert str(drop_in.relative_to(REPO_ROOT / "deploy")) in readme
    assert "/etc/systemd/system/datadog-agent.service.d/" in readme
    assert re.search(rf"install -m 0?600 .*{re.escape(environment_file)}", readme), "the password file must be 0600"


def test_the_mysql_autodiscovery_annotation_holds_a_check_config_with_the_password_from_the_environment():
    fragment = yaml.safe_load((REPO_ROOT / "deploy" / "kubernetes" / "mysql-pod-annotations.yaml").read_text())
    checks = json.loads(fragment["metadata"]["annotations"]["ad.datadoghq.com/mysql.checks"])
    (instance,) = checks["mysql"]["instances"]
    assert instance["host"] == "%%host%%"
    assert instance["password"] == "%%env_DD_MYSQL_PASSWORD%%"
