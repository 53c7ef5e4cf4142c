# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
import copy
import os
import secrets
from typing import Iterator

import pytest
import yaml

from datadog_checks.base.types import InstanceType

from . import common


@pytest.fixture(scope='session')
def dd_environment() -> Iterator[tuple[InstanceType, dict]]:
    from datadog_checks.dev import docker_run
    from datadog_checks.dev.conditions import CheckEndpoints

    # Throwaway credentials for the containers, unless the caller chose them.
    mysql_password = os.environ.get('DD_MYSQL_PASSWORD') or secrets.token_urlsafe(24)
    datadog_yaml = yaml.safe_load(common.AGENT_DATADOG_YAML.read_text(encoding='utf-8'))
    compose_env = {
        'DD_MYSQL_PASSWORD': mysql_password,
        'MYSQL_ROOT_PASSWORD': os.environ.get('MYSQL_ROOT_PASSWORD') or secrets.token_urlsafe(24),
        'FLASK_DEMO_MYSQL_PASSWORD': os.environ.get('FLASK_DEMO_MYSQL_PASSWORD') or secrets.token_urlsafe(24),
        'DD_ENV': datadog_yaml['env'],
    }
    # The app starts only once MySQL is healthy (depends_on: service_healthy), and MySQL's healthcheck
    # logs in as the datadog user: the app answering means the Agent's MySQL check can log in too.
    conditions = [CheckEndpoints([f'{common.FLASK_DEMO_URL}/api/apm'], attempts=60, wait=2)]
    with docker_run(str(common.COMPOSE_FILE), build=True, conditions=conditions, env_vars=compose_env):
        metadata = {
            'docker_volumes': [f'{common.AGENT_MYSQL_CONF}:/etc/datadog-agent/conf.d/mysql.d/conf.yaml:ro'],
            'env_vars': common.agent_env_vars(datadog_yaml, mysql_password),
        }
        yield copy.deepcopy(common.INSTANCE), metadata


@pytest.fixture
def instance() -> InstanceType:
    return copy.deepcopy(common.INSTANCE)
