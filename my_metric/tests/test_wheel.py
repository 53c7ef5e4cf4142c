# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The built wheel, installed into a stand-in for the Agent's embedded Python and run as the Agent does.

The stand-in matches the Agent release this interpreter stands for (SUPPORTED_AGENTS): the
py3.12 environment proves Agent 7.58 (datadog-checks-base 36.16.0), the py3.13 one Agent 7.72 (37.21.1).
"""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import zipfile

import agent_standin
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from .common import (
    CONF_EXAMPLE,
    DEFAULT_MAX,
    DEFAULT_MIN,
    INSTANCE_TAGS,
    INTEGRATION_ROOT,
    METRIC_NAME,
    SUPPORTED_AGENTS,
)

pytestmark = pytest.mark.integration

AGENT_VERSION, AGENT_BASE_VERSION = SUPPORTED_AGENTS[sys.version_info[:2]]


def write_config(path, *instances):
    # JSON is YAML; yaml.safe_dump returns bytes once datadog-checks-base 36.x has patched the yaml module.
    path.write_text(json.dumps({'init_config': {}, 'instances': list(instances)}))


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    return agent_standin.build_wheel(INTEGRATION_ROOT, tmp_path_factory.mktemp('dist'))


@pytest.fixture(scope='module')
def wheel_metadata(wheel):
    return agent_standin.wheel_metadata(wheel)


@pytest.fixture(scope='module')
def base_requirement(wheel_metadata):
    [requirement] = [Requirement(line) for line in wheel_metadata.requirements]
    return requirement


@pytest.fixture(scope='module')
def agent_python(tmp_path_factory):
    venv_dir = tmp_path_factory.mktemp('agent') / f'embedded-{AGENT_VERSION}'
    return agent_standin.create_agent_python(venv_dir, sys.executable, AGENT_BASE_VERSION)


@pytest.fixture(scope='module')
def check_conf_dir(agent_python, wheel, tmp_path_factory):
    return agent_standin.install_integration(agent_python, wheel, tmp_path_factory.mktemp('etc') / 'conf.d')


def test_wheel_name_contents_and_dependencies(wheel, wheel_metadata, base_requirement):
    from datadog_checks.my_metric import __version__

    assert wheel.name == f'datadog_my_metric-{__version__}-py3-none-any.whl'
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert 'datadog_checks/my_metric/data/conf.yaml.example' in names
    assert 'datadog_checks/my_metric/check.py' in names
    assert not any(name.startswith('tests/') for name in names)

    assert (wheel_metadata.name, wheel_metadata.version) == ('datadog-my-metric', __version__)
    # Only the base package: the test tooling (agent-standin, pymysql) stays out of the wheel.
    assert base_requirement.name == 'datadog-checks-base'


def test_wheel_serves_agent_pythons_3_12_and_3_13(wheel_metadata):
    requires_python = SpecifierSet(wheel_metadata.requires_python)
    for python in SUPPORTED_AGENTS:
        assert Version('.'.join(map(str, python))) in requires_python


def test_base_floor_is_what_the_oldest_supported_agent_ships(base_requirement):
    # A lower floor claims Agents nothing here proves (36.0.0[deps] does not even install on Python 3.12).
    oldest = min((Version(base) for _, base in SUPPORTED_AGENTS.values()))
    assert str(base_requirement.specifier) == f'>={oldest}'


def test_readme_and_manifest_name_the_supported_agents_and_their_proof():
    readme = (INTEGRATION_ROOT / 'README.md').read_text()
    manifest = json.loads((INTEGRATION_ROOT / 'manifest.json').read_text())
    oldest_agent, oldest_base = min(SUPPORTED_AGENTS.values(), key=lambda agent: Version(agent[1]))

    assert f'Agent {oldest_agent} or later' in manifest['tile']['description']
    # datadog_checks_dev's manifest validator caps a tile description at 80 characters.
    assert len(manifest['tile']['description']) <= 80
    assert f'`datadog-checks-base>={oldest_base}`' in readme
    for (major, minor), (agent, base) in SUPPORTED_AGENTS.items():
        assert f'| {agent} ' in readme
        assert f'Python {major}.{minor} holding only `datadog-checks-base[deps]=={base}`' in readme


def test_agent_python_holds_the_base_that_agent_ships(agent_python, base_requirement):
    # The Agent installs the wheel without its dependencies, so nothing else would notice an unmet floor.
    base = agent_standin.installed_version(agent_python, 'datadog-checks-base')
    assert base == AGENT_BASE_VERSION
    assert base_requirement.specifier.contains(base), f'Agent {AGENT_VERSION} ships {base}: {base_requirement}'


def test_agent_python_matches_the_test_interpreter(agent_python):
    version = subprocess.run(
        [str(agent_python), '-c', 'import sys; print(sys.version_info[:2])'], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert version == str(sys.version_info[:2])


def test_install_copies_example_config_like_the_agent(check_conf_dir):
    assert check_conf_dir.name == 'my_metric.d'
    assert (check_conf_dir / 'conf.yaml.example').read_text() == CONF_EXAMPLE.read_text()


def test_installed_check_runs_with_the_shipped_example_config(agent_python, check_conf_dir):
    conf = check_conf_dir / 'conf.yaml'
    shutil.copy(check_conf_dir / 'conf.yaml.example', conf)

    documents = agent_standin.run_agent_check(agent_python, conf, runs=3, interval=0)

    assert [document['run'] for document in documents] == [1, 2, 3]
    for document in documents:
        assert document['errors'] == []
        [series] = document['series']
        assert series['metric'] == METRIC_NAME
        assert series['type'] == 'gauge'
        assert series['tags'] == []
        assert series['value'] == int(series['value'])
        assert DEFAULT_MIN <= series['value'] <= DEFAULT_MAX


def test_installed_check_applies_instance_bounds_and_tags(agent_python, check_conf_dir):
    conf = check_conf_dir / 'conf.yaml'
    instance = {'min_value': 7, 'max_value': 8, 'tags': INSTANCE_TAGS, 'min_collection_interval': 45}
    write_config(conf, instance)

    documents = agent_standin.run_agent_check(agent_python, conf, runs=40, interval=0)

    values = {document['series'][0]['value'] for document in documents}
    assert values == {7, 8}
    assert all(document['series'][0]['tags'] == sorted(INSTANCE_TAGS) for document in documents)


def test_installed_check_reports_bad_config_and_submits_nothing(agent_python, check_conf_dir):
    conf = check_conf_dir / 'conf.yaml'
    write_config(conf, {'min_value': 10, 'max_value': 1})

    [document] = agent_standin.run_agent_check(agent_python, conf, runs=1, interval=0)

    assert document['series'] == []
    [error] = document['errors']
    assert 'ConfigurationError' in error['traceback']
    assert '`min_value` (10) must not be greater than `max_value` (1)' in error['message']


@pytest.mark.skipif(
    'DDEV_TEST_BASE_PACKAGE_VERSION' not in os.environ,
    reason='the environment was not pinned to a base version (ddev test --compat, or DDEV_TEST_BASE_PACKAGE_VERSION)',
)
def test_test_environment_holds_the_base_ddev_pinned():
    # ddev installs the pin only when it creates the environment; a reused one would test another base.
    assert importlib.metadata.version('datadog-checks-base') == os.environ['DDEV_TEST_BASE_PACKAGE_VERSION']
