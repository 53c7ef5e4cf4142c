import copy
import io
import re
import secrets
from pathlib import Path

import pytest
from my_metric_provisioning.assets import Assets
from my_metric_provisioning.cli import run

REPO_INTEGRATION = Path(__file__).resolve().parents[2] / "my_metric"


@pytest.fixture(scope="session")
def real_assets():
    return Assets.load(REPO_INTEGRATION)


@pytest.fixture
def assets(real_assets):
    return copy.deepcopy(real_assets)


@pytest.fixture
def fake_keys(monkeypatch):
    """Key-shaped values made at run time (32 and 40 hex characters), never written to the repository."""
    keys = {"DD_API_KEY": secrets.token_hex(16), "DD_APP_KEY": secrets.token_hex(20)}
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DD_SITE", raising=False)
    return keys


def cli(*argv):
    """Run the command in-process; its exit code and everything it printed."""
    out = io.StringIO()
    code = run(list(argv), out=out)
    return code, out.getvalue()


def assert_no_key(text, keys):
    for value in keys.values():
        assert value not in text
    assert not re.search(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{40}\b", text)
