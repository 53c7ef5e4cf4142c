"""Run an installed integration the way `datadog-agent check <name>` does, without the Agent.

`agent_standin.run_agent_check` runs this file with the Python that stands in for the Agent's
embedded one (a virtualenv holding `datadog-checks-base[deps]` and the integration's wheel, not this
package). It imports only the standard library, PyYAML and `datadog_checks.base`, as the Agent's
loader does:

1. import `datadog_checks.<name>`, falling back to a top-level `<name>` module;
2. take the module's `AgentCheck` subclass that has no subclass of its own;
3. instantiate it once per instance with `(name, init_config, [instance])` and call `run()`,
   which returns a JSON list of errors, or an empty string when the run succeeded.

Without the Agent, `datadog_checks.base` submits to its aggregator stub; this script prints what
each run submitted as JSON series, one document per run, on standard output.
"""

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

import yaml


def load_check_class(check_name):
    try:
        module = importlib.import_module(f'datadog_checks.{check_name}')
    except ImportError as namespaced_error:
        try:
            module = importlib.import_module(check_name)
        except ImportError:
            raise SystemExit(
                f'error: cannot import datadog_checks.{check_name} ({namespaced_error}) nor {check_name}: '
                'is the integration installed in this Python?'
            ) from None

    from datadog_checks.base import AgentCheck

    for attribute in dir(module):
        candidate = getattr(module, attribute)
        if (
            isinstance(candidate, type)
            and issubclass(candidate, AgentCheck)
            and candidate is not AgentCheck
            and not candidate.__subclasses__()
        ):
            return candidate
    raise SystemExit(f'error: module {module.__name__} defines no AgentCheck subclass')


def submitted_series(check_name):
    from datadog_checks.base.stubs import aggregator

    series = []
    for metric_name in sorted(aggregator.metric_names):
        for stub in aggregator.metrics(metric_name):
            series.append(
                {
                    'metric': stub.name,
                    'type': aggregator.METRIC_ENUM_MAP_REV[stub.type],
                    'value': stub.value,
                    'tags': sorted(stub.tags),
                    'host': stub.hostname,
                    'check': check_name,
                }
            )
    return series


def submitted_service_checks():
    from datadog_checks.base.stubs import aggregator

    return [
        {
            'check': stub.name,
            'status': stub.status,
            'tags': sorted(stub.tags),
            'host_name': stub.hostname,
            'message': stub.message or '',
        }
        for name in sorted(aggregator.service_check_names)
        for stub in aggregator.service_checks(name)
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('check_name')
    parser.add_argument('--config', required=True, type=Path, help='the conf.yaml of the check (conf.d/<name>.d/)')
    parser.add_argument('--runs', type=int, default=1, help='how many times to run each instance')
    parser.add_argument(
        '--interval', type=float, required=True, help='seconds between runs (agent_standin.collection_interval)'
    )
    args = parser.parse_args(argv)

    try:
        config = yaml.safe_load(args.config.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SystemExit(f'error: cannot read {args.config}: {error}') from None
    if not isinstance(config, dict):
        raise SystemExit(f'error: {args.config} must be a mapping with `init_config:` and `instances:`')
    init_config = config.get('init_config') or {}
    instances = config.get('instances') or []
    if not instances:
        raise SystemExit(f'error: {args.config} has no instance under `instances:`')

    check_class = load_check_class(args.check_name)
    from datadog_checks.base.stubs import aggregator

    checks = [check_class(args.check_name, init_config, [instance]) for instance in instances]

    failed = False
    for run in range(1, args.runs + 1):
        for position, check in enumerate(checks, 1):
            errors = check.run()
            document = {
                'run': run,
                'instance': position,
                'time': time.time(),
                'series': submitted_series(args.check_name),
                'service_checks': submitted_service_checks(),
                'errors': json.loads(errors) if errors else [],
            }
            aggregator.reset()
            failed = failed or bool(errors)
            print(json.dumps(document), flush=True)
        if run < args.runs:
            time.sleep(args.interval)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
