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

from .accounts import ServerInfo, apply, drop_user, ensure_app_user, user_exists
from .connection import ConnectionSettings, connect


@dataclass
class TemporaryAccounts:
    """What :func:`temporary_accounts` created. ``removal_error`` is set when dropping them failed."""

    agent: ConnectionSettings
    app: ConnectionSettings
    database: str
    server: ServerInfo
    replaced: list[str]
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


def drop_accounts(admin: ConnectionSettings, users: list[str], database: str) -> None:
    """Drop ``'user'@'%'`` for each user and the database; what is absent is skipped."""
    for user in users:
        drop_user(admin, user)
    with closing(connect(admin)) as conn, conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS `{database.replace("`", "``")}`')


@contextmanager
def temporary_accounts(
    admin: ConnectionSettings, *, agent_user: str, app_user: str, database: str, keep: bool = False
) -> Iterator[TemporaryAccounts]:
    """Create an Agent account and an app account on its own database, with random passwords; drop
    them and the database when the block ends (also on an exception), unless ``keep``.

    The names must be reserved for this use: an account of the same name, such as one left by a killed
    run, is replaced (its name is listed in ``replaced``). When creating fails, what was created is
    dropped and the error raised. A failure to drop at the end is not raised, so it cannot hide what
    ended the block: it is kept in ``removal_error`` for the caller to report.
    """
    replaced = [user for user in (agent_user, app_user) if user_exists(admin, user)]
    agent = admin.as_user(agent_user, secrets.token_urlsafe(18))
    app = admin.as_user(app_user, secrets.token_urlsafe(18))
    try:
        server = apply(admin, agent.password, agent_user, replace_existing=True)
        ensure_app_user(admin, app_user, app.password, database, replace_existing=True)
    except BaseException as error:
        try:
            drop_accounts(admin, [agent_user, app_user], database)
        except (pymysql.MySQLError, OSError) as cleanup_error:
            error.add_note(f'dropping what was created failed too: {cleanup_error}')
        raise
    accounts = TemporaryAccounts(agent, app, database, server, replaced, kept=keep)
    try:
        yield accounts
    finally:
        if not keep:
            try:
                drop_accounts(admin, [agent_user, app_user], database)
            except (pymysql.MySQLError, OSError) as error:
                accounts.removal_error = error
