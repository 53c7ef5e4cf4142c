"""MySQL/MariaDB access through PyMySQL, which ddtrace-run instruments automatically."""

import os
from dataclasses import dataclass

import pymysql


@dataclass(frozen=True)
class DatabaseSettings:
    host: str
    port: int
    user: str
    password: str
    database: str | None
    connect_timeout: float

    @classmethod
    def from_env(cls) -> "DatabaseSettings":
        return cls(
            host=os.environ.get("MYSQL_HOST", "127.0.0.1"),
            port=int(os.environ.get("MYSQL_PORT", "3306")),
            user=os.environ.get("MYSQL_USER", "root"),
            password=os.environ.get("MYSQL_PASSWORD", ""),
            database=os.environ.get("MYSQL_DATABASE") or None,
            connect_timeout=float(os.environ.get("MYSQL_CONNECT_TIMEOUT", "2")),
        )


# Each query becomes its own span whose resource is the SQL text, so keep them literal.
SERVER_VERSION_SQL = "SELECT VERSION()"
SCHEMA_COUNT_SQL = "SELECT COUNT(*) FROM information_schema.SCHEMATA"


def database_summary(settings: DatabaseSettings) -> dict:
    """Run two small read-only queries and return their results.

    Raises ``pymysql.MySQLError`` (or ``OSError``) when the server cannot be reached.
    """
    connection = pymysql.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password,
        database=settings.database,
        connect_timeout=settings.connect_timeout,
        read_timeout=5,
        write_timeout=5,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(SERVER_VERSION_SQL)
            (server_version,) = cursor.fetchone()
            cursor.execute(SCHEMA_COUNT_SQL)
            (schema_count,) = cursor.fetchone()
    finally:
        connection.close()
    return {"server_version": server_version, "schema_count": schema_count}
