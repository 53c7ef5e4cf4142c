"""temporary_accounts and run_accounts: made for the block, dropped at its end unless kept; never another's."""

import secrets
import shlex
import stat
import subprocess
import sys
from contextlib import closing

import pymysql
import pytest

from mysql_datadog_user import (
    AccountExists,
    ConnectionSettings,
    ServerInfo,
    TemporaryAccounts,
    apply,
    connect,
    run_accounts,
    temporary_accounts,
    unreachable_reason,
    user_exists,
    verify_with_witness,
)

from .common import create_at_hosts, drop_everywhere, hosts_of, new_account_name, new_password


@pytest.fixture
def names(admin):
    """Random agent user, app user and database names; whatever is left under them is dropped afterwards."""
    agent_user, app_user, database = new_account_name(), new_account_name(), f'dd_test_db_{new_account_name()[-8:]}'
    yield {'agent_user': agent_user, 'app_user': app_user, 'database': database}
    for user in (agent_user, app_user):
        drop_everywhere(admin, user)
    with closing(connect(admin)) as conn, conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS `{database}`')


def database_exists(admin, name: str) -> bool:
    with closing(connect(admin)) as conn, conn.cursor() as cursor:
        cursor.execute('SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s', (name,))
        return cursor.fetchone()[0] == 1


def test_accounts_work_inside_the_block_and_are_gone_after_it(admin, names):
    with temporary_accounts(admin, **names) as accounts:
        assert accounts.dropped_leftovers == []
        assert [str(result) for result in verify_with_witness(accounts.agent, admin) if not result.passed] == []
        assert unreachable_reason(accounts.app) is None
        with closing(connect(accounts.app)) as conn, conn.cursor() as cursor:
            cursor.execute(f'CREATE TABLE `{names["database"]}`.t (id INT)')
        environment = accounts.app_environment()
        assert environment['MYSQL_USER'] == names['app_user']
        assert environment['MYSQL_DATABASE'] == names['database']
        assert environment['MYSQL_PORT'] == str(admin.port)
        assert accounts.agent.password != accounts.app.password

    assert accounts.removal_error is None
    assert not accounts.kept
    assert not user_exists(admin, names['agent_user'])
    assert not user_exists(admin, names['app_user'])
    assert not database_exists(admin, names['database'])


def test_accounts_are_dropped_when_the_block_raises(admin, names):
    with pytest.raises(KeyboardInterrupt):
        with temporary_accounts(admin, **names):
            raise KeyboardInterrupt

    assert not user_exists(admin, names['agent_user'])
    assert not database_exists(admin, names['database'])


def test_keep_leaves_the_accounts_and_their_passwords_work(admin, names):
    with temporary_accounts(admin, keep=True, **names) as accounts:
        pass

    assert accounts.kept
    assert unreachable_reason(accounts.agent) is None
    assert unreachable_reason(accounts.app) is None
    assert database_exists(admin, names['database'])


def test_an_existing_account_of_either_name_is_never_changed(admin, names):
    left_over = new_password()
    create_at_hosts(admin, names['app_user'], 'localhost')
    apply(admin, left_over, names['agent_user'])

    with pytest.raises(AccountExists):
        with temporary_accounts(admin, **names):
            pytest.fail('the block must not run')

    assert unreachable_reason(admin.as_user(names['agent_user'], left_over)) is None
    assert hosts_of(admin, names['app_user']) == ['localhost']


@pytest.fixture
def prefixes(admin):
    """Prefixes of the test's own for run_accounts; whatever is left under them is dropped afterwards."""
    stem = f'dd_t{secrets.token_hex(2)}'
    chosen = {'agent_prefix': f'{stem}_a', 'app_prefix': f'{stem}_b', 'database_prefix': f'{stem}_db'}
    yield chosen
    with closing(connect(admin)) as conn, conn.cursor() as cursor:
        cursor.execute('SELECT User FROM mysql.user WHERE User LIKE %s', (f'{stem}%',))
        for (user,) in cursor.fetchall():
            drop_everywhere(admin, user)
        cursor.execute('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE %s', (f'{stem}%',))
        for (database,) in cursor.fetchall():
            cursor.execute(f'DROP DATABASE `{database}`')


def test_runs_at_once_have_names_of_their_own_and_never_drop_each_others(admin, prefixes):
    with run_accounts(admin, **prefixes) as first, run_accounts(admin, **prefixes) as second:
        assert first.agent.user != second.agent.user
        assert first.database != second.database
        assert second.dropped_leftovers == []
        for accounts in (first, second):
            assert accounts.agent.user.startswith(prefixes['agent_prefix'] + '_')
            assert unreachable_reason(accounts.agent) is None
            assert unreachable_reason(accounts.app) is None

    assert not user_exists(admin, first.agent.user)
    assert not user_exists(admin, second.app.user)


def test_a_killed_runs_leftovers_are_dropped_and_named_a_live_runs_kept(admin, prefixes):
    dead, live = secrets.token_hex(4), secrets.token_hex(4)
    for suffix in (dead, live):
        apply(admin, new_password(), f'{prefixes["agent_prefix"]}_{suffix}')
        create_at_hosts(admin, f'{prefixes["app_prefix"]}_{suffix}', 'localhost', grant='USAGE ON *.*')
    with closing(connect(admin)) as live_run, live_run.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE `{prefixes["database_prefix"]}_{dead}`')
        cursor.execute('SELECT GET_LOCK(%s, 0)', (f'{prefixes["agent_prefix"]}_{live}',))

        with run_accounts(admin, **prefixes) as accounts:
            assert sorted(accounts.dropped_leftovers) == sorted([
                f"'{prefixes['agent_prefix']}_{dead}'@'%'",
                f"'{prefixes['app_prefix']}_{dead}'@'localhost'",
                f'database {prefixes["database_prefix"]}_{dead}',
            ])  # fmt: skip

        assert user_exists(admin, f'{prefixes["agent_prefix"]}_{live}')
        assert user_exists(admin, f'{prefixes["app_prefix"]}_{live}')
    assert not user_exists(admin, f'{prefixes["agent_prefix"]}_{dead}')
    assert not database_exists(admin, f'{prefixes["database_prefix"]}_{dead}')


def test_kept_run_accounts_are_not_taken_for_leftovers(admin, prefixes):
    with run_accounts(admin, keep=True, **prefixes) as kept:
        pass
    with run_accounts(admin, **prefixes) as later:
        assert later.dropped_leftovers == []

    assert unreachable_reason(kept.agent) is None
    assert database_exists(admin, kept.database)


def test_a_failed_creation_drops_what_was_created_and_raises(admin, names):
    names['app_user'] = 'x' * 33  # no server accepts it: the app account fails after the agent account was made

    with pytest.raises(ValueError, match='1 to 32 characters'):
        with temporary_accounts(admin, **names):
            pytest.fail('the block must not run')

    assert not user_exists(admin, names['agent_user'])


def test_a_failed_removal_is_reported_not_raised(admin, names, account_name):
    # An admin account of the test's own that is gone by the end of the block, so the drop cannot log in.
    password = new_password()
    with closing(connect(admin)) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (account_name, password))
        cursor.execute("GRANT ALL PRIVILEGES ON *.* TO %s@'%%' WITH GRANT OPTION", (account_name,))
    short_lived_admin = admin.as_user(account_name, password)

    with temporary_accounts(short_lived_admin, **names) as accounts:
        drop_everywhere(admin, account_name)

    assert isinstance(accounts.removal_error, pymysql.MySQLError)
    assert user_exists(admin, names['agent_user'])


def test_saved_passwords_are_the_owners_only_and_log_both_accounts_in(admin, names, tmp_path):
    saved = tmp_path / 'passwords'
    saved.write_text('an earlier, readable file\n')
    saved.chmod(0o644)

    with temporary_accounts(admin, keep=True, **names) as accounts:
        assert accounts.save_passwords(saved) == saved

    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    lines = [line.split(' ', 1) for line in saved.read_text().splitlines()]
    assert [user for user, _ in lines] == [names['agent_user'], names['app_user']]
    for user, password in lines:
        assert unreachable_reason(admin.as_user(user, password)) is None


def test_the_removal_commands_remove_the_kept_accounts_and_database(admin, names):
    program = f'{shlex.quote(sys.executable)} -m mysql_datadog_user'
    with temporary_accounts(admin, keep=True, **names) as accounts:
        pass

    *drops, drop_database = accounts.removal_commands(program)
    assert accounts.description == (
        f'accounts {names["agent_user"]}, {names["app_user"]} and database {names["database"]}'
    )
    assert drops == [f'{program} drop --user {names[user]}' for user in ('agent_user', 'app_user')]
    assert drop_database == f'DROP DATABASE {names["database"]}'
    for command in drops:
        subprocess.run(shlex.split(command), check=True, capture_output=True)
    with closing(connect(admin)) as conn, conn.cursor() as cursor:
        cursor.execute(drop_database)
    assert not user_exists(admin, names['agent_user'])
    assert not user_exists(admin, names['app_user'])
    assert not database_exists(admin, names['database'])


def test_removal_commands_quote_names_that_need_it():
    settings = ConnectionSettings('127.0.0.1', 3306, 'root', '')
    accounts = TemporaryAccounts(
        settings.as_user("o'brien", 'x'),
        settings.as_user('app', 'y'),
        'shop-db`s',
        ServerInfo('mysql', (8, 0, 0), '8.0.0'),
        [],
    )

    assert accounts.removal_commands() == [
        'mysql-datadog-user drop --user \'o\'"\'"\'brien\'',
        'mysql-datadog-user drop --user app',
        'DROP DATABASE `shop-db``s`',
    ]


def test_a_refused_login_of_a_block_account_blames_what_changed_it_not_the_admin_settings(admin, names):
    with temporary_accounts(admin, **names) as accounts:
        with closing(connect(admin)) as conn, conn.cursor() as cursor:
            cursor.execute("ALTER USER %s@'%%' IDENTIFIED BY 'changed by someone else'", (names['agent_user'],))
        reason = unreachable_reason(accounts.agent)

    assert reason and 'access denied' in reason and names['agent_user'] in reason
    assert 'MYSQL_ROOT' not in reason and 'changed' in reason
