"""Connection settings, the one way to connect, and the reachability probe."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pymysql

# CR_CONN_HOST_ERROR: PyMySQL could not open the TCP connection (the OSError is kept on the exception).
CONNECTION_FAILED = 2003
# ER_ACCESS_DENIED_ERROR; an account that may only log in through the unix socket (MariaDB's
# unix_socket, MySQL's auth_socket) answers a TCP login with ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
ACCESS_DENIED = 1045
ACCESS_DENIED_NO_PASSWORD = 1698
# CR_SERVER_LOST: the connection opened but the server did not answer (read timed out) or hung up.
SERVER_LOST = 2013

ADMIN_CREDENTIALS = 'the admin account comes from MYSQL_ROOT_USER/MYSQL_ROOT_PASSWORD'
SOCKET_AUTH_FIX = (
    'create an admin account with a password (as root on the server: '
    "CREATE USER 'dd_admin'@'127.0.0.1' IDENTIFIED BY '<password>'; "
    "GRANT ALL PRIVILEGES ON *.* TO 'dd_admin'@'127.0.0.1' WITH GRANT OPTION;) "
    'and set MYSQL_ROOT_USER/MYSQL_ROOT_PASSWORD to it'
)


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and as whom to connect. ``repr`` hides the password."""

    host: str
    port: int
    user: str
    password: str
    connect_timeout: float = 5.0
    # Bounds every read and write too, so a server that accepts and never answers cannot hang us.
    read_timeout: float = 30.0
    # Where the user name and password came from, said when the server refuses them.
    credentials: str = ADMIN_CREDENTIALS

    def __repr__(self) -> str:
        return f'ConnectionSettings(host={self.host!r}, port={self.port}, user={self.user!r}, password=***)'

    @property
    def address(self) -> str:
        return f'{self.host}:{self.port}'

    def as_user(self, user: str, password: str, credentials: str | None = None) -> ConnectionSettings:
        """The same server, as another account; ``credentials`` says where its name and password come from."""
        credentials = credentials or f'the password is the one given for {user!r}'
        return replace(self, user=user, password=password, credentials=credentials)


def admin_settings_from_env(env: Mapping[str, str] | None = None) -> ConnectionSettings:
    """Administrative connection from MYSQL_HOST (127.0.0.1), MYSQL_PORT (3306),
    MYSQL_ROOT_USER (root) and MYSQL_ROOT_PASSWORD (empty).

    Raises ``ValueError`` naming MYSQL_PORT when it is not a port number.
    """
    env = os.environ if env is None else env
    raw_port = env.get('MYSQL_PORT') or '3306'
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise ValueError(f'MYSQL_PORT must be a TCP port number (1-65535), not {raw_port!r}')
    return ConnectionSettings(
        host=env.get('MYSQL_HOST') or '127.0.0.1',
        port=int(raw_port),
        user=env.get('MYSQL_ROOT_USER') or 'root',
        password=env.get('MYSQL_ROOT_PASSWORD', ''),
    )


def connect(settings: ConnectionSettings) -> pymysql.connections.Connection:
    """Open an autocommit PyMySQL connection."""
    return pymysql.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        # PyMySQL would encode a str password as latin-1; the server stores it as UTF-8.
        password=settings.password.encode('utf-8'),
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        write_timeout=settings.read_timeout,
        autocommit=True,
    )


def error_code(exc: BaseException) -> int | None:
    """The MySQL error number of a PyMySQL error, if it has one."""
    args = getattr(exc, 'args', ())
    return args[0] if args and isinstance(args[0], int) else None


def unreachable_reason(settings: ConnectionSettings, timeout: float = 2.0) -> str | None:
    """None when ``settings`` can log in; otherwise one line naming the server, the cause and the fix."""
    probe = replace(settings, connect_timeout=timeout, read_timeout=timeout)
    try:
        connect(probe).close()
    except (pymysql.MySQLError, OSError) as exc:
        return describe_failure(probe, exc)
    return None


def describe_failure(settings: ConnectionSettings, exc: BaseException) -> str:
    """One line for a failed login: server, cause, fix. Never contains the password."""
    where = f'MySQL/MariaDB at {settings.address}'
    code = error_code(exc)
    cause = getattr(exc, 'original_exception', exc)
    if isinstance(cause, socket.gaierror):
        return f'{where}: unknown host {settings.host!r} ({cause.strerror}); set MYSQL_HOST to a resolvable name or IP'
    if isinstance(cause, ConnectionRefusedError):
        return f'{where}: connection refused, no server listens there; start one or set MYSQL_HOST/MYSQL_PORT'
    if isinstance(cause, TimeoutError) or (code == SERVER_LOST and 'timed out' in str(exc)):
        return (
            f'{where}: no answer within {settings.connect_timeout:g}s (timeout); '
            'check MYSQL_HOST/MYSQL_PORT and any firewall in between'
        )
    message = str(exc.args[1]) if code is not None and len(exc.args) > 1 else str(exc)
    if code == ACCESS_DENIED_NO_PASSWORD:
        return (
            f'{where}: access denied for {settings.user!r}, which logs in only through the unix socket '
            f'(unix_socket/auth_socket authentication, the default for root on a stock MySQL/MariaDB), '
            f'not over TCP; {SOCKET_AUTH_FIX}'
        )
    if code == ACCESS_DENIED:
        if settings.user == 'root' and not settings.password:
            return (
                f'{where}: access denied for root with an empty password; if root logs in through the unix '
                f'socket (unix_socket/auth_socket, the default on a stock MySQL/MariaDB): {SOCKET_AUTH_FIX}'
            )
        return (
            f'{where}: access denied for {settings.user!r}; check the user name and password ({settings.credentials})'
        )
    return f'{where}: cannot log in as {settings.user!r}: {message}'
