"""scripts/scan-secrets: pinned `uses:` references pass, key-shaped strings anywhere else fail."""

import secrets
import subprocess
import sys

import pytest

from .common import REPO_ROOT

SCAN = REPO_ROOT / "scripts" / "scan-secrets"
COMMIT = secrets.token_hex(20)


def scan(tmp_path, name: str, text: str) -> subprocess.CompletedProcess:
    target = tmp_path / name
    target.write_text(text)
    # cwd: the repository, so detect-secrets reads the real baseline, as in test-all.
    return subprocess.run([sys.executable, SCAN, str(target)], cwd=REPO_ROOT, capture_output=True, text=True)


@pytest.mark.parametrize(
    "line",
    [
        f"    uses: DataDog/integrations-core/.github/workflows/test-target.yml@{COMMIT}\n",
        f"  - uses: actions/checkout@{COMMIT} # v4.2.2\n",
        f"uses: owner/repo@{COMMIT}\n",
    ],
)
def test_a_workflow_pinned_by_commit_passes(tmp_path, line):
    result = scan(tmp_path, "workflow.yml", f"jobs:\n  test:\n{line}")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "name, text",
    [
        ("conf.py", f'DD_API_KEY = "{secrets.token_hex(16)}"\n'),
        ("conf.py", f'DD_APP_KEY = "{secrets.token_hex(20)}"\n'),
        ("notes.md", f"the key is {secrets.token_hex(16)} for now\n"),
        ("env.sh", f"export DD_APP_KEY={secrets.token_hex(20)}\n"),
        # The pinned form does not excuse anything else on its line, nor a key where the commit goes.
        ("workflow.yml", f"    uses: owner/repo@{COMMIT} # {secrets.token_hex(16)}\n"),
        ("workflow.yml", f"    uses: owner/repo@{secrets.token_hex(16)}\n"),
        ("workflow.yml", f"    with:\n      key: owner/repo@{COMMIT}\n"),
        ("workflow.yml", f"    run: echo uses: owner/repo@{COMMIT}\n"),
    ],
)
def test_a_key_shaped_string_fails(tmp_path, name, text):
    result = scan(tmp_path, name, text)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{tmp_path / name}:" in result.stdout
