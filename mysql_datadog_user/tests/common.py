"""Helpers of the mysql_datadog_user tests; the fixtures are in conftest.py."""

import secrets
import socket
from contextlib import closing

from mysql_datadog_user import ConnectionSettings, connect


def closed_port() -> int:
    """A loopback port nothing listens on: one the kernel just handed out and took back."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


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
