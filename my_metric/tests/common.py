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

# deploy/: the files a user copies onto a host Agent, also used by the ddev e2e environment.
DEPLOY_DIR = REPO_ROOT / 'deploy'
AGENT_INSTALL_MODULE = REPO_ROOT / 'scripts' / 'agent_install.py'
AGENT_DATADOG_YAML = DEPLOY_DIR / 'agent' / 'datadog.yaml'
AGENT_MYSQL_CONF = DEPLOY_DIR / 'agent' / 'conf.d' / 'mysql.d' / 'conf.yaml'
COMPOSE_FILE = HERE / 'docker' / 'docker-compose.yaml'
# What the compose file's MySQL service mounts: the mysql-datadog-user package's init script and SQL.
MYSQL_INITDB_DIR = REPO_ROOT / 'mysql_datadog_user' / 'initdb'
MYSQL_SQL_DIR = REPO_ROOT / 'mysql_datadog_user' / 'mysql_datadog_user' / 'sql'

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
