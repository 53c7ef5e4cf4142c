"""temporary_accounts: created for the block, dropped at its end unless kept; reserved names are replaced."""

import shlex
import stat
import subprocess
import sys
from contextlib import closing

import pymysql
import pytest

from mysql_datadog_user import (
    ConnectionSettings,
    ServerInfo,
    TemporaryAccounts,
    apply,
    connect,
    temporary_accounts,
    unreachable_reason,
    user_exists,
    verify_with_witness,
)

from .conftest import drop_everywhere, new_account_name, new_password


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
        assert accounts.replaced == []
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


def test_a_leftover_of_the_same_name_is_replaced_and_named(admin, names):
    left_over = new_password()
    apply(admin, left_over, names['agent_user'])

    with temporary_accounts(admin, **names) as accounts:
        assert accounts.replaced == [names['agent_user']]
        assert unreachable_reason(admin.as_user(names['agent_user'], left_over)) is not None
        assert unreachable_reason(accounts.agent) is None

    assert not user_exists(admin, names['agent_user'])


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
