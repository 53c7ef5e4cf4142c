# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
import json

import pytest
import yaml

from datadog_checks.base import ConfigurationError
from datadog_checks.dev.utils import get_metadata_metrics
from datadog_checks.my_metric import MyMetricCheck

from .common import CHECK_NAME, CONF_EXAMPLE, DEFAULT_MAX, DEFAULT_MIN, INSTANCE_TAGS, METRIC_NAME

pytestmark = pytest.mark.unit


def submitted_values(aggregator):
    return [point.value for point in aggregator.metrics(METRIC_NAME)]


def test_check_submits_one_gauge_with_instance_tags(dd_run_check, aggregator, instance):
    check = MyMetricCheck(CHECK_NAME, {}, [instance])
    dd_run_check(check)

    aggregator.assert_metric(METRIC_NAME, metric_type=aggregator.GAUGE, count=1, tags=INSTANCE_TAGS)
    [value] = submitted_values(aggregator)
    assert DEFAULT_MIN <= value <= DEFAULT_MAX
    assert value == int(value)
    aggregator.assert_metrics_using_metadata(get_metadata_metrics())
    aggregator.assert_all_metrics_covered()


def test_check_without_tags_submits_untagged_gauge(dd_run_check, aggregator):
    dd_run_check(MyMetricCheck(CHECK_NAME, {}, [{}]))

    aggregator.assert_metric(METRIC_NAME, count=1, tags=[])
    aggregator.assert_all_metrics_covered()


def test_default_range_is_uniform_over_0_to_1000_with_both_ends_reached(dd_run_check, aggregator, instance):
    # 30,000 draws from 1001 values: each end is missed with probability (1000/1001)**30000 < 1e-13.
    check = MyMetricCheck(CHECK_NAME, {}, [instance])
    dd_run_check(check)
    for _ in range(30000 - 1):
        check.check(instance)

    values = submitted_values(aggregator)
    assert len(values) == 30000
    assert min(values) == DEFAULT_MIN
    assert max(values) == DEFAULT_MAX
    assert all(value == int(value) for value in values)
    # Uniform mean is 500 with a standard error of about 1.7 here; 20 is over 10 standard errors.
    assert abs(sum(values) / len(values) - 500) < 20


@pytest.mark.parametrize(
    'min_value, max_value',
    [
        pytest.param(5, 7, id='small range'),
        pytest.param(-3, 3, id='negative lower bound'),
        pytest.param(42, 42, id='equal bounds'),
        pytest.param(990, 1000000, id='upper bound above the default'),
    ],
)
def test_min_and_max_overrides_bound_every_value(dd_run_check, aggregator, min_value, max_value):
    instance = {'min_value': min_value, 'max_value': max_value, 'tags': INSTANCE_TAGS}
    check = MyMetricCheck(CHECK_NAME, {}, [instance])
    dd_run_check(check)
    for _ in range(500):
        check.check(instance)

    values = submitted_values(aggregator)
    assert len(values) == 501
    assert all(min_value <= value <= max_value for value in values)
    if max_value - min_value < 10:
        assert {min_value, max_value} <= set(values)


def test_conf_yaml_example_runs_as_shipped(dd_run_check, aggregator):
    conf = yaml.safe_load(CONF_EXAMPLE.read_text())
    [instance] = conf['instances']
    assert instance == {'min_collection_interval': 45}

    check = MyMetricCheck(CHECK_NAME, conf['init_config'] or {}, [instance])
    dd_run_check(check)

    assert check.config.min_collection_interval == 45
    aggregator.assert_metric(METRIC_NAME, count=1, tags=[])
    aggregator.assert_metrics_using_metadata(get_metadata_metrics())


# Each row: the instance, then the sentence the validator writes (the field, the value received, what is
# allowed). Pydantic prefixes it with the model and the field name, so the sentence itself is asserted.
BAD_CONFIGURATIONS = [
    pytest.param(
        {'min_value': 900, 'max_value': 100},
        '`min_value` (900) must not be greater than `max_value` (100); lower `min_value` or raise `max_value`',
        id='min>max',
    ),
    pytest.param(
        {'min_value': 2000},
        '`min_value` (2000) must not be greater than `max_value` (1000); lower `min_value` or raise `max_value`',
        id='min above default max',
    ),
    pytest.param(
        {'max_value': -1},
        '`min_value` (0) must not be greater than `max_value` (-1); lower `min_value` or raise `max_value`',
        id='max below default min',
    ),
    pytest.param({'min_value': 1.5}, '`min_value` must be a whole number such as 0, got 1.5 (float)', id='float min'),
    pytest.param(
        {'max_value': 999.0},
        '`max_value` must be a whole number such as 1000, got 999.0 (float)',
        id='integral float max',
    ),
    pytest.param({'min_value': '10'}, "`min_value` must be a whole number such as 0, got '10' (str)", id='string min'),
    pytest.param(
        {'max_value': 'a lot'}, "`max_value` must be a whole number such as 1000, got 'a lot' (str)", id='string max'
    ),
    pytest.param(
        {'min_value': None}, '`min_value` must be a whole number such as 0, got None (NoneType)', id='null min'
    ),
    pytest.param(
        {'max_value': None}, '`max_value` must be a whole number such as 1000, got None (NoneType)', id='null max'
    ),
    pytest.param(
        {'max_value': True}, '`max_value` must be a whole number such as 1000, got True (bool)', id='bool max'
    ),
    pytest.param(
        {'min_collection_interval': 0},
        '`min_collection_interval` must be a number of seconds greater than 0 such as 45, got 0 (int)',
        id='zero',
    ),
    pytest.param(
        {'min_collection_interval': -45},
        '`min_collection_interval` must be a number of seconds greater than 0 such as 45, got -45 (int)',
        id='neg',
    ),
    pytest.param(
        {'min_collection_interval': '45s'},
        "`min_collection_interval` must be a number of seconds greater than 0 such as 45, got '45s' (str)",
        id='unit',
    ),
    pytest.param(
        {'min_collection_interval': None},
        '`min_collection_interval` must be a number of seconds greater than 0 such as 45, got None (NoneType)',
        id='null interval',
    ),
    pytest.param(
        {'tags': 'team:ops'},
        '`tags` must be a list of strings such as ["team:ops"], got \'team:ops\' (str)',
        id='tags string',
    ),
    pytest.param(
        {'tags': ['team:ops', 7]}, '`tags` entry 2 must be a string such as "team:ops", got 7 (int)', id='tags with int'
    ),
    pytest.param(
        {'tags': {'team': 'ops'}},
        '`tags` must be a list of strings such as ["team:ops"], got {\'team\': \'ops\'} (dict)',
        id='tags mapping',
    ),
]


@pytest.mark.parametrize('instance, expected_message', BAD_CONFIGURATIONS)
def test_bad_configuration_names_field_value_and_fix(instance, expected_message):
    check = MyMetricCheck(CHECK_NAME, {}, [instance])

    with pytest.raises(ConfigurationError) as error:
        check.load_configuration_models()

    assert str(error.value).endswith(expected_message)


@pytest.mark.parametrize('instance, expected_message', BAD_CONFIGURATIONS)
def test_bad_configuration_fails_the_run_and_submits_nothing(aggregator, instance, expected_message):
    check = MyMetricCheck(CHECK_NAME, {}, [instance])

    # AgentCheck.run is what the Agent calls: it reports the error instead of raising it.
    [error] = json.loads(check.run())

    assert 'ConfigurationError' in error['traceback']
    assert expected_message in error['message']
    assert not aggregator.metrics(METRIC_NAME)


@pytest.mark.parametrize('interval', [0.5, 1, 45])
def test_collection_interval_accepts_any_positive_number_of_seconds(dd_run_check, aggregator, interval):
    check = MyMetricCheck(CHECK_NAME, {}, [{'min_collection_interval': interval}])
    dd_run_check(check)

    assert check.config.min_collection_interval == interval
    aggregator.assert_metric(METRIC_NAME, count=1)
