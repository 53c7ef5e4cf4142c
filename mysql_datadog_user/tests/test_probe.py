"""unreachable_reason: None when a login works, otherwise one line with the server, the cause and the fix."""

import socket
from contextlib import closing

import pymysql
import pytest
from agent_standin import free_ports

from mysql_datadog_user import ConnectionSettings, unreachable_reason
from mysql_datadog_user.connection import describe_failure

from .common import new_password


def assert_one_line_naming(reason: str | None, address: str, *fragments: str, secret: str = '') -> None:
    assert reason is not None
    assert '\n' not in reason
    assert address in reason
    for fragment in fragments:
        assert fragment in reason, reason
    if secret:
        assert secret not in reason


def test_a_working_login_has_no_reason(admin):
    assert unreachable_reason(admin) is None


def test_connection_refused():
    [port] = free_ports()
    reason = unreachable_reason(ConnectionSettings('127.0.0.1', port, 'root', 'pw'))
    assert_one_line_naming(reason, f'127.0.0.1:{port}', 'connection refused', 'MYSQL_HOST/MYSQL_PORT')


def test_unknown_host():
    # .invalid never resolves (RFC 2606).
    reason = unreachable_reason(ConnectionSettings('no-such-host.invalid', 3306, 'root', 'pw'))
    assert_one_line_naming(reason, 'no-such-host.invalid:3306', 'unknown host', 'MYSQL_HOST')


def test_a_server_that_accepts_and_never_answers_times_out():
    with closing(socket.socket()) as silent:
        silent.bind(('127.0.0.1', 0))
        silent.listen(1)  # the kernel completes the handshake; nothing ever sends the greeting
        port = silent.getsockname()[1]
        reason = unreachable_reason(ConnectionSettings('127.0.0.1', port, 'root', 'pw'), timeout=0.5)
    assert_one_line_naming(reason, f'127.0.0.1:{port}', 'timeout', '0.5s')


def test_wrong_password_is_access_denied(admin, account_name, admin_conn):
    password = new_password()
    with admin_conn.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (account_name, password))
    wrong = new_password()
    reason = unreachable_reason(admin.as_user(account_name, wrong))
    assert_one_line_naming(reason, admin.address, 'access denied', account_name, secret=wrong)
    assert 'unix socket' not in reason
    assert unreachable_reason(admin.as_user(account_name, password)) is None


def test_an_admin_that_logs_in_only_through_the_unix_socket(admin, account_name, admin_conn):
    """What a stock Debian MariaDB (unix_socket) or Ubuntu MySQL (auth_socket) does for root."""
    with admin_conn.cursor() as cursor:
        for host in ('%', 'localhost', '127.0.0.1'):
            try:
                cursor.execute('CREATE USER %s@%s IDENTIFIED VIA unix_socket', (account_name, host))
            except pymysql.MySQLError as exc:
                pytest.skip(f'this server cannot create a unix_socket account: {exc}')
    reason = unreachable_reason(admin.as_user(account_name, ''))
    assert_one_line_naming(
        reason,
        admin.address,
        account_name,
        'unix socket',
        'unix_socket/auth_socket',
        'MYSQL_ROOT_USER/MYSQL_ROOT_PASSWORD',
    )


def test_root_with_an_empty_password_refused_points_at_socket_authentication():
    # Produced by a server whose root has a password or socket-only login; root is not ours to change here.
    denied = pymysql.err.OperationalError(1045, "Access denied for user 'root'@'127.0.0.1' (using password: NO)")
    reason = describe_failure(ConnectionSettings('127.0.0.1', 3306, 'root', ''), denied)
    assert_one_line_naming(reason, '127.0.0.1:3306', 'root with an empty password', 'unix socket', 'CREATE USER')
