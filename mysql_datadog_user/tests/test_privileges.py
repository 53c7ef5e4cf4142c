"""The Agent user apply() creates, exercised as that user; and verify(), the one privilege verification."""

import secrets
from contextlib import ExitStack, closing

import pymysql
import pytest

from mysql_datadog_user import CHECK_NAMES, MAX_USER_CONNECTIONS, apply, connect, verify, verify_with_witness
from mysql_datadog_user.verification import ACCESS_DENIED_ERRORS, CONNECTION_LIMIT_ERRORS, PROBE_DATABASE

from .common import fetch_grants, new_password, wait_until_no_sessions


@pytest.fixture
def probe_table(admin_conn):
    """A scratch database and table owned by the admin for the Agent user to try to modify."""
    database = f'dd_test_probe_{secrets.token_hex(4)}'
    with admin_conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE `{database}`')
        cursor.execute(f'CREATE TABLE `{database}`.t (id INT PRIMARY KEY, v INT)')
        cursor.execute(f'INSERT INTO `{database}`.t VALUES (1, 1)')
    yield database
    with admin_conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS `{database}`')


def test_grants_are_exactly_the_documented_ones(server, agent_settings, admin_conn):
    grants = ' '.join(fetch_grants(admin_conn, agent_settings.user)).upper()
    assert 'PROCESS' in grants
    assert 'SELECT ON `PERFORMANCE_SCHEMA`.*' in grants
    # MariaDB 10.5+ spells REPLICATION CLIENT as BINLOG MONITOR.
    assert 'REPLICATION CLIENT' in grants or 'BINLOG MONITOR' in grants
    assert ('SLAVE MONITOR' in grants) == server.needs_slave_monitor
    for forbidden in ('ALL PRIVILEGES', 'INSERT', 'UPDATE', 'DELETE', 'DROP', 'CREATE', 'GRANT OPTION', 'SUPER'):
        assert forbidden not in grants
    with admin_conn.cursor() as cursor:
        cursor.execute('SELECT Host, max_user_connections FROM mysql.user WHERE User = %s', (agent_settings.user,))
        assert cursor.fetchall() == (('%', MAX_USER_CONNECTIONS),)


def test_replica_status_is_readable(server, agent_conn):
    with agent_conn.cursor() as cursor:
        cursor.execute(server.replica_status_statement)
        # A replica status view, even with no row on a server that is not a replica (denied would raise).
        columns = [column[0] for column in cursor.description or ()]
        cursor.fetchall()
    assert {'Slave_IO_Running', 'Replica_IO_Running'} & set(columns), columns


def test_performance_schema_is_readable(agent_conn, admin_conn):
    statement = 'SELECT NAME, ENABLED FROM performance_schema.setup_consumers ORDER BY NAME'
    with admin_conn.cursor() as cursor:
        cursor.execute(statement)
        expected = cursor.fetchall()
    with agent_conn.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE 'performance_schema'")
        assert cursor.fetchone() == ('performance_schema',)
        cursor.execute(statement)
        assert cursor.fetchall() == expected
        # The same SELECT outside performance_schema is refused: the access above comes from that grant.
        with pytest.raises(pymysql.MySQLError) as excinfo:
            cursor.execute('SELECT NAME FROM mysql.help_topic LIMIT 1')
    assert excinfo.value.args[0] in ACCESS_DENIED_ERRORS, excinfo.value


def test_other_users_threads_are_visible(admin, admin_conn, agent_conn):
    witness = admin_conn.thread_id()
    with agent_conn.cursor() as cursor:
        cursor.execute('SELECT USER FROM information_schema.PROCESSLIST WHERE ID = %s', (witness,))
        assert cursor.fetchone() == (admin.user,)
        cursor.execute('SHOW FULL PROCESSLIST')
        assert witness in [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize(
    'statement',
    [
        'CREATE DATABASE `{db}_new`',
        'CREATE TABLE `{db}`.created (id INT)',
        'INSERT INTO `{db}`.t VALUES (2, 2)',
        'UPDATE `{db}`.t SET v = 3 WHERE id = 1',
        'DELETE FROM `{db}`.t',
        'DROP TABLE `{db}`.t',
        'DROP DATABASE `{db}`',
        'ALTER TABLE `{db}`.t ADD COLUMN w INT',
        "GRANT SELECT ON `{db}`.* TO '{user}'@'%'",
        "GRANT PROCESS ON *.* TO '{user}'@'%'",
        "CREATE USER '{db}'@'%'",
        "INSERT INTO mysql.user (Host, User) VALUES ('%', '{db}')",
    ],
)
def test_write_statements_are_refused(statement, probe_table, agent_settings, agent_conn, admin_conn):
    with pytest.raises(pymysql.MySQLError) as excinfo, agent_conn.cursor() as cursor:
        cursor.execute(statement.format(db=probe_table, user=agent_settings.user))
    assert excinfo.value.args[0] in ACCESS_DENIED_ERRORS, excinfo.value

    with admin_conn.cursor() as cursor:
        cursor.execute(f'SELECT id, v FROM `{probe_table}`.t')
        assert cursor.fetchall() == ((1, 1),)
        cursor.execute('SELECT COUNT(*) FROM mysql.user WHERE User = %s', (probe_table,))
        assert cursor.fetchone() == (0,)


def test_sixth_concurrent_connection_is_refused(agent_settings, admin_conn):
    wait_until_no_sessions(admin_conn, agent_settings.user)
    with ExitStack() as stack:
        connections = [stack.enter_context(closing(connect(agent_settings))) for _ in range(MAX_USER_CONNECTIONS)]
        for conn in connections:
            conn.ping(reconnect=False)
        with pytest.raises(pymysql.MySQLError) as excinfo:
            stack.enter_context(closing(connect(agent_settings)))
    assert excinfo.value.args[0] in CONNECTION_LIMIT_ERRORS, excinfo.value

    # The slots are given back once the connections close.
    wait_until_no_sessions(admin_conn, agent_settings.user)
    with closing(connect(agent_settings)) as conn:
        conn.ping(reconnect=False)


def test_verify_passes_every_named_check(agent_settings, admin, admin_conn):
    wait_until_no_sessions(admin_conn, agent_settings.user)
    results = verify_with_witness(agent_settings, admin)
    assert [result.name for result in results] == list(CHECK_NAMES)
    assert [result for result in results if not result.passed] == []
    assert all(result.detail for result in results)


def test_verify_reports_a_wrong_password(agent_settings):
    wrong = agent_settings.as_user(agent_settings.user, new_password())
    [result] = verify(wrong)
    assert (result.name, result.passed) == ('connect', False)
    assert 'access denied' in result.detail
    assert wrong.password not in result.detail


def test_verify_fails_no_write_privileges_and_create_denied_for_an_over_privileged_account(
    admin, account_name, admin_conn
):
    password = new_password()
    apply(admin, password, account_name)
    with admin_conn.cursor() as cursor:
        cursor.execute("GRANT CREATE ON *.* TO %s@'%%'", (account_name,))
    try:
        results = verify(admin.as_user(account_name, password))
    finally:
        with admin_conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS {PROBE_DATABASE}')
    failed = {result.name: result.detail for result in results if not result.passed}
    assert sorted(failed) == ['create_denied', 'no_write_privileges']
    assert 'CREATE on global *.*' in failed['no_write_privileges']
    assert f'{PROBE_DATABASE} is left behind' in failed['create_denied']


def test_mariadb_needs_slave_monitor_for_replica_status(admin, account_name, admin_conn):
    password = new_password()
    server = apply(admin, password, account_name)
    if not server.needs_slave_monitor:
        pytest.skip(f'{server.version_string} is not MariaDB 10.5.9+, which is where SLAVE MONITOR is needed')
    settings = admin.as_user(account_name, password)
    with closing(connect(settings)) as conn, conn.cursor() as cursor:
        cursor.execute(server.replica_status_statement)

    with admin_conn.cursor() as cursor:
        cursor.execute("REVOKE SLAVE MONITOR ON *.* FROM %s@'%%'", (account_name,))
    with closing(connect(settings)) as conn, conn.cursor() as cursor:
        with pytest.raises(pymysql.MySQLError) as excinfo:
            cursor.execute(server.replica_status_statement)
    assert excinfo.value.args[0] in ACCESS_DENIED_ERRORS
    failed = [result.name for result in verify(settings) if not result.passed]
    assert failed == ['replica_status']
