# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Benchmarks, run only by `ddev test --bench my_metric`: one check run against a bare AgentCheck."""

import pytest

from datadog_checks.base import AgentCheck
from datadog_checks.my_metric import MyMetricCheck

from .common import CHECK_NAME, METRIC_NAME


class ConstantGaugeCheck(AgentCheck):
    """The least a check can do: submit one constant gauge."""

    def check(self, _):
        self.gauge('constant', 1, tags=list(self.instance.get('tags', [])))


@pytest.mark.benchmark(group='one check run')
def test_run_bare_agent_check(benchmark, aggregator, instance):
    check = ConstantGaugeCheck('constant', {}, [instance])
    check.run()

    benchmark(check.run)

    assert aggregator.metrics('constant')


@pytest.mark.benchmark(group='one check run')
def test_run_my_metric_check(benchmark, aggregator, instance):
    check = MyMetricCheck(CHECK_NAME, {}, [instance])
    check.run()

    benchmark(check.run)

    assert aggregator.metrics(METRIC_NAME)
