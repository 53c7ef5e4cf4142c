"""initdb/10-datadog-user.sh, run as the mysql image's entrypoint would, with docker_process_sql
replaced by the local mysql client (or by `cat`, to read the SQL it sends; SERVER_VERSION then
answers the script's SELECT VERSION())."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mysql_datadog_user import AccountExists, apply, unreachable_reason, user_exists
from mysql_datadog_user.accounts import SQL_DIR

from .common import fetch_grants, new_password, password_hash

INIT_SCRIPT = Path(__file__).resolve().parents[1] / 'initdb' / '10-datadog-user.sh'
HARNESS = (
    'set -eo pipefail\n'
    'mysql_error() { echo "$*" >&2; exit 1; }\n'
    'docker_process_sql() { if [ -n "${SQL_TO_STDOUT:-}" ]; then '
    'if [[ "$*" == *--skip-column-names* ]]; then cat >/dev/null; echo "${SERVER_VERSION:-8.4.3}"; else cat; fi; '
    'else "$MYSQL_CLIENT" --protocol=tcp -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_ROOT_USER" "$@"; fi; }\n'
    '. "$1"\n'
)


@pytest.fixture
def init_script(tmp_path):
    """The init script with the image's mount point /datadog-sql replaced by the package's SQL folder."""
    if shutil.which('bash') is None:
        pytest.skip('bash is not installed')
    script = INIT_SCRIPT.read_text(encoding='utf-8').replace('/datadog-sql/', f'{SQL_DIR}/')
    path = tmp_path / 'init.sh'
    path.write_text(script, encoding='utf-8')
    return path


def run_init(init_script, **env) -> subprocess.CompletedProcess:
    full_env = {key: value for key, value in os.environ.items() if key not in ('DD_MYSQL_USER', 'DD_MYSQL_PASSWORD')}
    full_env.update(env)
    return subprocess.run(
        ['bash', '-c', HARNESS, 'harness', str(init_script)], env=full_env, capture_output=True, text=True
    )


@pytest.fixture
def client_env(admin):
    client = shutil.which('mysql') or shutil.which('mariadb')
    if client is None:
        pytest.skip('the mysql/mariadb command-line client is not installed')
    return {
        'MYSQL_HOST': admin.host,
        'MYSQL_PORT': str(admin.port),
        'MYSQL_ROOT_USER': admin.user,
        'MYSQL_CLIENT': client,
        'MYSQL_PWD': admin.password,
    }


def test_default_user_is_datadog_and_both_values_go_as_hex(init_script):
    done = run_init(init_script, SQL_TO_STDOUT='1', DD_MYSQL_PASSWORD="p'w")
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()[:2]
    assert first == f"SET @dd_user = CONVERT(X'{b'datadog'.hex()}' USING utf8mb4);"
    assert second == f"SET @dd_password = CONVERT(X'{b"p'w".hex()}' USING utf8mb4);"
    assert done.stdout.endswith((SQL_DIR / 'datadog_user.sql').read_text(encoding='utf-8'))


@pytest.mark.parametrize(
    ('server_version', 'slave_monitor'),
    [
        ('8.4.3', False),
        ('10.5.8-MariaDB', False),
        ('10.5.9-MariaDB', True),
        ('10.11.11-MariaDB-0+deb12u1', True),
        ('11.8.9-MariaDB-0+deb13u1', True),
    ],
)
def test_mariadb_10_5_9_and_later_also_get_the_mariadb_sql_in_the_same_session(
    init_script, server_version, slave_monitor
):
    done = run_init(init_script, SQL_TO_STDOUT='1', DD_MYSQL_PASSWORD='pw', SERVER_VERSION=server_version)
    assert done.returncode == 0, done.stderr
    base_sql = (SQL_DIR / 'datadog_user.sql').read_text(encoding='utf-8')
    mariadb_sql = (SQL_DIR / 'datadog_user_mariadb.sql').read_text(encoding='utf-8')
    assert done.stdout.endswith(base_sql + mariadb_sql if slave_monitor else base_sql)


def test_init_script_creates_the_same_user_as_apply(admin, account_name, client_env, init_script, admin_conn):
    password = new_password()
    done = run_init(init_script, **client_env, DD_MYSQL_USER=account_name, DD_MYSQL_PASSWORD=password)
    assert done.returncode == 0, done.stderr
    assert unreachable_reason(admin.as_user(account_name, password)) is None
    # The same grants as apply on this server (on MariaDB 10.5.9+ that includes SLAVE MONITOR).
    other = f'{account_name}b'
    try:
        apply(admin, new_password(), other)
        apply_grants = privileges(fetch_grants(admin_conn, other), other)
    finally:
        with admin_conn.cursor() as cursor:
            cursor.execute("DROP USER IF EXISTS %s@'%%'", (other,))
    assert privileges(fetch_grants(admin_conn, account_name), account_name) == apply_grants
    assert {
        ('PROCESS', '*.*'),
        ('SELECT', '`performance_schema`.*'),
        ('MAX_USER_CONNECTIONS 5', 'limit'),
    } <= apply_grants


def privileges(grants: list[str], user: str) -> set[tuple[str, str]]:
    """(privilege, target) pairs from SHOW GRANTS lines, plus the resource limit."""
    pairs = set()
    for grant in grants:
        match = re.match(r'GRANT (.+) ON (\S+) TO `' + re.escape(user) + r'`@`%`(.*)', grant)
        assert match, grant
        pairs |= {(privilege.strip(), match.group(2)) for privilege in match.group(1).split(',')}
        if 'MAX_USER_CONNECTIONS' in match.group(3):
            pairs.add((re.search(r'MAX_USER_CONNECTIONS \d+', match.group(3)).group(0), 'limit'))
    return pairs


def test_init_script_fails_without_a_password(account_name, client_env, init_script, admin):
    done = run_init(init_script, **client_env, DD_MYSQL_USER=account_name, DD_MYSQL_PASSWORD='')
    assert done.returncode != 0
    assert 'DD_MYSQL_PASSWORD must be set' in done.stderr
    assert not user_exists(admin, account_name)


def test_init_script_never_changes_an_existing_account(admin, account_name, client_env, init_script, admin_conn):
    password = new_password()
    apply(admin, password, account_name)
    grants, stored_hash = fetch_grants(admin_conn, account_name), password_hash(admin_conn, account_name)

    done = run_init(init_script, **client_env, DD_MYSQL_USER=account_name, DD_MYSQL_PASSWORD=new_password())
    assert done.returncode != 0
    assert (fetch_grants(admin_conn, account_name), password_hash(admin_conn, account_name)) == (grants, stored_hash)
    with pytest.raises(AccountExists):
        apply(admin, new_password(), account_name)
