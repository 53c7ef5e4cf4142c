"""Create and verify the least-privilege ``datadog`` MySQL/MariaDB user for the Datadog Agent.

The SQL lives next to this file and is shared with the MySQL container's init script:

* ``datadog_user.sql`` - MySQL 8 (8.4 LTS) and MariaDB before 10.5.9;
* ``datadog_user_mariadb.sql`` - the extra ``SLAVE MONITOR`` grant MariaDB 10.5.9+ needs.

Both read the password from the session variable ``@dd_password``, so no secret is stored in SQL.

Library use::

    admin = admin_settings_from_env()
    server = apply(admin, datadog_password)
    results = verify(datadog_settings(admin, datadog_password))

Command line (connection from the environment, see :func:`admin_settings_from_env`)::

    python deploy/mysql/datadog_user.py apply
    python deploy/mysql/datadog_user.py verify

The only third-party dependency is PyMySQL. MySQL 8's default ``caching_sha2_password`` over a
non-TLS connection additionally needs the ``cryptography`` package on the client side.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path

import pymysql

HERE = Path(__file__).resolve().parent
BASE_SQL = HERE / 'datadog_user.sql'
MARIADB_SQL = HERE / 'datadog_user_mariadb.sql'

DATADOG_USER = 'datadog'
DATADOG_USER_HOST = '%'
MAX_USER_CONNECTIONS = 5
MARIADB_SLAVE_MONITOR_SINCE = (10, 5, 9)

# Privileges the datadog user must not hold at any level.
FORBIDDEN_PRIVILEGES = frozenset(
    {
        'ALL PRIVILEGES',
        'ALTER',
        'CREATE',
        'CREATE USER',
        'DELETE',
        'DROP',
        'FILE',
        'GRANT OPTION',
        'INSERT',
        'SUPER',
        'UPDATE',
    }
)

# ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR,
# ER_SPECIFIC_ACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR
ACCESS_DENIED_ERRORS = frozenset({1044, 1045, 1142, 1227, 1698})
# MariaDB reports ER_TOO_MANY_USER_CONNECTIONS, MySQL ER_USER_LIMIT_REACHED.
CONNECTION_LIMIT_ERRORS = frozenset({1203, 1226})


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and as whom to connect. ``repr`` hides the password."""

    host: str
    port: int
    user: str
    password: str
    connect_timeout: float = 5.0

    def __repr__(self) -> str:
        return f'ConnectionSettings(host={self.host!r}, port={self.port}, user={self.user!r}, password=***)'


@dataclass(frozen=True)
class ServerInfo:
    """What :func:`detect_server` found out about a server."""

    flavor: str  # 'mysql' or 'mariadb'
    version: tuple[int, int, int]
    version_string: str

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


@dataclass(frozen=True)
class CheckResult:
    """One named verification outcome."""

    name: str
    passed: bool
    detail: str


def admin_settings_from_env(env: Mapping[str, str] | None = None) -> ConnectionSettings:
    """Administrative connection from MYSQL_HOST (127.0.0.1), MYSQL_PORT (3306),
    MYSQL_ROOT_USER (root) and MYSQL_ROOT_PASSWORD (empty)."""
    env = os.environ if env is None else env
    return ConnectionSettings(
        host=env.get('MYSQL_HOST') or '127.0.0.1',
        port=int(env.get('MYSQL_PORT') or 3306),
        user=env.get('MYSQL_ROOT_USER') or 'root',
        password=env.get('MYSQL_ROOT_PASSWORD', ''),
    )


def datadog_settings(server: ConnectionSettings, password: str) -> ConnectionSettings:
    """Settings for the datadog user on the same server as ``server``."""
    return ConnectionSettings(
        host=server.host,
        port=server.port,
        user=DATADOG_USER,
        password=password,
        connect_timeout=server.connect_timeout,
    )


def datadog_password_from_env(env: Mapping[str, str] | None = None) -> str:
    """The datadog user's password from DD_MYSQL_PASSWORD; raises ``KeyError`` when unset or empty."""
    env = os.environ if env is None else env
    password = env.get('DD_MYSQL_PASSWORD', '')
    if not password:
        raise KeyError('DD_MYSQL_PASSWORD is not set')
    return password


def connect(settings: ConnectionSettings) -> pymysql.connections.Connection:
    """Open an autocommit PyMySQL connection."""
    return pymysql.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        # PyMySQL would encode a str password as latin-1; the server stored it as UTF-8.
        password=settings.password.encode('utf-8'),
        connect_timeout=settings.connect_timeout,
        autocommit=True,
    )


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


def setup_sql_files(server: ServerInfo) -> list[Path]:
    """The SQL files to apply, in order, for ``server``."""
    files = [BASE_SQL]
    if server.needs_slave_monitor:
        files.append(MARIADB_SQL)
    return files


def load_statements(path: Path) -> list[str]:
    """Split an SQL file into statements: drop ``--`` comment lines, split at ``;`` ending a line."""
    lines = [line for line in path.read_text(encoding='utf-8').splitlines() if not line.lstrip().startswith('--')]
    statements = re.split(r';[ \t]*(?:\n|$)', '\n'.join(lines))
    return [statement.strip() for statement in statements if statement.strip()]


def apply(admin: ConnectionSettings, datadog_password: str) -> ServerInfo:
    """Create or update the datadog user on the server ``admin`` points at. Idempotent.

    Runs :data:`BASE_SQL` and, on MariaDB 10.5.9+, :data:`MARIADB_SQL` with ``@dd_password`` set
    to ``datadog_password`` for the session. Returns what was detected about the server.
    """
    if not datadog_password:
        raise ValueError('The datadog password must not be empty')
    with closing(connect(admin)) as conn:
        server = detect_server(conn)
        with conn.cursor() as cursor:
            cursor.execute('SET @dd_password = %s', (datadog_password,))
            for path in setup_sql_files(server):
                for statement in load_statements(path):
                    cursor.execute(statement)
            cursor.execute('SET @dd_password = NULL')
    return server


def _error_code(exc: pymysql.MySQLError) -> int | None:
    return exc.args[0] if exc.args and isinstance(exc.args[0], int) else None


def _check_replica_status(conn, server: ServerInfo) -> CheckResult:
    statement = server.replica_status_statement
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
            rows = cursor.fetchall()
    except pymysql.MySQLError as exc:
        return CheckResult('replica_status', False, f'{statement} failed: {exc}')
    state = 'configured' if rows else 'not a replica (empty result)'
    return CheckResult('replica_status', True, f'{statement} allowed; {state}')


def _check_performance_schema(conn) -> CheckResult:
    try:
        with conn.cursor() as cursor:
            cursor.execute('SELECT COUNT(*) FROM performance_schema.threads')
            (count,) = cursor.fetchone()
            cursor.execute("SHOW VARIABLES LIKE 'performance_schema'")
            row = cursor.fetchone()
    except pymysql.MySQLError as exc:
        return CheckResult('performance_schema', False, f'SELECT on performance_schema failed: {exc}')
    enabled = row[1] if row else 'unknown'
    return CheckResult(
        'performance_schema', True, f'performance_schema.threads readable ({count} rows, performance_schema={enabled})'
    )


def _check_process(conn, witness_thread_id: int | None) -> CheckResult:
    try:
        with conn.cursor() as cursor:
            cursor.execute('SELECT ID, USER FROM information_schema.PROCESSLIST')
            rows = cursor.fetchall()
    except pymysql.MySQLError as exc:
        return CheckResult('process', False, f'reading the process list failed: {exc}')
    others = [(thread_id, user) for thread_id, user in rows if user != DATADOG_USER]
    if witness_thread_id is not None:
        seen = any(thread_id == witness_thread_id for thread_id, _ in others)
        detail = f'thread {witness_thread_id} of another user {"visible" if seen else "NOT visible"}'
        return CheckResult('process', seen, f'{detail}; {len(others)} foreign threads listed')
    return CheckResult(
        'process',
        bool(others),
        f'{len(others)} threads of other users visible' if others else 'no thread of another user visible',
    )


def _own_privileges(conn) -> list[tuple[str, str, str]]:
    """(level, privilege, grantable) rows for the current user from information_schema."""
    rows = []
    with conn.cursor() as cursor:
        for level, table, scope in (
            ('global', 'USER_PRIVILEGES', "'*.*'"),
            ('schema', 'SCHEMA_PRIVILEGES', 'TABLE_SCHEMA'),
            ('table', 'TABLE_PRIVILEGES', "CONCAT(TABLE_SCHEMA, '.', TABLE_NAME)"),
            ('column', 'COLUMN_PRIVILEGES', "CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, '.', COLUMN_NAME)"),
        ):
            cursor.execute(f'SELECT {scope}, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.{table}')
            rows.extend(
                (f'{level} {where}', privilege.upper(), grantable.upper()) for where, privilege, grantable in cursor
            )
    return rows


def _check_no_write_privileges(conn) -> CheckResult:
    try:
        privileges = _own_privileges(conn)
    except pymysql.MySQLError as exc:
        return CheckResult('no_write_privileges', False, f'reading own privileges failed: {exc}')
    bad = sorted(
        {f'{privilege} on {where}' for where, privilege, _ in privileges if privilege in FORBIDDEN_PRIVILEGES}
        | {f'GRANT OPTION on {where}' for where, _, grantable in privileges if grantable == 'YES'}
    )
    if bad:
        return CheckResult('no_write_privileges', False, 'forbidden privileges held: ' + ', '.join(bad))
    granted = sorted({privilege for _, privilege, _ in privileges})
    return CheckResult('no_write_privileges', True, 'held: ' + ', '.join(granted))


def _check_create_denied(conn) -> CheckResult:
    try:
        with conn.cursor() as cursor:
            cursor.execute('CREATE DATABASE datadog_privilege_probe')
    except pymysql.MySQLError as exc:
        code = _error_code(exc)
        if code in ACCESS_DENIED_ERRORS:
            return CheckResult('create_denied', True, f'CREATE DATABASE refused (error {code})')
        return CheckResult('create_denied', False, f'CREATE DATABASE failed for another reason: {exc}')
    with conn.cursor() as cursor:
        cursor.execute('DROP DATABASE IF EXISTS datadog_privilege_probe')
    return CheckResult('create_denied', False, 'CREATE DATABASE succeeded')


def check_connection_limit(settings: ConnectionSettings, limit: int = MAX_USER_CONNECTIONS) -> CheckResult:
    """Open connections as ``settings.user`` until the server refuses one; pass when that happens
    no later than connection ``limit + 1``. Connections held by others (an Agent) count too."""
    with ExitStack() as stack:
        for attempt in range(1, limit + 2):
            try:
                stack.enter_context(closing(connect(settings)))
            except pymysql.MySQLError as exc:
                code = _error_code(exc)
                if code in CONNECTION_LIMIT_ERRORS:
                    return CheckResult(
                        'connection_limit', True, f'connection {attempt} refused by the per-user limit (error {code})'
                    )
                return CheckResult('connection_limit', False, f'connection {attempt} failed otherwise: {exc}')
    return CheckResult('connection_limit', False, f'{limit + 1} concurrent connections were accepted')


def verify(datadog: ConnectionSettings, *, witness_thread_id: int | None = None) -> list[CheckResult]:
    """Verify the datadog user's privileges, connected as that user.

    Checks, in order: ``connect``, ``replica_status``, ``performance_schema``, ``process``,
    ``no_write_privileges``, ``create_denied``, ``connection_limit``. ``witness_thread_id`` is the
    connection id of another user's open session that ``process`` must find; without it the check
    passes when any other user's thread is visible. Returns every result; nothing raises for a failed check.
    """
    try:
        conn = connect(datadog)
    except pymysql.MySQLError as exc:
        return [CheckResult('connect', False, f'cannot connect as {datadog.user}: {exc}')]
    results = []
    with closing(conn):
        server = detect_server(conn)
        results.append(CheckResult('connect', True, f'connected as {datadog.user} to {server.version_string}'))
        results.append(_check_replica_status(conn, server))
        results.append(_check_performance_schema(conn))
        results.append(_check_process(conn, witness_thread_id))
        results.append(_check_no_write_privileges(conn))
        results.append(_check_create_denied(conn))
    # Run after closing the session above, which would otherwise count towards the limit.
    results.append(check_connection_limit(datadog))
    return results


def _verify_with_witness(admin: ConnectionSettings, password: str) -> list[CheckResult]:
    try:
        witness = connect(admin)
    except pymysql.MySQLError:
        return verify(datadog_settings(admin, password))
    with closing(witness):
        return verify(datadog_settings(admin, password), witness_thread_id=witness.thread_id())


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('command', choices=('apply', 'verify'))
    args = parser.parse_args(argv)

    admin = admin_settings_from_env()
    try:
        password = datadog_password_from_env()
    except KeyError as exc:
        print(f'error: {exc.args[0]}', file=sys.stderr)
        return 2

    try:
        if args.command == 'apply':
            server = apply(admin, password)
            print(f'datadog user set up on {server.flavor} {server.version_string} at {admin.host}:{admin.port}')
            return 0
        results = _verify_with_witness(admin, password)
    except pymysql.MySQLError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1

    for result in results:
        print(f'{"PASS" if result.passed else "FAIL"} {result.name}: {result.detail}')
    return 0 if all(result.passed for result in results) else 1


if __name__ == '__main__':
    sys.exit(main())
