"""The tour never changes a MySQL account it did not create, and names whatever it leaves behind."""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess

import pytest
from common import REPO_ROOT, admin_settings

import mysql_datadog_user

pytestmark = pytest.mark.usefixtures('requires_mysql')

TOUR_ACCOUNTS = ('datadog_tour', 'flask_demo_tour')
TOUR_DATABASE = 'flask_demo_tour'


def query(sql: str, *parameters) -> list[tuple]:
    with contextlib.closing(mysql_datadog_user.connect(admin_settings())) as connection, connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return list(cursor.fetchall())


def account_state(user: str) -> list[tuple]:
    """Every account of that name with its credentials and grants, to compare before and after."""
    accounts = query('SELECT Host, plugin, authentication_string FROM mysql.user WHERE User = %s ORDER BY Host', user)
    return [(*account, query('SHOW GRANTS FOR %s@%s', user, account[0])) for account in accounts]


def database_exists(name: str) -> bool:
    return bool(query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s', name))


@pytest.fixture
def tour_names_free_afterwards():
    yield
    for user in TOUR_ACCOUNTS:
        mysql_datadog_user.drop_user(admin_settings(), user)
    query(f'DROP DATABASE IF EXISTS `{TOUR_DATABASE}`')


def test_existing_datadog_account_untouched_and_own_accounts_removed(run_local, tour_names_free_afterwards):
    # Whatever 'datadog' account this machine has (or does not have) must be exactly the same afterwards.
    datadog_before = account_state('datadog')
    # An account of the tour's own name left by a killed run (names reserved for the tour).
    mysql_datadog_user.apply(admin_settings(), 'left-by-a-killed-run', 'datadog_tour', replace_existing=True)

    run = run_local('--quick', '--runs', '1')

    assert run.returncode == 0, run.output
    assert '[4/6] MySQL: replacing datadog_tour left by an earlier, killed run' in run.output
    assert re.search(r'^MySQL +OK .*7/7 privilege checks passed', run.summary(), re.M), run.summary()
    assert 'GET /api/db as flask_demo_tour -> 200' in run.output
    assert account_state('datadog') == datadog_before
    assert [user for user in TOUR_ACCOUNTS if mysql_datadog_user.user_exists(admin_settings(), user)] == []
    assert not database_exists(TOUR_DATABASE)
    assert (
        "the tour's accounts datadog_tour, flask_demo_tour and database flask_demo_tour were removed" in run.summary()
    )


def test_kept_accounts_are_named_with_the_commands_that_remove_them(run_local, tour_names_free_afterwards):
    run = run_local('--quick', '--runs', '1', '--keep-mysql-users')

    assert run.returncode == 0, run.output
    summary = run.summary()
    kept = (
        f'kept on {admin_settings().address} (--keep-mysql-users): accounts datadog_tour, flask_demo_tour and database'
    )
    assert kept in summary
    assert all(mysql_datadog_user.user_exists(admin_settings(), user) for user in TOUR_ACCOUNTS)
    assert database_exists(TOUR_DATABASE)
    [removal] = [
        line.split('remove them with: ', 1)[1] for line in summary.splitlines() if 'remove them with: ' in line
    ]
    commands = [command.strip() for command in removal.split(';')]
    for command in commands[:-1]:
        subprocess.run(shlex.split(command), cwd=REPO_ROOT, check=True, capture_output=True)
    assert commands[-1] == f'DROP DATABASE {TOUR_DATABASE}'
    query(commands[-1])
    assert [user for user in TOUR_ACCOUNTS if mysql_datadog_user.user_exists(admin_settings(), user)] == []
    assert not database_exists(TOUR_DATABASE)
