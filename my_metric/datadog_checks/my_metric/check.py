# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
import random

from datadog_checks.base import AgentCheck

from .config_models import ConfigMixin


class MyMetricCheck(AgentCheck, ConfigMixin):
    """Submits the gauge `my_metric`: a uniformly random integer in [min_value, max_value]."""

    def check(self, _):
        # self.config is validated at the first run (see config_models/validators.py), so the bounds
        # are integers with min_value <= max_value and randint includes both ends.
        value = random.randint(self.config.min_value, self.config.max_value)
        self.gauge('my_metric', value, tags=list(self.config.tags or ()))
