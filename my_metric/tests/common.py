# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
import os
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
INTEGRATION_ROOT = HERE.parent
REPO_ROOT = INTEGRATION_ROOT.parent
CONF_EXAMPLE = INTEGRATION_ROOT / 'datadog_checks' / 'my_metric' / 'data' / 'conf.yaml.example'

CHECK_NAME = 'my_metric'
METRIC_NAME = 'my_metric'
DEFAULT_MIN = 0
DEFAULT_MAX = 1000
INSTANCE_TAGS = ['team:challenge', 'source:tests']

INSTANCE = {'tags': INSTANCE_TAGS}

# deploy/: the files a user copies onto a host Agent, also used by the ddev e2e environment.
DEPLOY_DIR = REPO_ROOT / 'deploy'
AGENT_DATADOG_YAML = DEPLOY_DIR / 'agent' / 'datadog.yaml'
AGENT_MYSQL_CONF = DEPLOY_DIR / 'agent' / 'conf.d' / 'mysql.d' / 'conf.yaml'
COMPOSE_FILE = HERE / 'docker' / 'docker-compose.yaml'
# What the compose file's MySQL service mounts: the mysql-datadog-user package's init script and SQL.
MYSQL_INITDB_DIR = REPO_ROOT / 'mysql_datadog_user' / 'initdb'
MYSQL_SQL_DIR = REPO_ROOT / 'mysql_datadog_user' / 'mysql_datadog_user' / 'sql'

# The oldest Agent release supported per embedded Python and the datadog-checks-base it ships (sources in
# README.md, "Supported Agents"). The base floor in pyproject.toml is the oldest of these;
# tests/test_wheel.py installs the wheel into a stand-in of each.
SUPPORTED_AGENTS = {
    (3, 12): ('7.58', '36.16.0'),
    (3, 13): ('7.72', '37.21.1'),
}

# The port deploy/agent/conf.d/mysql.d/conf.yaml names, and the one the compose file publishes MySQL on
# unless MYSQL_PUBLISHED_PORT says another (a machine whose own server holds 3306).
DEFAULT_MYSQL_PORT = 3306
MYSQL_E2E_PORT = int(os.environ.get('MYSQL_PUBLISHED_PORT') or DEFAULT_MYSQL_PORT)
# Outlives the `ddev env start` run that writes it: the Agent container mounts it until `ddev env stop`.
GENERATED_MYSQL_CONF_DIR = Path(tempfile.gettempdir()) / 'my_metric-e2e'
FLASK_DEMO_PORT = 5050
FLASK_DEMO_URL = f'http://127.0.0.1:{FLASK_DEMO_PORT}'
FLASK_DEMO_SERVICE = 'flask_demo'
# What the compose file gives the app as DD_VERSION unless FLASK_DEMO_VERSION is set.
FLASK_DEMO_VERSION = os.environ.get('FLASK_DEMO_VERSION') or 'e2e'
# The Agent's trace intake, on the host network as the Agent container is.
TRACE_INTAKE_URL = 'http://127.0.0.1:8126'
TRACE_WAIT_SECONDS = 60
# Run inside the Agent container by its embedded Python: logs in as the check's MySQL user.
MYSQL_LOGIN_PROBE = HERE / 'docker' / 'mysql_login_probe.py'
AGENT_PYTHON = '/opt/datadog-agent/embedded/bin/python3'
# ddev names the Agent container dd_<check>_<environment> (ddev/e2e/agent/docker.py, _container_name).
AGENT_CONTAINER_PREFIX = f'dd_{CHECK_NAME}_'


def compose_project() -> str:
    """The compose project of the environment: COMPOSE_PROJECT_NAME, else the check's name, as docker_run chooses."""
    return os.environ.get('COMPOSE_PROJECT_NAME') or CHECK_NAME


def agent_mysql_conf(port: int) -> dict:
    """deploy/agent/conf.d/mysql.d/conf.yaml with its instance's port set to `port`."""
    conf = yaml.safe_load(AGENT_MYSQL_CONF.read_text(encoding='utf-8'))
    for instance in conf['instances']:
        instance['port'] = port
    return conf


def agent_env_vars(datadog_yaml: dict, mysql_password: str) -> dict[str, str]:
    """Agent environment equivalent to deploy/agent/datadog.yaml, plus the MySQL password."""
    apm = datadog_yaml.get('apm_config', {})
    return {
        'DD_TAGS': ' '.join(datadog_yaml['tags']),
        'DD_ENV': datadog_yaml['env'],
        'DD_APM_ENABLED': str(apm.get('enabled', True)).lower(),
        'DD_APM_NON_LOCAL_TRAFFIC': str(apm.get('apm_non_local_traffic', False)).lower(),
        'DD_MYSQL_PASSWORD': mysql_password,
    }
