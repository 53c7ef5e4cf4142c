"""Fixtures against the server in MYSQL_HOST/MYSQL_PORT as MYSQL_ROOT_USER (default 127.0.0.1:3306, root).

Every account a test creates is named ``dd_test_<random hex>`` and dropped at teardown, which runs
when the test fails too. No test touches an account named ``datadog``.
"""

import re
import secrets
import time
from contextlib import closing

import pytest

from mysql_datadog_user import admin_settings_from_env, apply, connect, drop_user, unreachable_reason


def new_account_name() -> str:
    return f'dd_test_{secrets.token_hex(4)}'


def new_password() -> str:
    # Quote, backslash and non-ASCII characters must survive the trip through the SQL.
    return secrets.token_urlsafe(18) + "'\\é"


def drop_everywhere(admin, user: str) -> None:
    """Drop every account named ``user``, at any host (tests create some at other hosts)."""
    with closing(connect(admin)) as conn, conn.cursor() as cursor:
        cursor.execute('SELECT Host FROM mysql.user WHERE User = %s', (user,))
        for (host,) in cursor.fetchall():
            cursor.execute('DROP USER %s@%s', (user, host))


def fetch_grants(conn, user: str) -> list[str]:
    """SHOW GRANTS for ``'user'@'%'``, with MariaDB's password hash masked so it is never printed."""
    with conn.cursor() as cursor:
        cursor.execute('SHOW GRANTS FOR %s@%s', (user, '%'))
        return sorted(re.sub(r"PASSWORD '[^']*'", "PASSWORD '***'", row[0]) for row in cursor.fetchall())


def password_hash(conn, user: str) -> str:
    with conn.cursor() as cursor:
        cursor.execute("SELECT authentication_string FROM mysql.user WHERE User = %s AND Host = '%%'", (user,))
        return cursor.fetchone()[0]


def wait_until_no_sessions(admin_conn, user: str, timeout: float = 10.0) -> None:
    """The server frees a closed session's slot asynchronously; wait so a limit counts only ours."""
    deadline = time.monotonic() + timeout
    while True:
        with admin_conn.cursor() as cursor:
            cursor.execute('SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s', (user,))
            (sessions,) = cursor.fetchone()
        if sessions == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f'{sessions} sessions of {user} still open after {timeout}s')
        time.sleep(0.1)


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
