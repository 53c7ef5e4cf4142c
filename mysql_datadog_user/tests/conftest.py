"""Fixtures against the server in MYSQL_HOST/MYSQL_PORT as MYSQL_ROOT_USER (default 127.0.0.1:3306, root).

Every account a test creates is named ``dd_test_<random hex>`` and dropped at teardown, which runs
when the test fails too. No test touches an account named ``datadog``.
"""

from contextlib import closing

import pytest

from mysql_datadog_user import admin_settings_from_env, apply, connect, drop_user, unreachable_reason

from .common import drop_everywhere, new_account_name, new_password


@pytest.fixture(scope='session')
def admin():
    settings = admin_settings_from_env()
    reason = unreachable_reason(settings)
    if reason:
        pytest.skip(reason)
    return settings


@pytest.fixture
def admin_conn(admin):
    with closing(connect(admin)) as conn:
        yield conn


@pytest.fixture
def account_name(admin):
    """A fresh account name; whatever a test creates under it is dropped afterwards."""
    name = new_account_name()
    yield name
    drop_everywhere(admin, name)


@pytest.fixture(scope='session')
def agent_account(admin):
    """A session-wide Agent user created by ``apply``: (settings as that user, server info)."""
    name, password = new_account_name(), new_password()
    try:
        server = apply(admin, password, name)
        yield admin.as_user(name, password), server
    finally:
        drop_user(admin, name)


@pytest.fixture
def agent_settings(agent_account):
    return agent_account[0]


@pytest.fixture
def server(agent_account):
    return agent_account[1]


@pytest.fixture
def agent_conn(agent_settings):
    with closing(connect(agent_settings)) as conn:
        yield conn
