# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""End-to-end: the check inside a real Agent container started by `ddev env start` (needs Docker).

`ddev test` collects this file but `dd_agent_check` skips it ("Not running E2E tests");
`ddev env test my_metric py3.13` runs it against the environment from conftest.dd_environment.
"""

from typing import Any

import pytest

from datadog_checks.base.types import InstanceType
from datadog_checks.dev.utils import get_metadata_metrics

from . import common

pytestmark = pytest.mark.e2e


def test_agent_submits_my_metric_as_a_bounded_gauge(dd_agent_check: Any, instance: InstanceType) -> None:
    aggregator = dd_agent_check(instance, rate=True)

    aggregator.assert_metric(common.METRIC_NAME, metric_type=aggregator.GAUGE, at_least=1)
    for tag in common.INSTANCE_TAGS:
        aggregator.assert_metric_has_tag(common.METRIC_NAME, tag)
    values = [point.value for point in aggregator.metrics(common.METRIC_NAME)]
    assert values and all(common.DEFAULT_MIN <= value <= common.DEFAULT_MAX for value in values), values

    aggregator.assert_all_metrics_covered()
    aggregator.assert_metrics_using_metadata(get_metadata_metrics())
