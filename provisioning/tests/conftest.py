import copy
import secrets

import pytest
from my_metric_provisioning.assets import Assets, default_integration_dir

REPO_INTEGRATION = default_integration_dir()


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
