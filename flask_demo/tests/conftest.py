import os
import re
import secrets
from contextlib import closing

import pytest

from flask_demo_harness import apm_test_agent, traced_app
from mysql_datadog_user import admin_settings_from_env, connect, drop_user, ensure_app_user, unreachable_reason

from .common import APP_ACCOUNT_PATTERN, APP_ENV, REGEX_PLACEHOLDERS, SNAPSHOT_DIR


def snapshots_may_be_written() -> bool:
    """Only an explicit request writes new snapshot files; otherwise a missing one fails (CI mode)."""
    return os.environ.get("FLASK_DEMO_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(scope="session")
def mysql_app_env():
    """(MYSQL_* environment for the app, why MySQL is unusable or None).

    The server is MYSQL_HOST/MYSQL_PORT with the admin account MYSQL_ROOT_USER/MYSQL_ROOT_PASSWORD
    (the mysql-datadog-user defaults: 127.0.0.1:3306, root). The app gets an account and database of
    its own, named ``dd_test_app_<hex>``, dropped after the run.
    """
    admin = admin_settings_from_env()
    env = {"MYSQL_HOST": admin.host, "MYSQL_PORT": str(admin.port)}
    reason = unreachable_reason(admin)
    if reason:
        yield env, reason
        return
    account = f"dd_test_app_{secrets.token_hex(4)}"
    assert re.fullmatch(APP_ACCOUNT_PATTERN, account)
    password = secrets.token_urlsafe(24)
    try:
        ensure_app_user(admin, account, password, account)
        yield {**env, "MYSQL_USER": account, "MYSQL_PASSWORD": password, "MYSQL_DATABASE": account}, None
    finally:
        drop_user(admin, account)
        with closing(connect(admin)) as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{account}`")


@pytest.fixture(scope="session")
def requires_mysql(mysql_app_env):
    _, reason = mysql_app_env
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def agent(tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "apm-test-agent.log"
    with apm_test_agent(
        snapshot_dir=SNAPSHOT_DIR,
        snapshot_ci_mode=not snapshots_may_be_written(),
        regex_placeholders=REGEX_PLACEHOLDERS,
        log_path=log,
    ) as running:
        yield running


@pytest.fixture(scope="session")
def app(agent, mysql_app_env, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "flask-demo.log"
    mysql_env, _ = mysql_app_env
    with traced_app(agent.url, env={"DD_ENV": APP_ENV, **mysql_env}, workers=1, log_path=log) as running:
        yield running


@pytest.fixture
def session_token(request, agent):
    """A session named after the test, which is also the snapshot file name."""
    token = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    agent.start_session(token)
    return token
