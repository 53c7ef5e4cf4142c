# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
from pathlib import Path

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

MYSQL_E2E_PORT = 3306
FLASK_DEMO_PORT = 5050
FLASK_DEMO_URL = f'http://127.0.0.1:{FLASK_DEMO_PORT}'
