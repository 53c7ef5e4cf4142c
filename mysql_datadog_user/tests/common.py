"""Helpers of the mysql_datadog_user tests; the fixtures are in conftest.py."""

import re
import secrets
import time
from contextlib import closing

from mysql_datadog_user import ConnectionSettings, connect


def create_at_hosts(admin: ConnectionSettings, user: str, *hosts: str, grant: str = 'ALL PRIVILEGES ON *.*') -> None:
    """Accounts named ``user`` at each host, made by hand (not by apply), holding ``grant``."""
    with closing(connect(admin)) as conn, conn.cursor() as cursor:
        for host in hosts:
            cursor.execute('CREATE USER %s@%s IDENTIFIED BY %s', (user, host, secrets.token_urlsafe(12)))
            cursor.execute(f'GRANT {grant} TO %s@%s', (user, host))


def hosts_of(admin: ConnectionSettings, user: str) -> list[str]:
    with closing(connect(admin)) as conn, conn.cursor() as cursor:
        cursor.execute('SELECT Host FROM mysql.user WHERE User = %s ORDER BY Host', (user,))
        return [host for (host,) in cursor.fetchall()]


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
