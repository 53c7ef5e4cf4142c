"""The MariaDB stand-in keeps the official mysql image's documented init contract (needs Docker and the
images of ../build; run by scripts/test-all after it built them)."""

import secrets
import subprocess
import time
import uuid

import pytest

IMAGE = 'my-metric-standin/mariadb:11.8'
READY_SECONDS = 90


def docker(*args, check=True):
    return subprocess.run(['docker', *args], capture_output=True, text=True, timeout=120, check=check)


@pytest.fixture
def run_server(tmp_path):
    """Starts the image with an init directory and environment; every container is removed afterwards."""
    started = []

    def run(init_files, **env):
        initdb = tmp_path / f'initdb-{len(started)}'
        initdb.mkdir()
        for name, (text, mode) in init_files.items():
            (initdb / name).write_text(text)
            (initdb / name).chmod(mode)
        name = f'my-metric-standin-test-{uuid.uuid4().hex[:8]}'
        options = [item for key, value in env.items() for item in ('-e', f'{key}={value}')]
        docker('run', '-d', '--name', name, *options, '-v', f'{initdb}:/docker-entrypoint-initdb.d:ro', IMAGE)
        started.append(name)
        return name

    yield run
    for name in started:
        docker('rm', '--force', '--volumes', name, check=False)


def sql(container, user, password, statement, database=''):
    command = ['exec', container, 'mariadb', '--protocol=tcp', '-h127.0.0.1', f'-u{user}', f'-p{password}', '-N']
    return docker(*command, '-e', statement, *([database] if database else []), check=False)


def wait_until_served(container):
    """Waits (bounded) until the server answers over TCP; returns None, or the container's end if it exited."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        state = docker('inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', container).stdout.split()
        if state[0] != 'true':
            return int(state[1]), docker('logs', container).stderr
        if (
            docker('exec', container, 'mariadb-admin', '--protocol=tcp', '-h127.0.0.1', 'ping', check=False).returncode
            == 0
        ):
            return None
        time.sleep(1)
    pytest.fail(f'{container} did not serve over TCP within {READY_SECONDS} s:\n{docker("logs", container).stderr}')


def test_the_documented_variables_and_init_files_make_the_server(run_server):
    root_password, app_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    container = run_server(
        {
            '10-table.sql': ('CREATE TABLE made_by_sql (x INT);\n', 0o644),
            # Sourced (not executable): docker_process_sql is defined; it runs in MYSQL_DATABASE.
            '20-sourced.sh': ('echo "CREATE TABLE made_by_sh (x INT);" | docker_process_sql\n', 0o644),
        },
        MYSQL_ROOT_PASSWORD=root_password,
        MYSQL_DATABASE='appdb',
        MYSQL_USER='app',
        MYSQL_PASSWORD=app_password,
    )
    assert wait_until_served(container) is None

    tables = sql(container, 'app', app_password, 'SHOW TABLES', 'appdb')
    assert tables.returncode == 0, tables.stderr
    assert sorted(tables.stdout.split()) == ['made_by_sh', 'made_by_sql']
    # The user's privileges are on its database only; root logs in over TCP with its password only.
    assert sql(container, 'app', app_password, 'SELECT COUNT(*) FROM mysql.user').returncode != 0
    assert sql(container, 'root', root_password, 'SELECT CURRENT_USER()').stdout.strip() == 'root@%'
    assert sql(container, 'root', root_password + 'x', 'SELECT 1').returncode != 0


def test_an_uninitialized_server_without_a_password_option_refuses_to_start(run_server):
    container = run_server({})
    code, log = wait_until_served(container)
    assert code != 0
    assert 'MYSQL_ROOT_PASSWORD' in log


def test_mysql_error_in_an_init_script_stops_the_container_with_its_message(run_server):
    container = run_server(
        {'10-fail.sh': ('mysql_error "the init script refused"\n', 0o644)},
        MYSQL_ROOT_PASSWORD=secrets.token_urlsafe(16),
    )
    code, log = wait_until_served(container)
    assert code == 1
    assert 'the init script refused' in log
