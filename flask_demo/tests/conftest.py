import os
import re
from pathlib import Path

import pymysql
import pytest

from flask_demo_harness import apm_test_agent, traced_app

SNAPSHOT_DIR = Path(__file__).parent / "snapshots"
APP_ENV = "test"
MYSQL_SETTINGS = {
    "MYSQL_HOST": "127.0.0.1",
    "MYSQL_PORT": "3306",
    "MYSQL_USER": "root",
    "MYSQL_PASSWORD": "",
}


def snapshots_may_be_written() -> bool:
    """Only an explicit request writes new snapshot files; otherwise a missing one fails (CI mode)."""
    return os.environ.get("FLASK_DEMO_UPDATE_SNAPSHOTS") == "1"


def mysql_unreachable_reason() -> str | None:
    try:
        pymysql.connect(
            host=MYSQL_SETTINGS["MYSQL_HOST"],
            port=int(MYSQL_SETTINGS["MYSQL_PORT"]),
            user=MYSQL_SETTINGS["MYSQL_USER"],
            password=MYSQL_SETTINGS["MYSQL_PASSWORD"],
            connect_timeout=2,
        ).close()
    except (pymysql.MySQLError, OSError) as exc:
        where = f"{MYSQL_SETTINGS['MYSQL_HOST']}:{MYSQL_SETTINGS['MYSQL_PORT']}"
        return f"no MySQL/MariaDB server reachable at {where} as {MYSQL_SETTINGS['MYSQL_USER']}: {exc}"
    return None


@pytest.fixture(scope="session")
def requires_mysql():
    reason = mysql_unreachable_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def agent(tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "apm-test-agent.log"
    with apm_test_agent(
        snapshot_dir=SNAPSHOT_DIR, snapshot_ci_mode=not snapshots_may_be_written(), log_path=log
    ) as running:
        yield running


@pytest.fixture(scope="session")
def app(agent, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "flask-demo.log"
    with traced_app(agent.url, env={"DD_ENV": APP_ENV, **MYSQL_SETTINGS}, workers=1, log_path=log) as running:
        yield running


@pytest.fixture
def session_token(request, agent):
    """A session named after the test, which is also the snapshot file name."""
    token = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    agent.start_session(token)
    return token
