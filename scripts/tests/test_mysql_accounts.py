"""The tour never changes a MySQL account it did not create, runs at once never meet, and whatever a run
leaves behind is named."""

from __future__ import annotations

import contextlib
import re
import secrets
import shlex
import subprocess

import pytest

import mysql_datadog_user

from .common import REPO_ROOT, admin_settings, kill_leftovers, start_run

pytestmark = pytest.mark.usefixtures('requires_mysql')

RUN_FLAGS = ('--quick', '--runs', '1')


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


def run_account_names(output: str) -> tuple[str, str, str]:
    """(agent user, app user, database) a run named in its MySQL step."""
    match = re.search(
        r'^\[4/6\] MySQL: (datadog_tour_\w+) .* and (flask_demo_tour_\w+) \(.*database (\w+)\)', output, re.M
    )
    assert match, output
    return match.groups()


def test_existing_datadog_account_untouched_and_own_accounts_removed(run_local):
    # Whatever 'datadog' account this machine has (or does not have) must be exactly the same afterwards.
    datadog_before = account_state('datadog')

    run = run_local(*RUN_FLAGS)

    assert run.returncode == 0, run.output
    agent_user, app_user, database = run_account_names(run.output)
    assert re.fullmatch(r'datadog_tour_[0-9a-f]{8}', agent_user)
    assert re.search(r'^MySQL +OK .*8/8 privilege checks passed', run.summary(), re.M), run.summary()
    assert f'GET /api/db as {app_user} -> 200' in run.output
    assert account_state('datadog') == datadog_before
    assert not any(mysql_datadog_user.user_exists(admin_settings(), user) for user in (agent_user, app_user))
    assert not database_exists(database)
    assert f"the tour's accounts {agent_user}, {app_user} and database {database} were removed" in run.summary()


def test_two_runs_at_once_both_succeed_with_accounts_and_folders_of_their_own():
    runs = [start_run(*RUN_FLAGS) for _ in range(2)]
    try:
        outputs = [process.communicate(timeout=400)[0] for process, _ in runs]
    finally:
        for process, marker in runs:
            kill_leftovers(process, marker)

    for (process, _), output in zip(runs, outputs, strict=True):
        assert process.returncode == 0, output
        assert 'RESULT: OK' in output
    names = [run_account_names(output) for output in outputs]
    assert names[0][0] != names[1][0] and names[0][2] != names[1][2]
    folders = [re.search(r'working files in (\.local-run/run-[0-9a-f]{8})/', output).group(1) for output in outputs]
    assert folders[0] != folders[1]
    for agent_user, app_user, database in names:
        assert not any(mysql_datadog_user.user_exists(admin_settings(), user) for user in (agent_user, app_user))
        assert not database_exists(database)


@pytest.fixture
def leftovers():
    """Accounts named as a run names its own: one set whose run is dead (no lock), one whose run is alive
    (the lock held by this test's session). Yields (dead agent user, live agent user)."""
    dead, live = secrets.token_hex(4), secrets.token_hex(4)
    for suffix in (dead, live):
        mysql_datadog_user.apply(admin_settings(), secrets.token_urlsafe(12), f'datadog_tour_{suffix}')
    query(f'CREATE DATABASE flask_demo_tour_{dead}')
    with contextlib.closing(mysql_datadog_user.connect(admin_settings())) as live_run, live_run.cursor() as cursor:
        cursor.execute('SELECT GET_LOCK(%s, 0)', (f'datadog_tour_{live}',))
        yield f'datadog_tour_{dead}', f'datadog_tour_{live}'
    for suffix in (dead, live):
        mysql_datadog_user.drop_user(admin_settings(), f'datadog_tour_{suffix}')
    query(f'DROP DATABASE IF EXISTS flask_demo_tour_{dead}')


def test_a_dead_runs_accounts_are_dropped_and_named_a_live_runs_never(run_local, leftovers):
    dead, live = leftovers
    live_before = account_state(live)

    run = run_local(*RUN_FLAGS)

    assert run.returncode == 0, run.output
    assert re.search(rf"^\[4/6\] MySQL: dropped '{dead}'@'%'.*no longer alive", run.output, re.M), run.output
    assert f'database {dead.replace("datadog_tour", "flask_demo_tour")}' in run.output
    assert not mysql_datadog_user.user_exists(admin_settings(), dead)
    assert account_state(live) == live_before
    assert live not in run.output


def test_kept_accounts_are_named_with_the_commands_that_remove_them(run_local):
    run = run_local(*RUN_FLAGS, '--keep-mysql-users')

    assert run.returncode == 0, run.output
    summary = run.summary()
    agent_user, app_user, database = run_account_names(run.output)
    assert '_kept_' in agent_user
    kept = f'kept on {admin_settings().address} (--keep-mysql-users): accounts {agent_user}, {app_user} and database'
    assert kept in summary
    assert all(mysql_datadog_user.user_exists(admin_settings(), user) for user in (agent_user, app_user))
    assert database_exists(database)
    [removal] = [
        line.split('remove them with: ', 1)[1] for line in summary.splitlines() if 'remove them with: ' in line
    ]
    commands = [command.strip() for command in removal.split(';')]
    for command in commands[:-1]:
        subprocess.run(shlex.split(command), cwd=REPO_ROOT, check=True, capture_output=True)
    assert commands[-1] == f'DROP DATABASE {database}'
    query(commands[-1])
    assert not any(mysql_datadog_user.user_exists(admin_settings(), user) for user in (agent_user, app_user))
    assert not database_exists(database)
    (REPO_ROOT / '.local-run' / f'mysql-passwords-{agent_user}').unlink()
