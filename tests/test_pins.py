"""The Agent image and Helm chart pins (deploy/versions.env) agree with every file that repeats them, the
README's Agent table says what each part needs, and deploy/pin-versions moves the pins everywhere."""

import re
import subprocess
import tomllib

from packaging.requirements import Requirement

from .common import AGENT_TABLE, FIRST_AGENT_FOR_PYTHON, REPO_ROOT, python_floor

# ddtrace major -> the oldest Agent whose trace intake it supports (Datadog's "Migrate to dd-trace-py v4"
# guide: "Datadog Agent: v7.63.0 or newer").
AGENT_FOR_DDTRACE = {4: "7.63"}


def pins(root) -> dict[str, str]:
    lines = (root / "deploy" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def agent_table_rows(root) -> list[str]:
    match = AGENT_TABLE.search((root / "README.md").read_text())
    assert match, "README.md has no <!-- agent-table --> ... <!-- /agent-table --> section"
    return [line for line in match.group(1).splitlines() if line.startswith("|")]


def row_naming(rows, name) -> str:
    [row] = [row for row in rows if name in row]
    return row


def helm_commands(root) -> list[tuple[str, str]]:
    """(file, command) of every helm install/upgrade of the Datadog chart in the docs and deploy files."""
    commands = []
    for path in [root / "README.md", *(root / "deploy").rglob("*")]:
        if path.is_file() and path.suffix in {".md", ".yaml", ".yml"}:
            for command in re.findall(r"helm (?:upgrade|install)\b[^\n]*datadog/datadog[^\n]*", path.read_text()):
                commands.append((str(path.relative_to(root)), command))
    return commands


def disagreements(root) -> list[str]:
    """Where a file repeats a pin with another value (empty when every file agrees with versions.env)."""
    pinned = pins(root)
    agent, chart = pinned["AGENT_TAG"], pinned["DATADOG_HELM_CHART_VERSION"]
    found = []
    dockerfile = (root / "deploy" / "agent-image" / "Dockerfile").read_text()
    if f"\nARG AGENT_TAG={agent}\n" not in dockerfile:
        found.append(f"deploy/agent-image/Dockerfile: ARG AGENT_TAG is not {agent}")
    rows = agent_table_rows(root)
    if f"`gcr.io/datadoghq/agent:{agent}`" not in row_naming(rows, "deploy/agent-image/Dockerfile"):
        found.append(f"README.md Agent table: the image row does not name gcr.io/datadoghq/agent:{agent}")
    if f"`datadog/datadog --version {chart}`" not in row_naming(rows, "Helm chart"):
        found.append(f"README.md Agent table: the chart row does not name version {chart}")
    for path, command in helm_commands(root):
        if not re.search(rf"--version {re.escape(chart)}(\s|$)", command):
            found.append(f"{path}: {command!r} does not pin --version {chart}")
    return found


def test_pins_are_release_versions():
    pinned = pins(REPO_ROOT)
    # A floating tag (7, latest) or chart (no --version) is what the pins replace.
    assert re.fullmatch(r"7\.\d+\.\d+", pinned["AGENT_TAG"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned["DATADOG_HELM_CHART_VERSION"])


def test_every_file_that_repeats_a_pin_agrees_with_versions_env():
    assert helm_commands(REPO_ROOT), "no helm command for the Datadog chart in README.md or deploy/"
    assert disagreements(REPO_ROOT) == []


def test_agent_table_says_what_each_part_needs():
    rows = agent_table_rows(REPO_ROOT)
    # The check: the oldest Agent embedding the Python the wheel requires.
    assert f"Agent {FIRST_AGENT_FOR_PYTHON[python_floor()]} or later" in row_naming(rows, "`my_metric`")
    # The traced app: what its ddtrace major needs for trace intake.
    project = tomllib.loads((REPO_ROOT / "flask_demo" / "pyproject.toml").read_text())["project"]
    [ddtrace] = [Requirement(line) for line in project["dependencies"] if Requirement(line).name == "ddtrace"]
    [major] = {int(spec.version.split(".")[0]) for spec in ddtrace.specifier if spec.operator == ">="}
    assert f"Agent {AGENT_FOR_DDTRACE[major]} or later" in row_naming(rows, "`flask_demo`")
    # The provisioning command talks to the API only.
    assert "no Agent" in row_naming(rows, "`my-metric-provision`")


def test_pin_versions_moves_every_pin(copy_of_repository):
    moved = subprocess.run(
        ["deploy/pin-versions", "--agent-tag", "7.99.1", "--chart-version", "9.8.7"],
        cwd=copy_of_repository,
        capture_output=True,
        text=True,
    )

    assert moved.returncode == 0, moved.stderr
    assert pins(copy_of_repository) == {"AGENT_TAG": "7.99.1", "DATADOG_HELM_CHART_VERSION": "9.8.7"}
    assert disagreements(copy_of_repository) == []
    # Only the pins moved: the rest of versions.env (its comments) is as it was.
    original = (REPO_ROOT / "deploy" / "versions.env").read_text()
    assert (copy_of_repository / "deploy" / "versions.env").read_text().count("#") == original.count("#")


def test_pin_versions_refuses_a_floating_tag(copy_of_repository):
    refused = subprocess.run(
        ["deploy/pin-versions", "--agent-tag", "7"], cwd=copy_of_repository, capture_output=True, text=True
    )

    assert refused.returncode == 2
    assert "--agent-tag" in refused.stderr
    assert pins(copy_of_repository) == pins(REPO_ROOT)
