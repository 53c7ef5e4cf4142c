"""Run an installed check in the stand-in Agent Python and collect what each run submitted."""

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

from agent_standin.config import collection_interval, error_messages

LOADER = Path(__file__).with_name('loader.py')


class RunsSummary(NamedTuple):
    """What a check's runs submitted, over every document run_agent_check returned."""

    count: int  # documents: one per run and instance
    values: list[float]  # the value of each series, in the order submitted
    tags: list[str]  # every tag of any series, sorted, each once
    errors: str  # error_messages of every error reported, '' when none


class LoaderError(RuntimeError):
    """The check could not be loaded or configured, so it never ran (the loader's message says why)."""


def check_name_from_config(config_path) -> str:
    """The Agent names a check after its configuration directory: conf.d/<name>.d/conf.yaml."""
    directory = Path(config_path).parent.name
    if not directory.endswith('.d') or directory == '.d':
        raise ValueError(
            f'cannot tell the check name from {config_path}: put the file in conf.d/<name>.d/ '
            'as the Agent expects, or pass check_name'
        )
    return directory.removesuffix('.d')


def run_agent_check(agent_python, config_path, runs=1, interval=None, check_name=None, on_run=None) -> list[dict]:
    """Run the check as `datadog-agent check <name>` does; return one document per run and instance.

    Each document: {'run', 'instance', 'time', 'series': [{'metric', 'type', 'value', 'tags', 'host',
    'check'}], 'service_checks': [{'check', 'status', 'tags', 'host_name', 'message'}], 'errors': [...]}
    (see loader.py). check_name defaults to the name of the config's `<name>.d` directory. interval
    defaults to collection_interval(config_path), the Agent's rule.
    on_run, if given, is called with each document as soon as that run has finished.
    Raises LoaderError when the check never ran (module not found, no instance in the config).
    """
    check_name = check_name or check_name_from_config(config_path)
    # -P: the loader's own directory stays off sys.path, so the check sees only what the Agent's Python holds.
    interval = collection_interval(config_path) if interval is None else interval
    command = [agent_python, '-P', LOADER, check_name, '--config', config_path, '--runs', runs, '--interval', interval]
    # DD_* settings of the calling shell (keys, site) are not the stand-in Agent's business.
    env = {key: value for key, value in os.environ.items() if not key.startswith('DD_')}
    documents = []
    # The check may log a lot on stderr; a file, unlike a pipe, cannot fill up and stall it.
    with tempfile.TemporaryFile('w+') as stderr:
        with subprocess.Popen(
            [str(part) for part in command], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
        ) as process:
            for line in process.stdout:
                document = json.loads(line)
                documents.append(document)
                if on_run is not None:
                    on_run(document)
        if process.returncode != 0 and not documents:
            stderr.seek(0)
            raise LoaderError(
                f'{check_name}: {stderr.read().strip() or f"the loader exited with {process.returncode}"}'
            )
    return documents


def describe_run(document) -> str:
    """One line for a run's document: each series as `metric=value tags=[...]`, then the errors, if any."""
    series = ', '.join(f'{point["metric"]}={point["value"]:g} tags={point["tags"]}' for point in document['series'])
    errors = f' ERRORS: {error_messages(document["errors"])}' if document['errors'] else ''
    return f'{series or "no series submitted"}{errors}'


def summarize_runs(documents) -> RunsSummary:
    """Count, values, tags and errors of the documents of run_agent_check, for a report of the runs."""
    series = [point for document in documents for point in document['series']]
    errors = [error for document in documents for error in document['errors']]
    tags = sorted({tag for point in series for tag in point['tags']})
    return RunsSummary(len(documents), [point['value'] for point in series], tags, error_messages(errors))
