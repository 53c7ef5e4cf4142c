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
