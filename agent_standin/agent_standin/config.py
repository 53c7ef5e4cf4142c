"""Read a check's ``conf.d/<name>.d/conf.yaml`` as the Agent does, and say precisely what is wrong with it."""

from pathlib import Path

import yaml

# What the Agent waits between runs of an instance that sets no min_collection_interval.
DEFAULT_COLLECTION_INTERVAL = 15.0
EXAMPLE = 'init_config:\ninstances:\n  - min_collection_interval: 45'


class CheckConfigError(ValueError):
    """The file cannot be used as a check's config; the message names the file and the fix."""


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
    """Seconds between runs of the first instance: its ``min_collection_interval``, else the Agent's 15."""
    interval = read_check_config(path)['instances'][0].get('min_collection_interval', DEFAULT_COLLECTION_INTERVAL)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise CheckConfigError(f'{path}: min_collection_interval must be a positive number of seconds')
    return float(interval)


def error_messages(errors: list) -> str:
    """The distinct last lines of the errors a check run reported, joined with '; ' (tracebacks left out)."""
    lines = [(error.get('message', '') if isinstance(error, dict) else str(error)).strip() for error in errors]
    return '; '.join(dict.fromkeys(line.splitlines()[-1].strip() if line else '?' for line in lines))
