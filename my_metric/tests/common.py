# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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

# deploy/: the files a user copies onto a host Agent, also mounted into the ddev e2e Agent.
DEPLOY_DIR = REPO_ROOT / 'deploy'
DATADOG_USER_MODULE = DEPLOY_DIR / 'mysql' / 'datadog_user.py'
AGENT_DATADOG_YAML = DEPLOY_DIR / 'agent' / 'datadog.yaml'
AGENT_MYSQL_CONF = DEPLOY_DIR / 'agent' / 'conf.d' / 'mysql.d' / 'conf.yaml'
COMPOSE_FILE = HERE / 'docker' / 'docker-compose.yaml'

# The oldest Agent release supported per embedded Python and the datadog-checks-base it ships (sources in
# README.md, "Supported Agents"). The base floor in pyproject.toml is the oldest of these;
# tests/test_wheel.py installs the wheel into a stand-in of each.
SUPPORTED_AGENTS = {
    (3, 12): ('7.58', '36.16.0'),
    (3, 13): ('7.72', '37.21.1'),
}

MYSQL_E2E_PORT = 3306
FLASK_DEMO_PORT = 5050
FLASK_DEMO_URL = f'http://127.0.0.1:{FLASK_DEMO_PORT}'


def load_repository_module(name: str, path: Path) -> ModuleType:
    """Import a repository script (deploy/, scripts/) by path: they are not packages of this integration."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f'cannot load {path}')
    module = importlib.util.module_from_spec(spec)
    # Registered before executing so its dataclasses can resolve their module.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
