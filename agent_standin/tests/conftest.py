import sys

import pytest
from agent_standin import build_wheel, create_agent_python, install_integration

from .common import AGENT_BASE_VERSION, make_integration


@pytest.fixture(scope='session')
def wheel(tmp_path_factory):
    project = make_integration(tmp_path_factory.mktemp('project'))
    return build_wheel(project, tmp_path_factory.mktemp('dist'))


@pytest.fixture(scope='session')
def agent_python(tmp_path_factory):
    return create_agent_python(tmp_path_factory.mktemp('agent') / 'embedded', sys.executable, AGENT_BASE_VERSION)


@pytest.fixture(scope='session')
def check_conf_dir(agent_python, wheel, tmp_path_factory):
    return install_integration(agent_python, wheel, tmp_path_factory.mktemp('etc') / 'conf.d')
