import json
import os
import re

import pytest
import yaml
from agent_standin.agent_cli import agent, intake_settings
from click.testing import CliRunner

from .common import CHECK_NAME, METRIC_NAME

# How datadog_checks.dev's dd_agent_check finds the JSON in `agent check --json` output.
DDEV_JSON_PATTERN = r'((?:\{ \[|\[).*?\n(?:\} \]|\]))'


@pytest.fixture
def confd(tmp_path, monkeypatch):
    monkeypatch.setenv('DD_CONFD_PATH', str(tmp_path / 'conf.d'))
    return tmp_path / 'conf.d'


def invoke(agent_python, *args):
    return CliRunner().invoke(agent, [str(arg) for arg in args], obj={'python': agent_python})


def configure(confd, *instances):
    check_dir = confd / f'{CHECK_NAME}.d'
    check_dir.mkdir(parents=True, exist_ok=True)
    (check_dir / 'conf.yaml').write_text(yaml.safe_dump({'init_config': {}, 'instances': list(instances)}))


def collectors(output):
    [document] = re.findall(DDEV_JSON_PATTERN, output, re.DOTALL)
    return json.loads(document)


def test_check_json_prints_one_collector_per_instance_in_the_shape_ddev_replays(agent_python, wheel, confd):
    assert invoke(agent_python, 'integration', 'install', '-r', '-w', wheel).exit_code == 0
    configure(confd, {'value': 5, 'tags': ['b:2', 'a:1']}, {'value': 6})

    result = invoke(agent_python, 'check', CHECK_NAME, '--json', '--check-rate')

    assert result.exit_code == 0, result.output
    first, second = collectors(result.output)
    for collector, value, tags in ((first, 5, ['a:1', 'b:2']), (second, 6, [])):
        assert collector['runner']['CheckName'] == CHECK_NAME
        assert collector['runner']['CheckID'].startswith(f'{CHECK_NAME}:')
        assert (collector['runner']['TotalRuns'], collector['runner']['LastError']) == (2, '')
        # Two runs fill one aggregator: the gauge's context holds one point, the last value.
        [metric] = [metric for metric in collector['aggregator']['metrics'] if metric['metric'] == METRIC_NAME]
        assert (metric['type'], metric['tags'], [point[1] for point in metric['points']]) == ('gauge', tags, [value])
        assert metric['host']
    assert first['runner']['CheckID'] != second['runner']['CheckID']


def test_check_times_sets_the_number_of_runs(agent_python, wheel, confd):
    invoke(agent_python, 'integration', 'install', '-r', '-w', wheel)
    configure(confd, {'value': 2})

    result = invoke(agent_python, 'check', CHECK_NAME, '--json', '--check-times', 3)

    assert result.exit_code == 0, result.output
    [collector] = collectors(result.output)
    assert collector['runner']['TotalRuns'] == 3


def test_check_errors_are_in_the_json_and_the_exit_code(agent_python, wheel, confd):
    invoke(agent_python, 'integration', 'install', '-r', '-w', wheel)
    configure(confd, {'fail': True})

    result = invoke(agent_python, 'check', CHECK_NAME, '--json')

    assert result.exit_code == 1
    [collector] = collectors(result.output)
    assert '`fail` is set' in json.loads(collector['runner']['LastError'])[0]['message']
    assert collector['runner']['TotalErrors'] == 1


def test_check_without_a_config_names_the_directory_it_read(agent_python, wheel, confd):
    invoke(agent_python, 'integration', 'install', '-r', '-w', wheel)  # only conf.yaml.example

    result = invoke(agent_python, 'check', CHECK_NAME)

    assert result.exit_code == 1
    assert str(confd / f'{CHECK_NAME}.d') in result.output


def test_integration_install_copies_the_example_and_refuses_root_without_r(agent_python, wheel, confd, monkeypatch):
    monkeypatch.setattr(os, 'geteuid', lambda: 0)
    refused = invoke(agent_python, 'integration', 'install', '-w', wheel)
    assert refused.exit_code == 1
    assert '-r' in refused.output
    assert not (confd / f'{CHECK_NAME}.d').exists()

    installed = invoke(agent_python, 'integration', 'install', '-r', '-w', wheel)

    assert installed.exit_code == 0, installed.output
    assert (confd / f'{CHECK_NAME}.d' / 'conf.yaml.example').is_file()


def test_status_lists_configured_checks_and_the_intake_state(agent_python, wheel, confd, monkeypatch):
    invoke(agent_python, 'integration', 'install', '-r', '-w', wheel)
    configure(confd, {'value': 1})
    monkeypatch.setenv('DD_APM_ENABLED', 'false')

    result = invoke(agent_python, 'status')

    assert result.exit_code == 0, result.output
    assert f'{CHECK_NAME}: conf.yaml' in result.output
    assert 'APM: disabled' in result.output


@pytest.mark.parametrize(
    ('env', 'expected'),
    [
        ({}, (True, '127.0.0.1', 8126)),
        ({'DD_APM_NON_LOCAL_TRAFFIC': 'true', 'DD_APM_RECEIVER_PORT': '9126'}, (True, '0.0.0.0', 9126)),
        ({'DD_APM_ENABLED': 'false'}, (False, '127.0.0.1', 8126)),
    ],
)
def test_the_trace_intake_follows_the_agents_apm_variables(monkeypatch, env, expected):
    for name in ('DD_APM_ENABLED', 'DD_APM_NON_LOCAL_TRAFFIC', 'DD_APM_RECEIVER_PORT'):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert intake_settings() == expected
