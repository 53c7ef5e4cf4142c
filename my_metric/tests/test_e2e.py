# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""End-to-end: the check inside a real Agent container started by `ddev env start` (needs Docker).

`ddev test` collects this file but the tests that need the environment skip ("Not running E2E tests",
from dd_agent_check, on which conftest's agent_container depends); `ddev env test my_metric py3.13`
(or scripts/env-e2e) runs it against the environment from conftest.dd_environment.
The files that environment is built from (the compose file and the deploy/agent files the Agent
container gets) are checked here without Docker, so they run in `ddev test` too.
"""

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from datadog_checks.base.types import InstanceType
from datadog_checks.dev.utils import get_metadata_metrics

from .common import (
    AGENT_DATADOG_YAML,
    AGENT_MYSQL_CONF,
    AGENT_PYTHON,
    CHECK_NAME,
    COMPOSE_FILE,
    DEFAULT_MAX,
    DEFAULT_MIN,
    DEFAULT_MYSQL_PORT,
    DEPLOY_DIR,
    FLASK_DEMO_SERVICE,
    FLASK_DEMO_VERSION,
    INSTANCE,
    INSTANCE_TAGS,
    INTEGRATION_ROOT,
    METRIC_NAME,
    MYSQL_INITDB_DIR,
    MYSQL_LOGIN_PROBE,
    MYSQL_SQL_DIR,
    TRACE_WAIT_SECONDS,
    agent_env_vars,
    agent_mysql_conf,
    compose_project,
)

pytestmark = pytest.mark.e2e


def test_agent_submits_my_metric_as_a_bounded_gauge(dd_agent_check: Any, instance: InstanceType) -> None:
    aggregator = dd_agent_check(instance, rate=True)

    aggregator.assert_metric(METRIC_NAME, metric_type=aggregator.GAUGE, at_least=1)
    for tag in INSTANCE_TAGS:
        aggregator.assert_metric_has_tag(METRIC_NAME, tag)
    values = [point.value for point in aggregator.metrics(METRIC_NAME)]
    assert values and all(DEFAULT_MIN <= value <= DEFAULT_MAX for value in values), values

    aggregator.assert_all_metrics_covered()
    aggregator.assert_metrics_using_metadata(get_metadata_metrics())


def compose_containers(service: str) -> list[str]:
    """IDs of the environment's containers of a compose service (the project docker_run started)."""
    listed = subprocess.run(
        ['docker', 'ps', '-q', '--filter', f'label=com.docker.compose.project={compose_project()}',
         '--filter', f'label=com.docker.compose.service={service}'],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return listed.stdout.split()


def flask_demo_traces(intake_url: str) -> list[list[dict]]:
    """Every trace of the app the Agent's intake has received (ddapm-test-agent's /test/traces)."""
    try:
        with urllib.request.urlopen(f'{intake_url}/test/traces', timeout=5) as response:
            traces = json.load(response)
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
        # A real Agent's trace-agent forwards traces to Datadog and keeps none to read back here.
        pytest.skip(f'the trace intake at {intake_url} is not ddapm-test-agent: look for the trace in Datadog APM')
    return [trace for trace in traces if any(span.get('service') == FLASK_DEMO_SERVICE for span in trace)]


def test_a_flask_demo_trace_reaches_the_agent_with_service_env_version_and_the_database_span(
    trace_intake_url: str,
) -> None:
    expected_env = yaml.safe_load(AGENT_DATADOG_YAML.read_text(encoding='utf-8'))['env']
    deadline, traces = time.monotonic() + TRACE_WAIT_SECONDS, []
    # The traffic container calls /api/db every second; the tracer flushes every second.
    while time.monotonic() < deadline:
        traces = flask_demo_traces(trace_intake_url)
        if any(span.get('type') == 'sql' for trace in traces for span in trace):
            break
        time.sleep(1)
    database_traces = [trace for trace in traces if any(span.get('type') == 'sql' for span in trace)]
    assert database_traces, (
        f'no trace with a database span from {FLASK_DEMO_SERVICE} reached {trace_intake_url} '
        f'within {TRACE_WAIT_SECONDS} s ({len(traces)} traces of the service)'
    )
    trace = database_traces[0]
    [root] = [span for span in trace if not span.get('parent_id')]
    assert (root['service'], root['name'], root['resource']) == (
        FLASK_DEMO_SERVICE,
        'flask.request',
        'GET /api/db',
    )
    assert (root['meta']['env'], root['meta']['version']) == (expected_env, FLASK_DEMO_VERSION)
    queries = [span for span in trace if span['name'] == 'pymysql.query']
    assert queries, [span['name'] for span in trace]
    # The app's queries went to the compose file's MySQL service, as its own user.
    for query in queries:
        assert (query['type'], query['meta']['db.system']) == ('sql', 'mysql'), query
        assert (query['meta']['out.host'], query['meta']['db.user']) == ('mysql', 'flask_demo'), query


def test_the_datadog_user_logs_in_from_the_agent_reads_status_and_replica_status_and_may_not_write(
    agent_container: str,
) -> None:
    probe = subprocess.run(
        ['docker', 'exec', '-i', agent_container, AGENT_PYTHON, '-'],
        input=MYSQL_LOGIN_PROBE.read_text(encoding='utf-8'),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout)
    assert result['user'] == 'datadog@%'
    assert int(result['status']['Uptime']) > 0
    assert int(result['status']['Threads_connected']) >= 1
    assert result['replica_status'] == 'readable'
    # 1044: access denied to the database (ER_DBACCESS_DENIED_ERROR).
    assert result['write_refused'] == 1044


def test_the_deploy_agent_image_builds_on_the_environments_agent_and_runs_my_metric(
    agent_image: str, tmp_path: Path
) -> None:
    from agent_standin import build_wheel, wheel_metadata

    context = tmp_path / 'context'
    wheel = build_wheel(INTEGRATION_ROOT, context / 'my_metric' / 'dist')
    dockerfile = DEPLOY_DIR / 'agent-image' / 'Dockerfile'
    repository, _, tag = agent_image.rpartition(':')
    image = f'my-metric-e2e/agent-my-metric:{tmp_path.name.lower()}'
    conf_d = tmp_path / 'my_metric.d'
    conf_d.mkdir()
    (conf_d / 'conf.yaml').write_text(yaml.safe_dump({'init_config': {}, 'instances': [INSTANCE]}))
    build = [
        'docker', 'build', '--quiet', '-f', str(dockerfile), '-t', image,
        '--build-arg', f'AGENT_IMAGE={repository}', '--build-arg', f'AGENT_TAG={tag}',
        '--build-arg', f'MY_METRIC_VERSION={wheel_metadata(wheel).version}', str(context),
    ]  # fmt: skip
    try:
        built = subprocess.run(build, capture_output=True, text=True, timeout=300, check=False)
        assert built.returncode == 0, built.stderr
        checked = subprocess.run(
            ['docker', 'run', '--rm', '--network', 'none', '-v', f'{conf_d / "conf.yaml"}:/etc/datadog-agent/conf.d/'
             f'{CHECK_NAME}.d/conf.yaml:ro', image, 'agent', 'check', CHECK_NAME, '--json'],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        subprocess.run(['docker', 'rmi', '--force', image], capture_output=True, check=False)
        shutil.rmtree(context, ignore_errors=True)
    [collector] = json.loads(checked.stdout[checked.stdout.index('[') :])
    [metric] = [metric for metric in collector['aggregator']['metrics'] if metric['metric'] == METRIC_NAME]
    assert sorted(metric['tags']) == sorted(INSTANCE_TAGS)
    assert DEFAULT_MIN <= metric['points'][0][1] <= DEFAULT_MAX


def test_the_traffic_container_stops_at_once_on_sigterm(agent_container: str) -> None:
    # Last of the environment's tests: it stops the traffic generator. `docker stop` sends SIGTERM, then
    # SIGKILL after its timeout; a clean exit (0, not 137) means traffic.sh ended on the SIGTERM itself.
    [container] = compose_containers('traffic')
    stopped = subprocess.run(['docker', 'stop', '--time', '20', container], capture_output=True, text=True, check=False)
    assert stopped.returncode == 0, stopped.stderr
    state = subprocess.run(
        ['docker', 'inspect', '--format', '{{.State.ExitCode}}', container], capture_output=True, text=True, check=True
    )
    assert state.stdout.strip() == '0'


def test_agent_files_keep_secrets_out_and_carry_the_challenge_host_tags() -> None:
    mysql_conf = yaml.safe_load(AGENT_MYSQL_CONF.read_text(encoding='utf-8'))
    [mysql_instance] = mysql_conf['instances']
    # The user the compose MySQL's init script creates (DD_MYSQL_USER unset: its default, datadog).
    assert mysql_instance['username'] == 'datadog'
    assert mysql_instance['password'] == '%%env_DD_MYSQL_PASSWORD%%'
    assert (mysql_instance['host'], mysql_instance['port']) == ('127.0.0.1', DEFAULT_MYSQL_PORT)
    # The environment's Agent gets the same config with the port the compose file publishes MySQL on.
    moved = agent_mysql_conf(13306)
    assert moved['instances'][0].pop('port') == 13306
    mysql_instance.pop('port')
    assert moved == {**mysql_conf, 'instances': [mysql_instance]}

    agent = yaml.safe_load(AGENT_DATADOG_YAML.read_text(encoding='utf-8'))
    assert sorted(tag.split(':', 1)[0] for tag in agent['tags']) == ['env', 'machine_name', 'region', 'role']
    assert f"env:{agent['env']}" in agent['tags']
    assert agent['apm_config'] == {'enabled': True, 'apm_non_local_traffic': True}

    env = agent_env_vars(agent, 'secret')
    assert env['DD_TAGS'].split() == agent['tags']
    assert (env['DD_APM_ENABLED'], env['DD_APM_NON_LOCAL_TRAFFIC'], env['DD_MYSQL_PASSWORD']) == (
        'true',
        'true',
        'secret',
    )


def test_compose_mounts_the_mysql_user_package_and_takes_secrets_from_the_environment() -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding='utf-8'))
    mysql = compose['services']['mysql']
    # The official images by default; other images (the stand-ins) only through variables.
    assert mysql['image'] == '${MYSQL_IMAGE:-mysql:8.4}'
    assert compose['services']['traffic']['image'] == '${CURL_IMAGE:-curlimages/curl:8.11.1}'
    assert compose['services']['flask_demo']['build']['args'] == {'PYTHON_IMAGE': '${PYTHON_IMAGE:-python:3.13-slim}'}
    assert mysql['ports'] == [f'127.0.0.1:${{MYSQL_PUBLISHED_PORT:-{DEFAULT_MYSQL_PORT}}}:3306']
    assert 'DD_MYSQL_USER' not in mysql['environment']
    mounts = {
        volume.split(':')[1]: (COMPOSE_FILE.parent / volume.split(':')[0]).resolve() for volume in mysql['volumes']
    }
    assert mounts['/docker-entrypoint-initdb.d'] == MYSQL_INITDB_DIR
    assert mounts['/datadog-sql'] == MYSQL_SQL_DIR
    # The init script reads /datadog-sql/datadog_user.sql: both sides of the mount exist.
    assert (MYSQL_INITDB_DIR / '10-datadog-user.sh').is_file()
    init_script = (MYSQL_INITDB_DIR / '10-datadog-user.sh').read_text(encoding='utf-8')
    assert 'cat /datadog-sql/datadog_user.sql' in init_script
    assert (MYSQL_SQL_DIR / 'datadog_user.sql').is_file()
    for service in compose['services'].values():
        for name, value in service.get('environment', {}).items():
            if 'PASSWORD' in name:
                assert str(value).startswith('${') and str(value).endswith(':-}'), name
