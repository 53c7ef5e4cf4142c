"""deploy/README.md step 1, run as written on the system it names: Debian 12, whose python3 is 3.11 and
whose pip refuses system-wide installs (PEP 668), against the MySQL/MariaDB server of MYSQL_HOST/MYSQL_PORT."""

import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest

from .common import REPO_ROOT

# Debian 12's python3; a Python 3.11 from pyenv stands in for it on a machine without it.
PYTHON_311_CANDIDATES = ["/usr/bin/python3.11", str(Path.home() / ".pyenv/versions/3.11.7/bin/python3.11")]


def step_one_blocks() -> list[str]:
    """The shell blocks of step 1: the virtualenv path, then the SQL path."""
    readme = (REPO_ROOT / "deploy" / "README.md").read_text()
    step = readme[readme.index("## 1. ") : readme.index("## 2. ")]
    return re.findall(r"```shell\n(.*?)```", step, re.S)


def step_one_commands() -> list[str]:
    """The command lines of the first shell block of step 1, without comments and the `sudo` package install."""
    lines = [line.split("  #")[0].strip() for line in step_one_blocks()[0].splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "sudo "))]


@pytest.fixture
def debian_python(tmp_path):
    """A PATH whose python3 is a Python 3.11, as on Debian 12."""
    python = next((path for path in PYTHON_311_CANDIDATES if Path(path).is_file()), None)
    assert python, f"no Python 3.11 to stand for Debian 12's python3 (looked for {PYTHON_311_CANDIDATES})"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(python)
    return f"{bin_dir}:/usr/bin:/bin"


def test_step_one_installs_applies_and_verifies_with_debian_12s_python(tmp_path, debian_python):
    user = f"dd_test_{secrets.token_hex(4)}"  # never the machine's own `datadog` account
    home = tmp_path / "home"
    home.mkdir()
    env = {**{k: v for k, v in os.environ.items() if k.startswith(("PIP_", "MYSQL_"))},
           "HOME": str(home), "PATH": debian_python, "DD_MYSQL_USER": user}  # fmt: skip
    commands = step_one_commands()
    # The dependencies come hash-checked from the package's exported lock, the package itself without them.
    assert any("--require-hashes -r mysql_datadog_user/requirements.txt" in command for command in commands), commands
    assert any(command.endswith("pip install --no-deps ./mysql_datadog_user") for command in commands), commands
    try:
        done = subprocess.run(["bash", "-euc", "\n".join(commands)], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        version = subprocess.run([home / "mysql-datadog-user" / "bin" / "python", "--version"],
                                 capture_output=True, text=True).stdout  # fmt: skip
        assert version.startswith("Python 3.11"), version
        assert f"created '{user}'@'%'" in done.stdout
        assert re.findall(r"^(PASS|FAIL) ", done.stdout, re.M) and "FAIL" not in done.stdout, done.stdout
    finally:
        command = home / "mysql-datadog-user" / "bin" / "mysql-datadog-user"
        if command.exists():
            subprocess.run([command, "drop", "--user", user], env=env, capture_output=True)


def test_step_one_without_python_makes_the_account_with_the_documented_grants(tmp_path):
    """The SQL path as written, for an account of the test's own and the admin password of MYSQL_ROOT_PASSWORD."""
    user, password = f"dd_test_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    [command] = [block for block in step_one_blocks()[1:] if block.startswith("mysql ")]
    command = command.replace("'datadog'", f"'{user}'").replace("'<a strong password>'", f"'{password}'")
    command = command.replace(" -p ", " ")  # the password comes from MYSQL_PWD, not a prompt
    env = {"PATH": "/usr/bin:/bin", "MYSQL_PWD": os.environ.get("MYSQL_ROOT_PASSWORD", "")}
    try:
        done = subprocess.run(["bash", "-euc", command], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        # The account logs in with that password and holds the documented grants.
        as_user = ["mysql", "-h", "127.0.0.1", "-u", user, "-N", "-e", "SHOW GRANTS"]
        grants = subprocess.run(as_user, env={**env, "MYSQL_PWD": password}, capture_output=True, text=True)
        assert grants.returncode == 0, grants.stderr
        for grant in ("PROCESS", "MAX_USER_CONNECTIONS 5", "GRANT SELECT ON `performance_schema`.*"):
            assert grant in grants.stdout, grants.stdout
    finally:
        drop = f"DROP USER IF EXISTS '{user}'@'%'"
        subprocess.run(["mysql", "-h", "127.0.0.1", "-u", "root", "-e", drop], env=env, capture_output=True)
