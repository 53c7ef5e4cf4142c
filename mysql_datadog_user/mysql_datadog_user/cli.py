"""``mysql-datadog-user``: probe the server, create, verify or drop the Agent's MySQL user.

The admin connection comes from MYSQL_HOST, MYSQL_PORT, MYSQL_ROOT_USER, MYSQL_ROOT_PASSWORD;
the Agent user's password from DD_MYSQL_PASSWORD. Exit codes: 0 done, 1 a verification failed
or the server refused a statement, 2 usage or configuration error, 3 server not reachable or
login refused, 4 an account of the name exists (at any host) and was left unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import closing

import pymysql

from .accounts import DATADOG_USER, AccountExists, apply, check_user_name, detect_server, drop_user
from .connection import ConnectionSettings, admin_settings_from_env, connect, unreachable_reason
from .verification import verify_with_witness

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_ACCOUNT_EXISTS = 4


class UsageError(Exception):
    """A mistake in the command line or the environment; the message says how to fix it."""


def user_name(value: str) -> str:
    """argparse type of --user: a name every MySQL server accepts, refused before any connection."""
    try:
        check_user_name(value)
    except ValueError as exc:
        direction = 'give a name' if not value else 'shorten it'
        raise argparse.ArgumentTypeError(f'{exc}; {direction}') from None
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='mysql-datadog-user',
        description="Set up the Datadog Agent's least-privilege MySQL/MariaDB user.",
        epilog='Admin connection: MYSQL_HOST (127.0.0.1), MYSQL_PORT (3306), MYSQL_ROOT_USER (root), '
        'MYSQL_ROOT_PASSWORD (empty). The Agent user: DD_MYSQL_USER (datadog), its password DD_MYSQL_PASSWORD.',
    )
    commands = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    # DD_MYSQL_USER, as the image's init script (initdb/10-datadog-user.sh) reads it.
    default_user = os.environ.get('DD_MYSQL_USER') or DATADOG_USER
    user_help = f'account name (default: DD_MYSQL_USER, else {DATADOG_USER}; now {default_user})'.replace('%', '%%')
    commands.add_parser('probe', help='say whether the admin account can log in, and if not why')
    apply_parser = commands.add_parser('apply', help='create the Agent user (never changes an existing one)')
    apply_parser.add_argument('--user', type=user_name, default=default_user, help=user_help)
    apply_parser.add_argument(
        '--replace-existing',
        action='store_true',
        help='drop every account of that name (at any host) and create it anew (password and grants change)',
    )
    verify_parser = commands.add_parser('verify', help='check the Agent user has exactly what it needs')
    verify_parser.add_argument('--user', type=user_name, default=default_user, help=user_help)
    drop_parser = commands.add_parser('drop', help='drop every account named NAME, at any host (nothing if absent)')
    drop_parser.add_argument('--user', type=user_name, required=True, help='account name to drop')
    return parser


def agent_password() -> str:
    password = os.environ.get('DD_MYSQL_PASSWORD', '')
    if not password:
        raise UsageError('DD_MYSQL_PASSWORD is not set; export the Agent user password in it')
    return password


def admin_settings() -> ConnectionSettings:
    try:
        return admin_settings_from_env()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run_probe(admin: ConnectionSettings) -> int:
    with closing(connect(admin)) as conn:
        server = detect_server(conn)
    print(f'reachable: {server.version_string} at {admin.address} as {admin.user}')
    return EXIT_OK


def run_apply(admin: ConnectionSettings, user: str, password: str, replace_existing: bool) -> int:
    server = apply(admin, password, user, replace_existing=replace_existing)
    print(f"created '{user}'@'%' on {server} at {admin.address}")
    return EXIT_OK


def run_verify(admin: ConnectionSettings, user: str, password: str) -> int:
    settings = admin.as_user(user, password, credentials=f'{user!r} is --user, its password DD_MYSQL_PASSWORD')
    reason = unreachable_reason(settings)
    if reason:
        print(f'error: {reason}', file=sys.stderr)
        return EXIT_UNREACHABLE
    results = verify_with_witness(settings, admin)
    for result in results:
        print(result)
    return EXIT_OK if all(result.passed for result in results) else EXIT_FAILED


def run_drop(admin: ConnectionSettings, user: str) -> int:
    dropped = drop_user(admin, user)
    print(f'dropped {", ".join(dropped)}' if dropped else f'no account named {user!r}; nothing to drop')
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    # Every setting is checked before the first connection.
    admin = admin_settings()
    password = agent_password() if args.command in ('apply', 'verify') else ''
    if args.command != 'verify':
        reason = unreachable_reason(admin)
        if reason:
            print(f'error: {reason}', file=sys.stderr)
            return EXIT_UNREACHABLE
    if args.command == 'probe':
        return run_probe(admin)
    if args.command == 'apply':
        return run_apply(admin, args.user, password, args.replace_existing)
    if args.command == 'verify':
        return run_verify(admin, args.user, password)
    return run_drop(admin, args.user)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (UsageError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return EXIT_USAGE
    except AccountExists as exc:
        print(f'error: {exc}', file=sys.stderr)
        return EXIT_ACCOUNT_EXISTS
    except pymysql.MySQLError as exc:
        print(f'error: the server refused: {exc}', file=sys.stderr)
        return EXIT_FAILED
