# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
import copy
import os
import secrets
import subprocess
from typing import Any, Iterator

import pytest
import yaml

from datadog_checks.base.types import InstanceType

from .common import (
    AGENT_CONTAINER_PREFIX,
    AGENT_DATADOG_YAML,
    AGENT_MYSQL_CONF,
    COMPOSE_FILE,
    DEFAULT_MYSQL_PORT,
    FLASK_DEMO_URL,
    GENERATED_MYSQL_CONF_DIR,
    INSTANCE,
    MYSQL_E2E_PORT,
    TRACE_INTAKE_URL,
    agent_env_vars,
    agent_mysql_conf,
)


@pytest.fixture(scope='session')
def dd_environment() -> Iterator[tuple[InstanceType, dict]]:
    from datadog_checks.dev import docker_run
    from datadog_checks.dev.conditions import CheckEndpoints

    # Throwaway credentials for the containers, unless the caller chose them.
    mysql_password = os.environ.get('DD_MYSQL_PASSWORD') or secrets.token_urlsafe(24)
    datadog_yaml = yaml.safe_load(AGENT_DATADOG_YAML.read_text(encoding='utf-8'))
    compose_env = {
        'DD_MYSQL_PASSWORD': mysql_password,
        'MYSQL_ROOT_PASSWORD': os.environ.get('MYSQL_ROOT_PASSWORD') or secrets.token_urlsafe(24),
        'FLASK_DEMO_MYSQL_PASSWORD': os.environ.get('FLASK_DEMO_MYSQL_PASSWORD') or secrets.token_urlsafe(24),
        'DD_ENV': datadog_yaml['env'],
        'MYSQL_PUBLISHED_PORT': str(MYSQL_E2E_PORT),
    }
    # The app starts only once MySQL is healthy (depends_on: service_healthy), and MySQL's healthcheck
    # logs in as the datadog user: the app answering means the Agent's MySQL check can log in too.
    conditions = [CheckEndpoints([f'{FLASK_DEMO_URL}/api/apm'], attempts=60, wait=2)]
    with docker_run(str(COMPOSE_FILE), build=True, conditions=conditions, env_vars=compose_env):
        metadata = {
            'docker_volumes': [f'{agent_mysql_conf_file()}:/etc/datadog-agent/conf.d/mysql.d/conf.yaml:ro'],
            'env_vars': agent_env_vars(datadog_yaml, mysql_password),
        }
        yield copy.deepcopy(INSTANCE), metadata


def agent_mysql_conf_file():
    """deploy/agent's mysql.d config itself, or a copy naming the published port when that is not 3306."""
    if MYSQL_E2E_PORT == DEFAULT_MYSQL_PORT:
        return AGENT_MYSQL_CONF
    path = GENERATED_MYSQL_CONF_DIR / f'mysql-{MYSQL_E2E_PORT}.yaml'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(agent_mysql_conf(MYSQL_E2E_PORT)), encoding='utf-8')
    return path


@pytest.fixture
def instance() -> InstanceType:
    return copy.deepcopy(INSTANCE)


@pytest.fixture
def agent_container(dd_agent_check: Any) -> str:
    """The name of the environment's running Agent container (e2e only: dd_agent_check skips otherwise)."""
    name = AGENT_CONTAINER_PREFIX + os.environ['HATCH_ENV_ACTIVE']
    state = subprocess.run(
        ['docker', 'inspect', '--format', '{{.State.Running}}', name], capture_output=True, text=True, check=False
    )
    assert state.stdout.strip() == 'true', f'Agent container {name} is not running: {state.stderr.strip()}'
    return name


@pytest.fixture
def agent_image(agent_container: str) -> str:
    """The image the environment's Agent container runs (`ddev env start --agent`)."""
    return subprocess.run(
        ['docker', 'inspect', '--format', '{{.Config.Image}}', agent_container],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def trace_intake_url(agent_container: str) -> str:
    """The Agent container's trace intake, on the host network as the container is."""
    return TRACE_INTAKE_URL
