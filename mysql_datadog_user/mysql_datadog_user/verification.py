"""The one verification of the Agent user's privileges, run as that user."""

from __future__ import annotations

from contextlib import ExitStack, closing
from dataclasses import dataclass

import pymysql

from .accounts import MAX_USER_CONNECTIONS, ServerInfo, account_hosts, account_name, detect_server
from .connection import ConnectionSettings, connect, describe_failure, error_code, unreachable_reason

CHECK_NAMES = (
    'connect',
    'replica_status',
    'performance_schema',
    'process',
    'no_write_privileges',
    'create_denied',
    'connection_limit',
    'same_name_accounts',
)

# What create_denied tries to create; only an over-privileged account succeeds.
PROBE_DATABASE = 'datadog_privilege_probe'

# Privileges the Agent user must not hold at any level.
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

# What any account of the Agent user's name may hold: the documented grants (REPLICATION CLIENT, which
# MariaDB 10.5+ lists as BINLOG MONITOR, SLAVE/REPLICA MONITOR on MariaDB 10.5.9+, PROCESS) and
# SELECT on performance_schema.
DOCUMENTED_GLOBAL_PRIVILEGES = frozenset(
    {'USAGE', 'REPLICATION CLIENT', 'BINLOG MONITOR', 'SLAVE MONITOR', 'REPLICA MONITOR', 'PROCESS'}
)
DOCUMENTED_SCHEMA_PRIVILEGES = frozenset({('performance_schema', 'SELECT')})

# ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR,
# ER_SPECIFIC_ACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR
ACCESS_DENIED_ERRORS = frozenset({1044, 1045, 1142, 1227, 1698})
# MariaDB reports ER_TOO_MANY_USER_CONNECTIONS, MySQL ER_USER_LIMIT_REACHED.
CONNECTION_LIMIT_ERRORS = frozenset({1203, 1226})


@dataclass(frozen=True)
class CheckResult:
    """One named verification outcome."""

    name: str
    passed: bool
    detail: str

    def __str__(self) -> str:
        return f'{"PASS" if self.passed else "FAIL"} {self.name}: {self.detail}'


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


def _check_process(conn, user: str, witness_thread_id: int | None) -> CheckResult:
    try:
        with conn.cursor() as cursor:
            cursor.execute('SELECT ID, USER FROM information_schema.PROCESSLIST')
            rows = cursor.fetchall()
    except pymysql.MySQLError as exc:
        return CheckResult('process', False, f'reading the process list failed: {exc}')
    others = [(thread_id, thread_user) for thread_id, thread_user in rows if thread_user != user]
    if witness_thread_id is not None:
        seen = any(thread_id == witness_thread_id for thread_id, _ in others)
        detail = f'thread {witness_thread_id} of another user {"visible" if seen else "NOT visible"}'
        return CheckResult('process', seen, f'{detail}; {len(others)} foreign threads listed')
    return CheckResult(
        'process',
        bool(others),
        f'{len(others)} threads of other users visible' if others else 'no thread of another user visible',
    )


# (level, information_schema table, what the privilege applies to) of every level a privilege is granted at.
PRIVILEGE_TABLES = (
    ('global', 'USER_PRIVILEGES', "'*.*'"),
    ('schema', 'SCHEMA_PRIVILEGES', 'TABLE_SCHEMA'),
    ('table', 'TABLE_PRIVILEGES', "CONCAT(TABLE_SCHEMA, '.', TABLE_NAME)"),
    ('column', 'COLUMN_PRIVILEGES', "CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, '.', COLUMN_NAME)"),
)


def _privileges(cursor, grantee: str | None = None) -> list[tuple[str, str, str, str]]:
    """(level, where, privilege, grantable) rows from information_schema: the current user's, or ``grantee``'s."""
    rows = []
    for level, table, scope in PRIVILEGE_TABLES:
        query = f'SELECT {scope}, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.{table}'
        if grantee is None:
            cursor.execute(query)
        else:
            cursor.execute(f'{query} WHERE GRANTEE = %s', (grantee,))
        rows.extend(
            (level, where, privilege.upper(), grantable.upper()) for where, privilege, grantable in cursor.fetchall()
        )
    return rows


def _own_privileges(conn) -> list[tuple[str, str, str]]:
    """(level and where, privilege, grantable) rows for the current user from information_schema."""
    with conn.cursor() as cursor:
        return [
            (f'{level} {where}', privilege, grantable) for level, where, privilege, grantable in _privileges(cursor)
        ]


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
            cursor.execute(f'CREATE DATABASE {PROBE_DATABASE}')
    except pymysql.MySQLError as exc:
        code = error_code(exc)
        if code in ACCESS_DENIED_ERRORS:
            return CheckResult('create_denied', True, f'CREATE DATABASE refused (error {code})')
        return CheckResult('create_denied', False, f'CREATE DATABASE failed for another reason: {exc}')
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS {PROBE_DATABASE}')
    except pymysql.MySQLError:
        return CheckResult(
            'create_denied', False, f'CREATE DATABASE succeeded; {PROBE_DATABASE} is left behind, drop it as admin'
        )
    return CheckResult('create_denied', False, 'CREATE DATABASE succeeded')


def check_connection_limit(settings: ConnectionSettings, limit: int = MAX_USER_CONNECTIONS) -> CheckResult:
    """Open connections as ``settings.user`` until the server refuses one; pass when that happens
    no later than connection ``limit + 1``. Connections held by others (an Agent) count too."""
    with ExitStack() as stack:
        for attempt in range(1, limit + 2):
            try:
                stack.enter_context(closing(connect(settings)))
            except pymysql.MySQLError as exc:
                code = error_code(exc)
                if code in CONNECTION_LIMIT_ERRORS:
                    return CheckResult(
                        'connection_limit', True, f'connection {attempt} refused by the per-user limit (error {code})'
                    )
                return CheckResult('connection_limit', False, f'connection {attempt} failed otherwise: {exc}')
    return CheckResult('connection_limit', False, f'{limit + 1} concurrent connections were accepted')


def verify(settings: ConnectionSettings, *, witness_thread_id: int | None = None) -> list[CheckResult]:
    """Verify the Agent user's privileges, connected as ``settings.user``.

    Checks, in order, :data:`CHECK_NAMES`. ``witness_thread_id`` is the connection id of another
    user's open session that ``process`` must find; without it the check passes when any other
    user's thread is visible. Returns every result; nothing raises for a failed check.
    """
    try:
        conn = connect(settings)
    except (pymysql.MySQLError, OSError) as exc:
        return [CheckResult('connect', False, describe_failure(settings, exc))]
    results = []
    with closing(conn):
        server = detect_server(conn)
        results.append(CheckResult('connect', True, f'connected as {settings.user} to {server.version_string}'))
        results.append(_check_replica_status(conn, server))
        results.append(_check_performance_schema(conn))
        results.append(_check_process(conn, settings.user, witness_thread_id))
        results.append(_check_no_write_privileges(conn))
        results.append(_check_create_denied(conn))
    # Run after closing the session above, which would otherwise count towards the limit.
    results.append(check_connection_limit(settings))
    return results


def check_same_name_accounts(admin_conn, user: str) -> CheckResult:
    """As admin: every account named ``user``, at any host, holds only the documented privileges.

    A login may match another host's account of the same name (``'user'@'localhost'`` before
    ``'user'@'%'`` for a client on 127.0.0.1), so a least-privilege proof covers all of them.
    """
    try:
        accounts = [account_name(user, host) for host in account_hosts(admin_conn, user)]
        extra: dict[tuple[str, str], list[str]] = {}  # (account, where) -> privileges beyond the documented ones
        with admin_conn.cursor() as cursor:
            for account in accounts:
                for level, where, privilege, grantable in _privileges(cursor, account):
                    documented = (level == 'global' and privilege in DOCUMENTED_GLOBAL_PRIVILEGES) or (
                        level == 'schema' and (where, privilege) in DOCUMENTED_SCHEMA_PRIVILEGES
                    )
                    if not documented or grantable == 'YES':
                        grant = ' WITH GRANT OPTION' if grantable == 'YES' else ''
                        extra.setdefault((account, where), []).append(privilege + grant)
    except pymysql.MySQLError as exc:
        return CheckResult('same_name_accounts', False, f'listing the accounts named {user!r} failed: {exc}')
    if extra:
        held = '; '.join(
            f'{account} holds {", ".join(privileges)} on {where}' for (account, where), privileges in extra.items()
        )
        return CheckResult('same_name_accounts', False, f'more than the documented privileges: {held}')
    return CheckResult('same_name_accounts', True, f'only the documented privileges: {", ".join(accounts)}')


def verify_with_witness(settings: ConnectionSettings, admin: ConnectionSettings) -> list[CheckResult]:
    """:func:`verify`, with a session of ``admin`` open for ``process`` to find, then
    ``same_name_accounts`` as ``admin`` (which fails when ``admin`` cannot log in)."""
    if (reason := unreachable_reason(admin)) is not None:
        unlisted = f'the accounts named {settings.user!r} at other hosts could not be listed: {reason}'
        return [*verify(settings), CheckResult('same_name_accounts', False, unlisted)]
    with closing(connect(admin)) as witness:
        return [
            *verify(settings, witness_thread_id=witness.thread_id()),
            check_same_name_accounts(witness, settings.user),
        ]
