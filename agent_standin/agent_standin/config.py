"""Read a check's ``conf.d/<name>.d/conf.yaml`` as the Agent does, and say precisely what is wrong with it."""

import warnings
from pathlib import Path

import yaml

# What the Agent waits between runs of an instance that sets no usable min_collection_interval
# (datadog-agent pkg/collector/check/defaults: DefaultCheckInterval).
DEFAULT_COLLECTION_INTERVAL = 15.0
EXAMPLE = 'init_config:\ninstances:\n  - min_collection_interval: 45'
INTERVAL_FIELD = 'instances[0].min_collection_interval'


class CheckConfigError(ValueError):
    """The file cannot be used as a check's config; the message names the file and the fix."""


class CheckConfigWarning(UserWarning):
    """The file is usable, but a setting in it does not do what it seems to (the message says what happens)."""


def read_check_config(path) -> dict:
    """The config as a mapping whose ``instances`` is a non-empty list of mappings; else CheckConfigError."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding='utf-8'))
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else 'not UTF-8 text'
        raise CheckConfigError(f'{path}: cannot read it ({reason}); give a conf.yaml file') from None
    except yaml.YAMLError as error:
        raise CheckConfigError(f'{path}: not valid YAML ({" ".join(str(error).split())}); fix the syntax') from None
    instances = document.get('instances') if isinstance(document, dict) else None
    if not (isinstance(instances, list) and instances and all(isinstance(i, dict) for i in instances)):
        raise CheckConfigError(f'{path}: needs a mapping with `instances:`, a list of mappings, e.g.\n{EXAMPLE}')
    return document


def collection_interval(path) -> float:
    """Seconds the Agent (6 and later) waits between runs of the first instance, read as it reads them.

    The rule, from datadog-agent ``pkg/collector/python/check.go`` (``PythonCheck.Configure``): only the
    instance's ``min_collection_interval`` counts, decoded into a Go ``int`` (``CommonInstanceConfig``,
    gopkg.in/yaml.v2), so a fraction is cut to whole seconds; a value above 0 is the interval, anything
    else leaves the default, 15 s. ``init_config`` is not read for it (Agent 5 read it there). A value
    the Agent cannot decode as a number makes it refuse the instance: CheckConfigError. Settings that do
    not act as they seem (in init_config, not above 0, a fraction) give a CheckConfigWarning saying so.
    """
    config = read_check_config(path)
    init_config = config.get('init_config')
    if isinstance(init_config, dict) and 'min_collection_interval' in init_config:
        warnings.warn(
            CheckConfigWarning(
                f'{path}: init_config.min_collection_interval ({init_config["min_collection_interval"]!r}) has no '
                'effect on Agent 6 and later, which read it per instance; move it under each instance'
            ),
            stacklevel=2,
        )
    value = config['instances'][0].get('min_collection_interval')
    if value is None:
        return DEFAULT_COLLECTION_INTERVAL
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) == float('inf'):
        raise CheckConfigError(
            f'{path}: {INTERVAL_FIELD} is {value!r}, which the Agent refuses (it must be a number of seconds); '
            f'write a whole number of seconds such as 45, e.g.\n{EXAMPLE}'
        )
    seconds = int(value)
    if seconds != value:
        warnings.warn(
            CheckConfigWarning(f'{path}: {INTERVAL_FIELD} {value!r}: the Agent keeps whole seconds only, {seconds}'),
            stacklevel=2,
        )
    if seconds <= 0:
        warnings.warn(
            CheckConfigWarning(
                f'{path}: {INTERVAL_FIELD} {value!r} is not above 0, so the Agent uses its default, '
                f'{DEFAULT_COLLECTION_INTERVAL:g} s; give 1 or more seconds'
            ),
            stacklevel=2,
        )
        return DEFAULT_COLLECTION_INTERVAL
    return float(seconds)


def error_messages(errors: list) -> str:
    """The distinct last lines of the errors a check run reported, joined with '; ' (tracebacks left out)."""
    lines = [(error.get('message', '') if isinstance(error, dict) else str(error)).strip() for error in errors]
    return '; '.join(dict.fromkeys(line.splitlines()[-1].strip() if line else '?' for line in lines))
