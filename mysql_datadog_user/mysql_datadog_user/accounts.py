"""Create and remove the Agent's least-privilege user and the demo app's account.

Nothing here changes an account that already exists unless the caller opts in
(``replace_existing=True``): creating one that exists raises :class:`AccountExists`.
"""

from __future__ import annotations

import re
from contextlib import closing
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

import pymysql

from .connection import ConnectionSettings, connect, error_code

DATADOG_USER = 'datadog'
ACCOUNT_HOST = '%'
MAX_USER_CONNECTIONS = 5
# MySQL's limit on user names (MariaDB allows 80); a name the Agent can use on both.
MAX_USER_NAME_LENGTH = 32
MARIADB_SLAVE_MONITOR_SINCE = (10, 5, 9)

SQL_DIR = files(__package__) / 'sql'
BASE_SQL = SQL_DIR / 'datadog_user.sql'
MARIADB_SQL = SQL_DIR / 'datadog_user_mariadb.sql'

# ER_CANNOT_USER: CREATE USER for an account that exists (or DROP USER for one that does not).
CANNOT_CREATE_USER = 1396


class AccountExists(Exception):
    """Accounts of that name exist (at any host) and the caller did not opt in to replacing them."""

    def __init__(self, user: str, hosts: list[str] | None = None, flag: str = '--replace-existing'):
        self.user = user
        self.accounts = [account_name(user, host) for host in hosts or [ACCOUNT_HOST]]
        super().__init__(
            f'MySQL account{"s" if len(self.accounts) > 1 else ""} {", ".join(self.accounts)} already exist'
            f'{"" if len(self.accounts) > 1 else "s"}; left unchanged. Choose another name, or replace '
            f'{"them all" if len(self.accounts) > 1 else "it"} (dropped, then {account_name(user, ACCOUNT_HOST)} '
            f'created with a new password and only the documented grants) with {flag} '
            '(replace_existing=True from Python)'
        )


def account_name(user: str, host: str) -> str:
    """``'user'@'host'``, as MySQL writes an account."""
    return "'{}'@'{}'".format(user.replace("'", "\\'"), host.replace("'", "\\'"))


@dataclass(frozen=True)
class ServerInfo:
    """What :func:`detect_server` found out about a server."""

    flavor: str  # 'mysql' or 'mariadb'
    version: tuple[int, int, int]
    version_string: str

    def __str__(self) -> str:
        return f'{self.flavor} {self.version_string}'

    @property
    def needs_slave_monitor(self) -> bool:
        """True on MariaDB 10.5.9+, where REPLICATION CLIENT no longer covers SHOW REPLICA STATUS."""
        return self.flavor == 'mariadb' and self.version >= MARIADB_SLAVE_MONITOR_SINCE

    @property
    def replica_status_statement(self) -> str:
        """The spelling of SHOW REPLICA STATUS this server understands."""
        if self.flavor == 'mariadb':
            return 'SHOW REPLICA STATUS' if self.version >= (10, 5, 1) else 'SHOW SLAVE STATUS'
        return 'SHOW REPLICA STATUS' if self.version >= (8, 0, 22) else 'SHOW SLAVE STATUS'


def detect_server(conn: pymysql.connections.Connection) -> ServerInfo:
    """Tell MySQL from MariaDB and parse the version (``SELECT VERSION()``)."""
    with conn.cursor() as cursor:
        cursor.execute('SELECT VERSION()')
        (version_string,) = cursor.fetchone()
    match = re.match(r'(\d+)\.(\d+)\.(\d+)', version_string)
    if not match:
        raise ValueError(f'Unrecognised server version: {version_string!r}')
    version = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    flavor = 'mariadb' if 'mariadb' in version_string.lower() else 'mysql'
    return ServerInfo(flavor=flavor, version=version, version_string=version_string)


def setup_sql_files(server: ServerInfo) -> list[Traversable]:
    """The SQL files to apply, in order, for ``server``."""
    sql_files = [BASE_SQL]
    if server.needs_slave_monitor:
        sql_files.append(MARIADB_SQL)
    return sql_files


def load_statements(sql_file: Traversable) -> list[str]:
    """Split an SQL file into statements: drop ``--`` comment lines, split at ``;`` ending a line."""
    lines = [line for line in sql_file.read_text(encoding='utf-8').splitlines() if not line.lstrip().startswith('--')]
    statements = re.split(r';[ \t]*(?:\n|$)', '\n'.join(lines))
    return [statement.strip() for statement in statements if statement.strip()]


def check_user_name(user: str) -> None:
    """Raise ``ValueError`` for a name no MySQL server accepts."""
    if not user or len(user) > MAX_USER_NAME_LENGTH:
        raise ValueError(f'MySQL user name must have 1 to {MAX_USER_NAME_LENGTH} characters, not {len(user)}: {user!r}')


def account_hosts(conn: pymysql.connections.Connection, user: str) -> list[str]:
    """The host part of every account named ``user`` (mysql.user), sorted."""
    with conn.cursor() as cursor:
        cursor.execute('SELECT Host FROM mysql.user WHERE User = %s ORDER BY Host', (user,))
        return [host for (host,) in cursor.fetchall()]


def user_exists(admin: ConnectionSettings, user: str) -> bool:
    """True when any account named ``user`` exists (at any host)."""
    with closing(connect(admin)) as conn:
        return bool(account_hosts(conn, user))


def drop_user(admin: ConnectionSettings, user: str) -> list[str]:
    """Drop every account named ``user``, at any host; the accounts dropped (``'user'@'host'``), [] when none."""
    with closing(connect(admin)) as conn:
        return _drop(conn, user)


def _drop(conn: pymysql.connections.Connection, user: str) -> list[str]:
    hosts = account_hosts(conn, user)
    with conn.cursor() as cursor:
        for host in hosts:
            cursor.execute('DROP USER IF EXISTS %s@%s', (user, host))
    return [account_name(user, host) for host in hosts]


def _refuse_existing(conn: pymysql.connections.Connection, user: str, replace_existing: bool) -> None:
    """Raise AccountExists naming every account of that name, or drop them all when opted in."""
    if replace_existing:
        _drop(conn, user)
    elif hosts := account_hosts(conn, user):
        raise AccountExists(user, hosts)


def apply(
    admin: ConnectionSettings, password: str, user: str = DATADOG_USER, *, replace_existing: bool = False
) -> ServerInfo:
    """Create the Agent's least-privilege account ``'user'@'%'`` on the server ``admin`` points at.

    Raises :class:`AccountExists` naming every account of that name (at any host: a login from
    127.0.0.1 may match ``'user'@'localhost'`` before ``'user'@'%'``), which are left untouched; with
    ``replace_existing=True`` all of them are dropped and ``'user'@'%'`` is created. Runs
    :data:`BASE_SQL` and, on MariaDB 10.5.9+, :data:`MARIADB_SQL` with ``@dd_user`` and
    ``@dd_password`` set for the session. Returns what was detected about the server.
    """
    check_user_name(user)
    if not password:
        raise ValueError('The password of the Agent user must not be empty (set DD_MYSQL_PASSWORD)')
    with closing(connect(admin)) as conn:
        server = detect_server(conn)
        _refuse_existing(conn, user, replace_existing)
        with conn.cursor() as cursor:
            cursor.execute('SET @dd_user = %s, @dd_password = %s', (user, password))
            try:
                for sql_file in setup_sql_files(server):
                    for statement in load_statements(sql_file):
                        cursor.execute(statement)
            except pymysql.MySQLError as exc:
                # Created between our look and CREATE USER: still not ours to change.
                if error_code(exc) == CANNOT_CREATE_USER:
                    raise AccountExists(user) from None
                raise
            finally:
                cursor.execute('SET @dd_user = NULL, @dd_password = NULL, @dd_account = NULL')
    return server


def ensure_app_user(
    admin: ConnectionSettings, user: str, password: str, database: str, *, replace_existing: bool = False
) -> None:
    """Create the demo app's account ``'user'@'%'`` with all rights on ``database`` (created if
    missing) and nothing else. Same rule as :func:`apply`: accounts of that name at any host raise
    :class:`AccountExists` unless ``replace_existing=True``."""
    check_user_name(user)
    if not password:
        raise ValueError('The password of the app user must not be empty')
    if not database:
        raise ValueError('The app database name must not be empty')
    quoted_database = '`' + database.replace('`', '``') + '`'
    with closing(connect(admin)) as conn:
        _refuse_existing(conn, user, replace_existing)
        with conn.cursor() as cursor:
            try:
                cursor.execute('CREATE USER %s@%s IDENTIFIED BY %s', (user, ACCOUNT_HOST, password))
            except pymysql.MySQLError as exc:
                if error_code(exc) == CANNOT_CREATE_USER:
                    raise AccountExists(user) from None
                raise
            cursor.execute(f'CREATE DATABASE IF NOT EXISTS {quoted_database}')
            # In GRANT, `_` and `%` in a database name are wildcards; escaped, they match only themselves.
            grant_database = re.sub(r'([_%])', r'\\\1', quoted_database).replace('%', '%%')
            cursor.execute(f'GRANT ALL PRIVILEGES ON {grant_database}.* TO %s@%s', (user, ACCOUNT_HOST))
