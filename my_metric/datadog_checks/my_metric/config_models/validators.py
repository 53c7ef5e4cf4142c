# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Hand-written validators that the generated models call (this file is not regenerated).

Each message names the option, the value received and what is allowed, because the Agent shows it
verbatim in `datadog-agent status` and `datadog-agent check my_metric`.
"""


def _received(value):
    return f'got {value!r} ({type(value).__name__})'


def _strict_integer(name, value, example):
    # bool is a subclass of int and YAML turns `yes`/`no` into booleans: reject it explicitly.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f'`{name}` must be a whole number such as {example}, {_received(value)}')
    return value


def instance_min_value(value, **kwargs):
    return _strict_integer('min_value', value, 0)


def instance_max_value(value, **kwargs):
    return _strict_integer('max_value', value, 1000)


def instance_min_collection_interval(value, **kwargs):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(
            f'`min_collection_interval` must be a number of seconds greater than 0 such as 45, {_received(value)}'
        )
    return value


def instance_tags(value, **kwargs):
    if not isinstance(value, (list, tuple)):
        raise ValueError(f'`tags` must be a list of strings such as ["team:ops"], {_received(value)}')
    for position, tag in enumerate(value, 1):
        if not isinstance(tag, str):
            raise ValueError(f'`tags` entry {position} must be a string such as "team:ops", {_received(tag)}')
    return value


def check_instance(model):
    if model.min_value > model.max_value:
        raise ValueError(
            f'`min_value` ({model.min_value}) must not be greater than `max_value` ({model.max_value}); '
            'lower `min_value` or raise `max_value`'
        )
    return model
