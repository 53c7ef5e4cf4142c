# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""End-to-end: the check inside a real Agent container started by `ddev env start` (needs Docker).

`ddev test` collects this file but `dd_agent_check` skips it ("Not running E2E tests");
`ddev env test my_metric py3.13` runs it against the environment from conftest.dd_environment.
The files that environment is built from (the compose file and the deploy/agent files the Agent
container gets) are checked here without Docker, so they run in `ddev test` too.
"""

from typing import Any

import pytest
import yaml

from datadog_checks.base.types import InstanceType
from datadog_checks.dev.utils import get_metadata_metrics

from . import common

pytestmark = pytest.mark.e2e


def test_agent_submits_my_metric_as_a_bounded_gauge(dd_agent_check: Any, instance: InstanceType) -> None:
    aggregator = dd_agent_check(instance, rate=True)

    aggregator.assert_metric(common.METRIC_NAME, metric_type=aggregator.GAUGE, at_least=1)
    for tag in common.INSTANCE_TAGS:
        aggregator.assert_metric_has_tag(common.METRIC_NAME, tag)
    values = [point.value for point in aggregator.metrics(common.METRIC_NAME)]
    assert values and all(common.DEFAULT_MIN <= value <= common.DEFAULT_MAX for value in values), values

    aggregator.assert_all_metrics_covered()
    aggregator.assert_metrics_using_metadata(get_metadata_metrics())


def test_agent_files_keep_secrets_out_and_carry_the_challenge_host_tags() -> None:
    mysql_conf = yaml.safe_load(common.AGENT_MYSQL_CONF.read_text(encoding='utf-8'))
    [mysql_instance] = mysql_conf['instances']
    # The user the compose MySQL's init script creates (DD_MYSQL_USER unset: its default, datadog).
    assert mysql_instance['username'] == 'datadog'
    assert mysql_instance['password'] == '%%env_DD_MYSQL_PASSWORD%%'
    assert (mysql_instance['host'], mysql_instance['port']) == ('127.0.0.1', common.MYSQL_E2E_PORT)

    agent = yaml.safe_load(common.AGENT_DATADOG_YAML.read_text(encoding='utf-8'))
    assert sorted(tag.split(':', 1)[0] for tag in agent['tags']) == ['env', 'machine_name', 'region', 'role']
    assert f"env:{agent['env']}" in agent['tags']
    assert agent['apm_config'] == {'enabled': True, 'apm_non_local_traffic': True}

    env = common.agent_env_vars(agent, 'secret')
    assert env['DD_TAGS'].split() == agent['tags']
    assert (env['DD_APM_ENABLED'], env['DD_APM_NON_LOCAL_TRAFFIC'], env['DD_MYSQL_PASSWORD']) == (
        'true',
        'true',
        'secret',
    )


def test_compose_mounts_the_mysql_user_package_and_takes_secrets_from_the_environment() -> None:
    compose = yaml.safe_load(common.COMPOSE_FILE.read_text(encoding='utf-8'))
    mysql = compose['services']['mysql']
    assert mysql['image'] == 'mysql:8.4'
    assert mysql['ports'] == [f'127.0.0.1:{common.MYSQL_E2E_PORT}:3306']
    assert 'DD_MYSQL_USER' not in mysql['environment']
    mounts = {
        volume.split(':')[1]: (common.COMPOSE_FILE.parent / volume.split(':')[0]).resolve()
        for volume in mysql['volumes']
    }
    assert mounts['/docker-entrypoint-initdb.d'] == common.MYSQL_INITDB_DIR
    assert mounts['/datadog-sql'] == common.MYSQL_SQL_DIR
    # The init script reads /datadog-sql/datadog_user.sql: both sides of the mount exist.
    assert (common.MYSQL_INITDB_DIR / '10-datadog-user.sh').is_file()
    init_script = (common.MYSQL_INITDB_DIR / '10-datadog-user.sh').read_text(encoding='utf-8')
    assert 'cat /datadog-sql/datadog_user.sql' in init_script
    assert (common.MYSQL_SQL_DIR / 'datadog_user.sql').is_file()
    for service in compose['services'].values():
        for name, value in service.get('environment', {}).items():
            if 'PASSWORD' in name:
                assert str(value).startswith('${') and str(value).endswith(':-}'), name
