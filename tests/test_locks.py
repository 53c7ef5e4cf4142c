"""Every lock (scripts/lock) matches the inputs it was made from, and the command says when one does not."""

import re
import subprocess
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .common import REPO_ROOT

LOCK = ["scripts/lock", "--check"]


def check_locks(root):
    return subprocess.run(LOCK, cwd=root, capture_output=True, text=True)


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_every_lock_matches_its_inputs():
    result = check_locks(REPO_ROOT)
    assert result.returncode == 0, result.stderr


def test_a_changed_dependency_makes_the_locks_that_hold_it_stale(copy_of_repository):
    edit(copy_of_repository / "provisioning" / "pyproject.toml", '"pyyaml>=6",', '"pyyaml>=6",\n  "tomli-w>=1",')
    edit(copy_of_repository / "scripts" / "requirements-dev.in", "detect-secrets==1.5.0", "detect-secrets==1.4.0")

    result = check_locks(copy_of_repository)

    assert result.returncode == 1
    stale = set(re.findall(r"^stale: (\S+)", result.stderr, re.MULTILINE))
    # .venv-local holds provisioning's dependencies too; the other locks are untouched.
    assert stale == {"provisioning/uv.lock", "scripts/requirements-local.txt", "scripts/requirements-dev.txt"}
    assert "scripts/lock" in result.stderr


def test_a_new_agent_python_lock_input_is_stale_until_locked(copy_of_repository):
    locks = copy_of_repository / "agent_standin" / "agent_standin" / "agent_python_locks"
    (locks / "datadog-checks-base-37.21.0.in").write_text("datadog-checks-base[deps]==37.21.0\npip\n")

    result = check_locks(copy_of_repository)

    assert result.returncode == 1
    assert re.findall(r"^stale: (\S+)", result.stderr, re.MULTILINE) == [
        "agent_standin/agent_standin/agent_python_locks/datadog-checks-base-37.21.0.txt"
    ]


def test_a_dependency_on_a_package_of_this_repository_is_taken_from_its_folder():
    # Without a path source uv would look the name up on PyPI (where anyone may publish it).
    pyprojects = sorted(REPO_ROOT.glob("*/pyproject.toml"))
    documents = {path.parent.name: tomllib.loads(path.read_text()) for path in pyprojects}
    own = {canonicalize_name(document["project"]["name"]): folder for folder, document in documents.items()}
    for folder, document in documents.items():
        requirements = [*document["project"].get("dependencies", [])]
        for group in document.get("dependency-groups", {}).values():
            requirements += [item for item in group if isinstance(item, str)]
        sources = {canonicalize_name(name): source for name, source in _uv_sources(document).items()}
        for requirement in map(Requirement, requirements):
            name = canonicalize_name(requirement.name)
            if name in own and folder != "my_metric":
                assert sources.get(name, {}).get("path") == f"../{own[name]}", f"{folder} takes {name} from PyPI"


def _uv_sources(document):
    return document.get("tool", {}).get("uv", {}).get("sources", {})


def test_package_environments_are_declared_where_the_locks_read_them():
    # test-all and scripts/lock read [dependency-groups]; a hatch environment's dependencies would be
    # installed by nothing (my_metric keeps hatch: ddev's environments follow integrations-extras).
    declared = {}
    for path in sorted(REPO_ROOT.glob("*/pyproject.toml")):
        environments = tomllib.loads(path.read_text()).get("tool", {}).get("hatch", {}).get("envs", {})
        if path.parent.name != "my_metric" and environments:
            declared[path.parent.name] = sorted(environments)
    assert declared == {}, "hatch environments outside my_metric; move their dependencies to [dependency-groups]"


def test_an_export_that_no_longer_matches_its_uv_lock_is_stale(copy_of_repository):
    # What the deploy README installs must be what mysql_datadog_user/uv.lock holds, byte for byte.
    exported = copy_of_repository / "mysql_datadog_user" / "requirements.txt"
    text = exported.read_text()
    pinned = re.search(r"^pymysql==(\S+)", text, re.MULTILINE)
    assert pinned, text
    exported.write_text(text.replace(f"pymysql=={pinned.group(1)}", "pymysql==1.0.0"))

    result = check_locks(copy_of_repository)

    assert result.returncode == 1
    assert set(re.findall(r"^stale: (\S+)", result.stderr, re.MULTILINE)) == {"mysql_datadog_user/requirements.txt"}
