# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
import copy
import os
import secrets
from types import ModuleType
from typing import Iterator

import pytest
import yaml

from datadog_checks.base.types import InstanceType

from . import common


def load_datadog_user_module() -> ModuleType:
    return common.load_repository_module('datadog_user', common.DATADOG_USER_MODULE)


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


@pytest.fixture(scope='session')
def datadog_user() -> ModuleType:
    return load_datadog_user_module()


@pytest.fixture(scope='session')
def dd_environment(datadog_user: ModuleType) -> Iterator[tuple[InstanceType, dict]]:
    from datadog_checks.dev import docker_run
    from datadog_checks.dev.conditions import CheckEndpoints, WaitFor

    # Throwaway credentials for the containers, unless the caller chose them.
    mysql_password = os.environ.get('DD_MYSQL_PASSWORD') or secrets.token_urlsafe(24)
    datadog_yaml = yaml.safe_load(common.AGENT_DATADOG_YAML.read_text(encoding='utf-8'))
    compose_env = {
        'DD_MYSQL_PASSWORD': mysql_password,
        'MYSQL_ROOT_PASSWORD': os.environ.get('MYSQL_ROOT_PASSWORD') or secrets.token_urlsafe(24),
        'FLASK_DEMO_MYSQL_PASSWORD': os.environ.get('FLASK_DEMO_MYSQL_PASSWORD') or secrets.token_urlsafe(24),
        'DD_ENV': datadog_yaml['env'],
    }
    datadog_settings = datadog_user.ConnectionSettings(
        host='127.0.0.1', port=common.MYSQL_E2E_PORT, user=datadog_user.DATADOG_USER, password=mysql_password
    )

    def mysql_accepts_datadog() -> bool:
        with datadog_user.connect(datadog_settings) as conn, conn.cursor() as cursor:
            cursor.execute('SHOW REPLICA STATUS')
        return True

    conditions = [
        WaitFor(mysql_accepts_datadog, attempts=60, wait=2),
        CheckEndpoints([f'{common.FLASK_DEMO_URL}/api/apm'], attempts=60, wait=2),
    ]
    with docker_run(str(common.COMPOSE_FILE), build=True, conditions=conditions, env_vars=compose_env):
        metadata = {
            'docker_volumes': [f'{common.AGENT_MYSQL_CONF}:/etc/datadog-agent/conf.d/mysql.d/conf.yaml:ro'],
            'env_vars': agent_env_vars(datadog_yaml, mysql_password),
        }
        yield copy.deepcopy(common.INSTANCE), metadata


@pytest.fixture
def instance() -> InstanceType:
    return copy.deepcopy(common.INSTANCE)
