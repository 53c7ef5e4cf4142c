"""apply, user_exists, drop_user, ensure_app_user: create what is asked, never change what exists."""

from contextlib import closing

import pymysql
import pytest

from mysql_datadog_user import (
    MAX_USER_CONNECTIONS,
    AccountExists,
    apply,
    connect,
    drop_user,
    ensure_app_user,
    unreachable_reason,
    user_exists,
    verify,
)
from mysql_datadog_user.connection import ACCESS_DENIED, error_code

from .common import create_at_hosts, fetch_grants, hosts_of, new_account_name, new_password, password_hash


def test_apply_creates_one_account_at_any_host_with_the_limit(admin, account_name, admin_conn):
    assert not user_exists(admin, account_name)
    apply(admin, new_password(), account_name)
    assert user_exists(admin, account_name)
    with admin_conn.cursor() as cursor:
        cursor.execute('SELECT Host, max_user_connections FROM mysql.user WHERE User = %s', (account_name,))
        assert cursor.fetchall() == (('%', MAX_USER_CONNECTIONS),)


def test_apply_never_changes_an_existing_account(admin, account_name, admin_conn):
    password = new_password()
    apply(admin, password, account_name)
    with admin_conn.cursor() as cursor:
        # Something the account's owner added: it must survive too.
        cursor.execute("GRANT SELECT ON mysql.db TO %s@'%%'", (account_name,))
    grants, stored_hash = fetch_grants(admin_conn, account_name), password_hash(admin_conn, account_name)

    other = new_password()
    with pytest.raises(AccountExists) as excinfo:
        apply(admin, other, account_name)
    message = str(excinfo.value)
    assert account_name in message and '--replace-existing' in message and 'left unchanged' in message
    assert other not in message and password not in message

    assert fetch_grants(admin_conn, account_name) == grants
    assert password_hash(admin_conn, account_name) == stored_hash
    assert unreachable_reason(admin.as_user(account_name, password)) is None
    assert unreachable_reason(admin.as_user(account_name, other)) is not None


def test_apply_refuses_while_any_account_of_the_name_exists_and_names_them_all(admin, account_name, admin_conn):
    create_at_hosts(admin, account_name, 'localhost', '127.0.0.1')

    with pytest.raises(AccountExists) as excinfo:
        apply(admin, new_password(), account_name)

    for host in ('localhost', '127.0.0.1'):
        assert f"'{account_name}'@'{host}'" in str(excinfo.value)
    assert hosts_of(admin, account_name) == ['127.0.0.1', 'localhost']


def test_replace_existing_replaces_the_accounts_of_the_name_at_every_host(admin, account_name, admin_conn):
    create_at_hosts(admin, account_name, 'localhost', '127.0.0.1', '%')
    password = new_password()

    apply(admin, password, account_name, replace_existing=True)

    assert hosts_of(admin, account_name) == ['%']
    assert [result for result in verify(admin.as_user(account_name, password)) if not result.passed] == []


def test_replace_existing_recreates_the_account_with_the_new_password_and_only_the_documented_grants(
    admin, account_name, admin_conn
):
    old, new = new_password(), new_password()
    apply(admin, old, account_name)
    with admin_conn.cursor() as cursor:
        cursor.execute("GRANT SELECT ON mysql.db TO %s@'%%'", (account_name,))

    apply(admin, new, account_name, replace_existing=True)

    with pytest.raises(pymysql.MySQLError) as excinfo:
        connect(admin.as_user(account_name, old)).close()
    assert error_code(excinfo.value) == ACCESS_DENIED
    assert not any('mysql' in grant for grant in fetch_grants(admin_conn, account_name))
    assert [result for result in verify(admin.as_user(account_name, new)) if not result.passed] == []


def test_replace_existing_creates_an_account_that_does_not_exist(admin, account_name):
    apply(admin, new_password(), account_name, replace_existing=True)
    assert user_exists(admin, account_name)


def test_user_names_are_data_not_sql(admin, admin_conn):
    """A quote or backslash in the name reaches the server as part of the name."""
    name = new_account_name()[:24] + "'x\\y"
    password = new_password()
    try:
        apply(admin, password, name)
        with admin_conn.cursor() as cursor:
            cursor.execute('SELECT User FROM mysql.user WHERE User = %s', (name,))
            assert cursor.fetchall() == ((name,),)
        assert unreachable_reason(admin.as_user(name, password)) is None
    finally:
        drop_user(admin, name)
    assert not user_exists(admin, name)


@pytest.mark.parametrize('name', ['', 'x' * 33])
def test_apply_rejects_a_user_name_no_server_accepts(admin, name):
    with pytest.raises(ValueError, match='user name must have 1 to 32 characters'):
        apply(admin, new_password(), name)


def test_apply_rejects_an_empty_password(admin, account_name):
    with pytest.raises(ValueError, match='DD_MYSQL_PASSWORD'):
        apply(admin, '', account_name)
    assert not user_exists(admin, account_name)


def test_drop_user_drops_the_name_at_every_host_and_is_idempotent(admin, account_name, admin_conn):
    apply(admin, new_password(), account_name)
    create_at_hosts(admin, account_name, 'localhost', grant='SELECT ON mysql.db')

    assert drop_user(admin, account_name) == [f"'{account_name}'@'%'", f"'{account_name}'@'localhost'"]
    assert not user_exists(admin, account_name)
    assert drop_user(admin, account_name) == []


@pytest.fixture
def app_database(admin_conn):
    database = f'dd_test_app_{new_account_name()[-8:]}'
    yield database
    with admin_conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS `{database}`')


def test_app_user_has_every_right_on_its_own_database_and_none_elsewhere(admin, account_name, app_database, admin_conn):
    password = new_password()
    ensure_app_user(admin, account_name, password, app_database)

    with closing(connect(admin.as_user(account_name, password))) as conn, conn.cursor() as cursor:
        cursor.execute(f'CREATE TABLE `{app_database}`.t (id INT PRIMARY KEY)')
        cursor.execute(f'INSERT INTO `{app_database}`.t VALUES (1)')
        cursor.execute(f'SELECT id FROM `{app_database}`.t')
        assert cursor.fetchall() == ((1,),)
        # `_` in the grant is escaped: a database that differs only there is not covered.
        lookalike = app_database.replace('_', 'X', 1)
        for statement in (
            f'CREATE DATABASE `{lookalike}`',
            'SELECT COUNT(*) FROM mysql.user',
            'SELECT COUNT(*) FROM performance_schema.threads',
            'SHOW REPLICA STATUS',
            "CREATE USER 'dd_test_never'@'%'",
        ):
            with pytest.raises(pymysql.MySQLError) as excinfo:
                cursor.execute(statement)
            assert error_code(excinfo.value) in (1044, 1142, 1227, 1045), (statement, excinfo.value)


def test_app_user_is_never_changed_once_it_exists(admin, account_name, app_database, admin_conn):
    password = new_password()
    ensure_app_user(admin, account_name, password, app_database)
    grants, stored_hash = fetch_grants(admin_conn, account_name), password_hash(admin_conn, account_name)

    with pytest.raises(AccountExists, match=account_name):
        ensure_app_user(admin, account_name, new_password(), 'dd_test_other_db')

    assert fetch_grants(admin_conn, account_name) == grants
    assert password_hash(admin_conn, account_name) == stored_hash
    with admin_conn.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE 'dd\\_test\\_other\\_db'")
        assert cursor.fetchall() == ()


def test_app_user_replace_existing_sets_the_new_password(admin, account_name, app_database):
    old, new = new_password(), new_password()
    ensure_app_user(admin, account_name, old, app_database)
    ensure_app_user(admin, account_name, new, app_database, replace_existing=True)
    assert unreachable_reason(admin.as_user(account_name, old)) is not None
    with closing(connect(admin.as_user(account_name, new))) as conn, conn.cursor() as cursor:
        cursor.execute(f'CREATE TABLE `{app_database}`.t (id INT)')
