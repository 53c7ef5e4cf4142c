"""The SQL files, server detection and settings, without a server."""

import re
import secrets

import pytest

from mysql_datadog_user import ConnectionSettings, admin_settings_from_env
from mysql_datadog_user.accounts import BASE_SQL, MARIADB_SQL, detect_server, load_statements, setup_sql_files


def test_sql_ships_inside_the_installed_package():
    assert BASE_SQL.is_file() and MARIADB_SQL.is_file()
    assert BASE_SQL.name == 'datadog_user.sql'


def test_sql_files_hold_no_name_or_password_and_split_into_statements():
    base = load_statements(BASE_SQL)
    assert base[0] == "SET @dd_account = CONCAT(QUOTE(@dd_user), '@''%''')"
    identified = [statement for statement in base if 'IDENTIFIED BY' in statement]
    # The only password is the session variable, quoted by the server; CREATE USER without
    # IF NOT EXISTS, so an existing account makes the file stop before anything changes.
    assert identified == ["SET @dd_stmt = CONCAT('CREATE USER ', @dd_account, ' IDENTIFIED BY ', QUOTE(@dd_password))"]
    assert base.index(identified[0]) < min(i for i, statement in enumerate(base) if 'GRANT' in statement)
    assert not any(re.search(r'datadog', statement) for statement in base)
    grants = [statement for statement in base if 'GRANT' in statement]
    assert grants == [
        "SET @dd_stmt = CONCAT('GRANT REPLICATION CLIENT ON *.* TO ', @dd_account)",
        "SET @dd_stmt = CONCAT('GRANT PROCESS ON *.* TO ', @dd_account)",
        "SET @dd_stmt = CONCAT('GRANT SELECT ON performance_schema.* TO ', @dd_account)",
    ]
    assert "SET @dd_stmt = CONCAT('ALTER USER ', @dd_account, ' WITH MAX_USER_CONNECTIONS 5')" in base
    assert [statement for statement in load_statements(MARIADB_SQL) if 'GRANT' in statement] == [
        "SET @dd_stmt = CONCAT('GRANT SLAVE MONITOR ON *.* TO ', @dd_account)"
    ]


@pytest.mark.parametrize(
    'version_string, flavor, slave_monitor',
    [
        ('8.4.3', 'mysql', False),
        ('10.11.19-MariaDB-0+deb12u1', 'mariadb', True),
        ('10.5.9-MariaDB', 'mariadb', True),
        ('10.5.8-MariaDB-log', 'mariadb', False),
        ('10.4.34-MariaDB', 'mariadb', False),
    ],
)
def test_server_detection_chooses_the_sql_variant(version_string, flavor, slave_monitor):
    class FakeCursor:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, sql):
            assert sql == 'SELECT VERSION()'

        def fetchone(self):
            return (version_string,)

    class FakeConnection:
        def cursor(self):
            return FakeCursor()

    server = detect_server(FakeConnection())
    assert (server.flavor, server.needs_slave_monitor) == (flavor, slave_monitor)
    assert str(server) == f'{flavor} {version_string}'
    expected = [BASE_SQL, MARIADB_SQL] if slave_monitor else [BASE_SQL]
    assert setup_sql_files(server) == expected


def test_settings_repr_hides_the_password():
    password = secrets.token_urlsafe(24)
    settings = ConnectionSettings('db', 3306, 'datadog', password)
    assert password not in repr(settings)
    assert password not in str(settings)
    assert password not in repr(settings.as_user('other', password))


def test_admin_settings_defaults_and_environment():
    assert admin_settings_from_env({}) == ConnectionSettings('127.0.0.1', 3306, 'root', '')
    admin_password = secrets.token_urlsafe(12)
    env = {'MYSQL_HOST': 'db', 'MYSQL_PORT': '3307', 'MYSQL_ROOT_USER': 'admin', 'MYSQL_ROOT_PASSWORD': admin_password}
    assert admin_settings_from_env(env) == ConnectionSettings('db', 3307, 'admin', admin_password)


@pytest.mark.parametrize('port', ['abc', '0', '70000', '-1', '3306 '])
def test_admin_settings_reject_a_port_that_is_not_one(port):
    with pytest.raises(ValueError, match=r'MYSQL_PORT must be a TCP port number'):
        admin_settings_from_env({'MYSQL_PORT': port})
