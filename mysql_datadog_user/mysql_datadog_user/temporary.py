"""Accounts that exist only for the length of a ``with`` block: a tour's or a demo's own."""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pymysql

from .accounts import ServerInfo, account_name, apply, drop_user, ensure_app_user
from .connection import ConnectionSettings, connect


@dataclass
class TemporaryAccounts:
    """What :func:`temporary_accounts` created. ``removal_error`` is set when dropping them failed."""

    agent: ConnectionSettings
    app: ConnectionSettings
    database: str
    server: ServerInfo
    dropped_leftovers: list[str]  # accounts ('user'@'host') and databases of killed runs, dropped first
    removal_error: Exception | None = None
    kept: bool = False  # left in place when the block ends

    @property
    def description(self) -> str:
        """'accounts AGENT, APP and database DATABASE', to tell a reader what was made."""
        return f'accounts {self.agent.user}, {self.app.user} and database {self.database}'

    def removal_commands(self, program: str = 'mysql-datadog-user') -> list[str]:
        """What removes them by hand: a ``program drop --user`` command per account, then the SQL for the database."""
        drops = [f'{program} drop --user {shlex.quote(settings.user)}' for settings in (self.agent, self.app)]
        database = self.database.replace('`', '``')
        plain = re.fullmatch(r'[A-Za-z0-9_$]+', database)
        return [*drops, f'DROP DATABASE {database}' if plain else f'DROP DATABASE `{database}`']

    def save_passwords(self, path) -> Path:
        """Write ``user password`` of both accounts, a line each, to ``path``, readable by its owner only (0600)."""
        path = Path(path)
        path.touch(mode=0o600)
        path.chmod(0o600)  # touch leaves the mode of a file that exists as it was
        path.write_text(''.join(f'{settings.user} {settings.password}\n' for settings in (self.agent, self.app)))
        return path

    def app_environment(self) -> dict[str, str]:
        """The MYSQL_* variables an application (such as flask_demo) reads to log in as the app account."""
        return {
            'MYSQL_HOST': self.app.host,
            'MYSQL_PORT': str(self.app.port),
            'MYSQL_USER': self.app.user,
            'MYSQL_PASSWORD': self.app.password,
            'MYSQL_DATABASE': self.database,
        }


def drop_accounts(admin: ConnectionSettings, users: list[str], database: str | None) -> None:
    """Drop every account of each name (at any host) and the database; what is absent is skipped."""
    for user in users:
        drop_user(admin, user)
    if database is not None:
        with closing(connect(admin)) as conn, conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS {quote_name(database)}')


def quote_name(name: str) -> str:
    return '`' + name.replace('`', '``') + '`'


def database_exists(admin: ConnectionSettings, database: str) -> bool:
    with closing(connect(admin)) as conn, conn.cursor() as cursor:
        cursor.execute('SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s', (database,))
        return cursor.fetchone()[0] > 0


@contextmanager
def temporary_accounts(
    admin: ConnectionSettings,
    *,
    agent_user: str,
    app_user: str,
    database: str,
    keep: bool = False,
    dropped_leftovers: list[str] | None = None,
) -> Iterator[TemporaryAccounts]:
    """Create an Agent account and an app account on its own database, with random passwords; drop
    them and the database when the block ends (also on an exception), unless ``keep``.

    An account that exists under either name (at any host) is never changed: :class:`AccountExists`
    is raised. When creating fails, only what this call created is dropped and the error raised. A
    failure to drop at the end is not raised, so it cannot hide what ended the block: it is kept in
    ``removal_error`` for the caller to report.
    """
    credentials = 'made by this block with a random password; dropped or changed since by something else?'
    agent = admin.as_user(agent_user, secrets.token_urlsafe(18), credentials)
    app = admin.as_user(app_user, secrets.token_urlsafe(18), credentials)
    created: list[str] = []
    ours = None if database_exists(admin, database) else database
    try:
        server = apply(admin, agent.password, agent_user)
        created.append(agent_user)
        ensure_app_user(admin, app_user, app.password, database)
        created.append(app_user)
    except BaseException as error:
        try:
            drop_accounts(admin, created, ours)
        except (pymysql.MySQLError, OSError) as cleanup_error:
            error.add_note(f'dropping what was created failed too: {cleanup_error}')
        raise
    accounts = TemporaryAccounts(agent, app, database, server, list(dropped_leftovers or []), kept=keep)
    try:
        yield accounts
    finally:
        if not keep:
            try:
                drop_accounts(admin, [agent_user, app_user], database)
            except (pymysql.MySQLError, OSError) as error:
                accounts.removal_error = error


@contextmanager
def run_accounts(
    admin: ConnectionSettings, *, agent_prefix: str, app_prefix: str, database_prefix: str, keep: bool = False
) -> Iterator[TemporaryAccounts]:
    """:func:`temporary_accounts` for one of several runs at once, each with names of its own.

    Names are ``<prefix>_<8 hex>`` (``<prefix>_kept_<8 hex>`` with ``keep``). An admin session holds
    the MySQL named lock ``<agent_prefix>_<8 hex>`` (GET_LOCK) for the whole block: it marks the run as
    alive, and the server frees it when that session ends, however the run ended. Before creating,
    the accounts and databases named ``<prefix>_<8 hex>`` whose lock is free (their run was killed
    before it could drop them) are dropped and listed in ``dropped_leftovers``; those of a live run
    are never touched. Kept accounts are not leftovers: they stay until dropped by hand.
    """
    suffix = secrets.token_hex(4)
    with closing(connect(admin)) as liveness, liveness.cursor() as cursor:
        cursor.execute('SELECT GET_LOCK(%s, 0)', (f'{agent_prefix}_{suffix}',))
        if cursor.fetchone()[0] != 1:
            raise RuntimeError(f'the MySQL lock {agent_prefix}_{suffix} is taken; start the run again')
        dropped = drop_dead_runs(cursor, admin, agent_prefix, app_prefix, database_prefix)
        middle = 'kept_' if keep else ''
        names = {
            'agent_user': f'{agent_prefix}_{middle}{suffix}',
            'app_user': f'{app_prefix}_{middle}{suffix}',
            'database': f'{database_prefix}_{middle}{suffix}',
        }
        with temporary_accounts(admin, keep=keep, dropped_leftovers=dropped, **names) as accounts:
            yield accounts
        # Leaving the block closes the session, which frees the lock: after the accounts are dropped.


def drop_dead_runs(cursor, admin: ConnectionSettings, agent_prefix: str, app_prefix: str, database_prefix: str):
    """Drop the accounts and databases of runs whose lock is free; their names (accounts as 'user'@'host')."""
    pattern = '^({})_[0-9a-f]{{8}}$'
    cursor.execute(
        'SELECT User, Host FROM mysql.user WHERE User REGEXP %s ORDER BY User, Host',
        (pattern.format('|'.join(re.escape(prefix) for prefix in (agent_prefix, app_prefix))),),
    )
    accounts = list(cursor.fetchall())
    cursor.execute(
        'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME REGEXP %s',
        (pattern.format(re.escape(database_prefix)),),
    )
    databases = [name for (name,) in cursor.fetchall()]
    dropped = []
    for suffix in sorted({name[-8:] for name, _ in accounts} | {name[-8:] for name in databases}):
        cursor.execute('SELECT IS_FREE_LOCK(%s)', (f'{agent_prefix}_{suffix}',))
        if cursor.fetchone()[0] != 1:
            continue  # a live run's
        for user, host in accounts:
            if user.endswith(suffix):
                cursor.execute('DROP USER IF EXISTS %s@%s', (user, host))
                dropped.append(account_name(user, host))
        for database in databases:
            if database.endswith(suffix):
                cursor.execute(f'DROP DATABASE IF EXISTS {quote_name(database)}')
                dropped.append(f'database {database}')
    return dropped
