import copy
import json
import secrets

import pytest
from my_metric_provisioning import provision, reconcile, rules
from my_metric_provisioning.assets import Assets

from . import fake_datadog
from .common import REPO_INTEGRATION, WORKING_HOURS
from .fake_datadog import FakeDatadog


@pytest.fixture(scope="session")
def real_assets():
    return Assets.load(REPO_INTEGRATION)


@pytest.fixture
def assets(real_assets):
    return copy.deepcopy(real_assets)


@pytest.fixture
def fake():
    """A local HTTP server standing in for the Datadog API."""
    with FakeDatadog() as server:
        yield server


@pytest.fixture
def fake_keys(monkeypatch):
    """Key-shaped values made at run time (32 and 40 hex characters), never written to the repository.

    The command reads them from the environment; the client would too, by itself, so the client made here
    forgets what it read: only the keys the command passes on can reach a request header.
    """
    keys = {"DD_API_KEY": secrets.token_hex(16), "DD_APP_KEY": secrets.token_hex(20)}
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DD_SITE", raising=False)

    class ConfigurationWithoutEnvironment(provision.Configuration):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.api_key.clear()

    monkeypatch.setattr(provision, "Configuration", ConfigurationWithoutEnvironment)
    return keys


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The moment apply runs at, seen the same way by apply and by the local API server; set `clock.now`."""

    class Clock:
        now = WORKING_HOURS

    monkeypatch.setattr(provision, "current_time", lambda tz: Clock.now.astimezone(tz))
    monkeypatch.setattr(reconcile, "POLL_SECONDS", 0.01)  # no other run shares the in-process org: no need to wait
    monkeypatch.setattr(fake_datadog, "utc_now", lambda: Clock.now)
    return Clock


@pytest.fixture(scope="session")
def findings_by_input():
    return {}


@pytest.fixture(autouse=True)
def validation_once_per_input(monkeypatch, findings_by_input):
    """Each in-process run validates the assets it sends, mostly the same ones: the second time, the findings of
    the first (validation is most of a run's time). This session's results only: under mutation, the mutant's."""
    validate_all = rules.validate_all

    def once(assets, tz, year):
        key = (json.dumps([assets.dashboard, assets.monitor, assets.downtimes]), assets.integration_dir, tz, year)
        if key not in findings_by_input:
            findings_by_input[key] = validate_all(assets, tz, year)
        return list(findings_by_input[key])

    monkeypatch.setattr(rules, "validate_all", once)
