# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The built wheel, installed into a stand-in for the Agent's embedded Python and run as the Agent does."""

import shutil
import sys
import zipfile

import pytest
import yaml

from . import common

pytestmark = pytest.mark.integration


agent_install = common.load_repository_module('agent_install', common.AGENT_INSTALL_MODULE)


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    return agent_install.build_wheel(tmp_path_factory.mktemp('dist'))


@pytest.fixture(scope='module')
def agent_python(tmp_path_factory):
    return agent_install.create_agent_python(tmp_path_factory.mktemp('agent') / 'embedded')


@pytest.fixture(scope='module')
def check_conf_dir(agent_python, wheel, tmp_path_factory):
    return agent_install.install_integration(agent_python, wheel, tmp_path_factory.mktemp('etc') / 'conf.d')


def test_wheel_name_contents_and_dependencies(wheel):
    from datadog_checks.my_metric import __version__

    assert wheel.name == f'datadog_my_metric-{__version__}-py3-none-any.whl'
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert 'datadog_checks/my_metric/data/conf.yaml.example' in names
    assert 'datadog_checks/my_metric/check.py' in names
    assert not any(name.startswith('tests/') for name in names)

    name, version, requires_python, requirements = agent_install.wheel_metadata(wheel)
    assert (name, version) == ('datadog-my-metric', __version__)
    assert [requirement.split('>=')[0] for requirement in requirements] == ['datadog-checks-base']


def test_wheel_serves_agent_pythons_3_12_and_3_13(wheel):
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    _, _, requires_python, requirements = agent_install.wheel_metadata(wheel)
    assert Version('3.12.0') in SpecifierSet(requires_python)
    assert Version('3.13.0') in SpecifierSet(requires_python)
    # The wheel must install into Agent 7.58; 37.0.0 is the ceiling assumed for its base (not looked up here).
    [base_floor] = [requirement.split('>=')[1] for requirement in requirements]
    assert Version(base_floor) <= Version('37.0.0')


def test_install_copies_example_config_like_the_agent(check_conf_dir):
    assert check_conf_dir.name == 'my_metric.d'
    assert (check_conf_dir / 'conf.yaml.example').read_text() == common.CONF_EXAMPLE.read_text()


def test_installed_check_runs_with_the_shipped_example_config(agent_python, check_conf_dir):
    conf = check_conf_dir / 'conf.yaml'
    shutil.copy(check_conf_dir / 'conf.yaml.example', conf)

    documents = agent_install.run_agent_check(agent_python, conf, runs=3, interval=0)

    assert [document['run'] for document in documents] == [1, 2, 3]
    for document in documents:
        assert document['errors'] == []
        [series] = document['series']
        assert series['metric'] == common.METRIC_NAME
        assert series['type'] == 'gauge'
        assert series['tags'] == []
        assert series['value'] == int(series['value'])
        assert common.DEFAULT_MIN <= series['value'] <= common.DEFAULT_MAX


def test_installed_check_applies_instance_bounds_and_tags(agent_python, check_conf_dir):
    conf = check_conf_dir / 'conf.yaml'
    instance = {'min_value': 7, 'max_value': 8, 'tags': common.INSTANCE_TAGS, 'min_collection_interval': 45}
    conf.write_text(yaml.safe_dump({'init_config': {}, 'instances': [instance]}))

    documents = agent_install.run_agent_check(agent_python, conf, runs=40, interval=0)

    values = {document['series'][0]['value'] for document in documents}
    assert values == {7, 8}
    assert all(document['series'][0]['tags'] == sorted(common.INSTANCE_TAGS) for document in documents)


def test_installed_check_reports_bad_config_and_submits_nothing(agent_python, check_conf_dir):
    conf = check_conf_dir / 'conf.yaml'
    conf.write_text(yaml.safe_dump({'init_config': {}, 'instances': [{'min_value': 10, 'max_value': 1}]}))

    [document] = agent_install.run_agent_check(agent_python, conf, runs=1, interval=0)

    assert document['series'] == []
    [error] = document['errors']
    assert 'ConfigurationError' in error['traceback']
    assert '`min_value` (10) must not be greater than `max_value` (1)' in error['message']


def test_agent_python_matches_the_test_interpreter(agent_python):
    import subprocess

    version = subprocess.run(
        [str(agent_python), '-c', 'import sys; print(sys.version_info[:2])'], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert version == str(sys.version_info[:2])
