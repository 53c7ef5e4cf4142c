# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The Agent's `datadog` MySQL user, set up by deploy/mysql on a real MySQL or MariaDB server.

The server comes from MYSQL_HOST / MYSQL_PORT / MYSQL_ROOT_USER / MYSQL_ROOT_PASSWORD
(default 127.0.0.1:3306, root, empty password). Without a reachable server these tests skip.
The `datadog` user is left in place afterwards, as the local run creates it too.
"""

import os
import re
import secrets
import shutil
import subprocess
import time
from contextlib import ExitStack, closing

import pymysql
import pytest
import yaml

from . import common
from .conftest import load_datadog_user_module

datadog_user = load_datadog_user_module()

EXPECTED_CHECKS = [
    'connect',
    'replica_status',
    'performance_schema',
    'process',
    'no_write_privileges',
    'create_denied',
    'connection_limit',
]


@pytest.fixture(scope='session')
def admin_settings():
    settings = datadog_user.admin_settings_from_env()
    try:
        with closing(datadog_user.connect(settings)):
            pass
    except pymysql.MySQLError as exc:
        pytest.skip(f'no MySQL/MariaDB server reachable at {settings.host}:{settings.port} as {settings.user}: {exc}')
    return settings


@pytest.fixture(scope='session')
def datadog_password():
    return secrets.token_urlsafe(24)


@pytest.fixture(scope='session')
def server(admin_settings, datadog_password):
    """The server after applying the setup twice, as a second run of the local setup would."""
    datadog_user.apply(admin_settings, datadog_password)
    return datadog_user.apply(admin_settings, datadog_password)


@pytest.fixture
def datadog_settings(server, admin_settings, datadog_password):
    return datadog_user.datadog_settings(admin_settings, datadog_password)


@pytest.fixture
def admin_conn(admin_settings):
    with closing(datadog_user.connect(admin_settings)) as conn:
        yield conn


@pytest.fixture
def datadog_conn(datadog_settings):
    with closing(datadog_user.connect(datadog_settings)) as conn:
        yield conn


@pytest.fixture
def probe_table(admin_conn):
    """A scratch database and table owned by root for the datadog user to try to modify."""
    database = f'datadog_probe_{secrets.token_hex(4)}'
    with admin_conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE `{database}`')
        cursor.execute(f'CREATE TABLE `{database}`.t (id INT PRIMARY KEY, v INT)')
        cursor.execute(f'INSERT INTO `{database}`.t VALUES (1, 1)')
    yield database
    with admin_conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS `{database}`')


def fetch_grants(conn):
    """SHOW GRANTS for the datadog user, with MariaDB's password hash masked so it is never printed."""
    with conn.cursor() as cursor:
        cursor.execute(f"SHOW GRANTS FOR '{datadog_user.DATADOG_USER}'@'{datadog_user.DATADOG_USER_HOST}'")
        return sorted(re.sub(r"PASSWORD '[^']*'", "PASSWORD '***'", row[0]) for row in cursor.fetchall())


def wait_until_no_datadog_sessions(admin_conn, timeout=10.0):
    """The server frees a closed session's slot asynchronously; wait so the limit counts only ours."""
    deadline = time.monotonic() + timeout
    while True:
        with admin_conn.cursor() as cursor:
            cursor.execute('SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s', ('datadog',))
            (sessions,) = cursor.fetchone()
        if sessions == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f'{sessions} datadog sessions still open after {timeout}s')
        time.sleep(0.1)


def error_code(excinfo):
    return excinfo.value.args[0]


@pytest.mark.integration
def test_applying_twice_keeps_one_user_with_the_same_grants(server, admin_settings, datadog_password, admin_conn):
    before = fetch_grants(admin_conn)
    assert datadog_user.apply(admin_settings, datadog_password) == server
    assert fetch_grants(admin_conn) == before

    with admin_conn.cursor() as cursor:
        cursor.execute("SELECT Host FROM mysql.user WHERE User = 'datadog'")
        assert [row[0] for row in cursor.fetchall()] == ['%']
        cursor.execute("SELECT max_user_connections FROM mysql.user WHERE User = 'datadog' AND Host = '%'")
        assert cursor.fetchone()[0] == datadog_user.MAX_USER_CONNECTIONS


@pytest.mark.integration
def test_grants_are_exactly_the_documented_ones(server, admin_conn):
    grants = ' '.join(fetch_grants(admin_conn)).upper()
    assert 'PROCESS' in grants
    assert 'SELECT ON `PERFORMANCE_SCHEMA`.*' in grants
    # MariaDB 10.5+ spells REPLICATION CLIENT as BINLOG MONITOR.
    assert 'REPLICATION CLIENT' in grants or 'BINLOG MONITOR' in grants
    assert ('SLAVE MONITOR' in grants) == server.needs_slave_monitor
    for forbidden in ('ALL PRIVILEGES', 'INSERT', 'UPDATE', 'DELETE', 'DROP', 'CREATE', 'GRANT OPTION', 'SUPER'):
        assert forbidden not in grants


@pytest.mark.integration
def test_replica_status_is_readable(server, datadog_conn):
    with datadog_conn.cursor() as cursor:
        cursor.execute(server.replica_status_statement)
        cursor.fetchall()


@pytest.mark.integration
def test_performance_schema_is_readable(datadog_conn):
    with datadog_conn.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE 'performance_schema'")
        assert cursor.fetchone() == ('performance_schema',)
        cursor.execute('SELECT COUNT(*) FROM performance_schema.threads')
        assert cursor.fetchone()[0] >= 0


@pytest.mark.integration
def test_other_users_threads_are_visible(admin_conn, datadog_conn):
    witness = admin_conn.thread_id()
    with datadog_conn.cursor() as cursor:
        cursor.execute('SELECT USER FROM information_schema.PROCESSLIST WHERE ID = %s', (witness,))
        assert cursor.fetchone() == (datadog_user.admin_settings_from_env().user,)
        cursor.execute('SHOW FULL PROCESSLIST')
        assert witness in [row[0] for row in cursor.fetchall()]


@pytest.mark.integration
@pytest.mark.parametrize(
    'statement',
    [
        'CREATE DATABASE `{db}_new`',
        'CREATE TABLE `{db}`.created (id INT)',
        'INSERT INTO `{db}`.t VALUES (2, 2)',
        'UPDATE `{db}`.t SET v = 3 WHERE id = 1',
        'DELETE FROM `{db}`.t',
        'DROP TABLE `{db}`.t',
        'DROP DATABASE `{db}`',
        'ALTER TABLE `{db}`.t ADD COLUMN w INT',
        "GRANT SELECT ON `{db}`.* TO 'datadog'@'%'",
        "GRANT PROCESS ON *.* TO 'datadog'@'%'",
        "CREATE USER 'datadog_probe'@'%'",
        'INSERT INTO mysql.user (Host, User) VALUES (\'%\', \'datadog_probe\')',
    ],
)
def test_write_statements_are_refused(statement, probe_table, datadog_conn, admin_conn):
    with pytest.raises(pymysql.MySQLError) as excinfo, datadog_conn.cursor() as cursor:
        cursor.execute(statement.format(db=probe_table))
    assert error_code(excinfo) in datadog_user.ACCESS_DENIED_ERRORS, excinfo.value

    with admin_conn.cursor() as cursor:
        cursor.execute(f'SELECT id, v FROM `{probe_table}`.t')
        assert cursor.fetchall() == ((1, 1),)


@pytest.mark.integration
def test_sixth_concurrent_connection_is_refused(datadog_settings, admin_conn):
    wait_until_no_datadog_sessions(admin_conn)
    with ExitStack() as stack:
        connections = [stack.enter_context(closing(datadog_user.connect(datadog_settings))) for _ in range(5)]
        for conn in connections:
            conn.ping(reconnect=False)
        with pytest.raises(pymysql.MySQLError) as excinfo:
            stack.enter_context(closing(datadog_user.connect(datadog_settings)))
    assert error_code(excinfo) in datadog_user.CONNECTION_LIMIT_ERRORS, excinfo.value

    # The slots are given back once the connections close.
    wait_until_no_datadog_sessions(admin_conn)
    with closing(datadog_user.connect(datadog_settings)) as conn:
        conn.ping(reconnect=False)


@pytest.mark.integration
def test_verify_passes_every_named_check(datadog_settings, admin_conn):
    results = datadog_user.verify(datadog_settings, witness_thread_id=admin_conn.thread_id())
    assert [result.name for result in results] == EXPECTED_CHECKS
    assert [result for result in results if not result.passed] == []
    assert all(result.detail for result in results)


@pytest.mark.integration
def test_verify_reports_a_wrong_password(datadog_settings):
    wrong = datadog_user.datadog_settings(datadog_settings, secrets.token_urlsafe(24))
    [result] = datadog_user.verify(wrong)
    assert (result.name, result.passed) == ('connect', False)
    assert wrong.password not in result.detail


@pytest.mark.integration
def test_apply_rotates_the_password(admin_settings, datadog_settings, datadog_password):
    # Quote, backslash and non-ASCII characters must survive the trip through the SQL.
    rotated = secrets.token_urlsafe(24) + "'\\é"
    try:
        datadog_user.apply(admin_settings, rotated)
        with pytest.raises(pymysql.MySQLError) as excinfo:
            datadog_user.connect(datadog_settings).close()
        assert error_code(excinfo) == 1045
        with closing(datadog_user.connect(datadog_user.datadog_settings(admin_settings, rotated))) as conn:
            conn.ping(reconnect=False)
    finally:
        datadog_user.apply(admin_settings, datadog_password)


@pytest.mark.integration
def test_mariadb_needs_slave_monitor_for_replica_status(server, admin_settings, datadog_password, admin_conn):
    if not server.needs_slave_monitor:
        pytest.skip(f'{server.version_string} is not MariaDB 10.5.9+, which is where SLAVE MONITOR is needed')
    settings = datadog_user.datadog_settings(admin_settings, datadog_password)
    try:
        with admin_conn.cursor() as cursor:
            cursor.execute("REVOKE SLAVE MONITOR ON *.* FROM 'datadog'@'%'")
        with closing(datadog_user.connect(settings)) as conn, conn.cursor() as cursor:
            with pytest.raises(pymysql.MySQLError) as excinfo:
                cursor.execute(server.replica_status_statement)
        assert error_code(excinfo) in datadog_user.ACCESS_DENIED_ERRORS
        failed = [result.name for result in datadog_user.verify(settings) if not result.passed]
        assert failed == ['replica_status']
    finally:
        datadog_user.apply(admin_settings, datadog_password)

    with closing(datadog_user.connect(settings)) as conn, conn.cursor() as cursor:
        cursor.execute(server.replica_status_statement)


@pytest.mark.integration
def test_cli_apply_and_verify(admin_settings, datadog_password, monkeypatch, capsys):
    monkeypatch.setenv('MYSQL_HOST', admin_settings.host)
    monkeypatch.setenv('MYSQL_PORT', str(admin_settings.port))
    monkeypatch.setenv('MYSQL_ROOT_USER', admin_settings.user)
    monkeypatch.setenv('MYSQL_ROOT_PASSWORD', admin_settings.password)
    monkeypatch.setenv('DD_MYSQL_PASSWORD', datadog_password)

    assert datadog_user.main(['apply']) == 0
    assert datadog_user.main(['verify']) == 0
    out = capsys.readouterr().out
    assert [line.split(':')[0] for line in out.splitlines()[1:]] == [f'PASS {name}' for name in EXPECTED_CHECKS]
    assert datadog_password not in out


def test_cli_refuses_to_run_without_a_datadog_password(monkeypatch, capsys):
    monkeypatch.delenv('DD_MYSQL_PASSWORD', raising=False)
    assert datadog_user.main(['apply']) == 2
    assert 'DD_MYSQL_PASSWORD' in capsys.readouterr().err


def test_sql_files_hold_no_password_and_split_into_statements():
    base = datadog_user.load_statements(datadog_user.BASE_SQL)
    assert base[0].startswith('SET @dd_stmt = CONCAT(') and 'QUOTE(@dd_password)' in base[0]
    assert "GRANT SELECT ON performance_schema.* TO 'datadog'@'%'" in base
    with_password = [statement for statement in base if 'IDENTIFIED BY' in statement]
    assert len(with_password) == 2
    # The only password in the SQL is the session variable, quoted by the server.
    assert all(re.search(r"IDENTIFIED BY ', QUOTE\(@dd_password\)", statement) for statement in with_password)
    assert datadog_user.load_statements(datadog_user.MARIADB_SQL) == ["GRANT SLAVE MONITOR ON *.* TO 'datadog'@'%'"]


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

    server = datadog_user.detect_server(FakeConnection())
    assert (server.flavor, server.needs_slave_monitor) == (flavor, slave_monitor)
    expected = [datadog_user.BASE_SQL, datadog_user.MARIADB_SQL] if slave_monitor else [datadog_user.BASE_SQL]
    assert datadog_user.setup_sql_files(server) == expected


def test_settings_repr_hides_the_password():
    password = secrets.token_urlsafe(24)
    settings = datadog_user.ConnectionSettings('db', 3306, 'datadog', password)
    assert password not in repr(settings)
    assert password not in str(settings)


def test_agent_files_keep_secrets_out_and_carry_the_challenge_host_tags():
    mysql_conf = yaml.safe_load(common.AGENT_MYSQL_CONF.read_text(encoding='utf-8'))
    [mysql_instance] = mysql_conf['instances']
    assert mysql_instance['username'] == datadog_user.DATADOG_USER
    assert mysql_instance['password'] == '%%env_DD_MYSQL_PASSWORD%%'

    agent = yaml.safe_load(common.AGENT_DATADOG_YAML.read_text(encoding='utf-8'))
    assert sorted(tag.split(':', 1)[0] for tag in agent['tags']) == ['env', 'machine_name', 'region', 'role']
    assert f"env:{agent['env']}" in agent['tags']
    assert agent['apm_config'] == {'enabled': True, 'apm_non_local_traffic': True}


def test_compose_uses_the_deploy_sql_and_takes_secrets_from_the_environment():
    compose = yaml.safe_load(common.COMPOSE_FILE.read_text(encoding='utf-8'))
    mysql = compose['services']['mysql']
    assert mysql['image'] == 'mysql:8.4'
    mounts = {
        volume.split(':')[1]: (common.COMPOSE_FILE.parent / volume.split(':')[0]).resolve()
        for volume in mysql['volumes']
    }
    assert mounts['/docker-entrypoint-initdb.d'] == datadog_user.HERE / 'initdb'
    assert mounts['/datadog-sql'] == datadog_user.HERE
    for service in compose['services'].values():
        for name, value in service.get('environment', {}).items():
            if 'PASSWORD' in name:
                assert str(value).startswith('${') and str(value).endswith(':-}'), name


@pytest.mark.integration
def test_mysql_image_init_script_creates_the_same_user(server, admin_settings, datadog_password, tmp_path):
    """Runs deploy/mysql/initdb/10-datadog-user.sh as the image's entrypoint would, with its
    docker_process_sql replaced by the local mysql client."""
    client = shutil.which('mysql') or shutil.which('mariadb')
    if client is None or shutil.which('bash') is None:
        pytest.skip('the mysql/mariadb command-line client or bash is not installed')
    init_script = datadog_user.HERE / 'initdb' / '10-datadog-user.sh'
    script = init_script.read_text(encoding='utf-8').replace('/datadog-sql/', f'{datadog_user.HERE}/')
    (tmp_path / 'init.sh').write_text(script, encoding='utf-8')
    harness = (
        'set -eo pipefail\n'
        'mysql_error() { echo "$*" >&2; exit 1; }\n'
        'docker_process_sql() { "$MYSQL_CLIENT" --protocol=tcp -h "$MYSQL_HOST" -P "$MYSQL_PORT" '
        '-u "$MYSQL_ROOT_USER" "$@"; }\n'
        '. "$1"\n'
    )
    rotated = secrets.token_urlsafe(24) + "'\\"
    env = dict(
        os.environ,
        MYSQL_HOST=admin_settings.host,
        MYSQL_PORT=str(admin_settings.port),
        MYSQL_ROOT_USER=admin_settings.user,
        MYSQL_CLIENT=client,
        MYSQL_PWD=admin_settings.password,
        DD_MYSQL_PASSWORD=rotated,
    )
    try:
        subprocess.run(['bash', '-c', harness, 'harness', str(tmp_path / 'init.sh')], env=env, check=True)
        with closing(datadog_user.connect(datadog_user.datadog_settings(admin_settings, rotated))) as conn:
            conn.ping(reconnect=False)

        env['DD_MYSQL_PASSWORD'] = ''
        failed = subprocess.run(['bash', '-c', harness, 'harness', str(tmp_path / 'init.sh')], env=env)
        assert failed.returncode != 0
    finally:
        datadog_user.apply(admin_settings, datadog_password)
