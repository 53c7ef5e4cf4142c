"""`agent`: the Datadog Agent's command line as far as an Agent-shaped container needs it, without the Agent.

Installed as the console script `agent-standin` (the Agent-shaped image links it as `agent`) of a
Python that stands in for the Agent's embedded one (the interpreter running this module is the one
checks run in):

- `agent check NAME [--json] [--check-rate] [--check-times N] [--pause MS]` runs the check on every
  config of `conf.d/NAME.d/` and prints what it submitted; with `--json`, the list of per-instance
  collector documents `datadog-agent check --json` prints (`aggregator.metrics[{metric, points, tags,
  host, type}]`, `aggregator.service_checks`, `runner{CheckID, CheckName, LastError, ...}`), which
  `datadog_checks.dev._env.replay_check_run` reads;
- `agent integration install [-r] -w WHEEL` installs a check's wheel as `datadog-agent integration
  install` does (agent_standin.install_integration);
- `agent status` lists the configured checks and the trace intake;
- `agent run` runs the trace intake (Datadog's ddapm-test-agent) when APM is enabled, until stopped.
  It schedules no check: checks run when `agent check` asks.

conf.d is `DD_CONFD_PATH` (the Agent's `confd_path` setting), else /etc/datadog-agent/conf.d.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import click
from agent_standin.config import CheckConfigError, error_messages, read_check_config
from agent_standin.install import install_integration
from agent_standin.ports import free_ports
from agent_standin.run import LoaderError, describe_run, run_agent_check

DEFAULT_CONFD = '/etc/datadog-agent/conf.d'
TRUE_VALUES = {'1', 'true', 'yes', 'on'}


def confd_path() -> Path:
    return Path(os.environ.get('DD_CONFD_PATH') or DEFAULT_CONFD)


def check_configs(check_name: str) -> list[Path]:
    """The configs the Agent loads for a check: every *.yaml of conf.d/<name>.d/ (examples are not configs)."""
    return sorted((confd_path() / f'{check_name}.d').glob('*.yaml'))


def check_id(check_name: str, instance: dict, init_config: dict) -> str:
    """`<name>:<digest>`, the shape of the Agent's check IDs (a digest of the instance and init_config)."""
    digest = hashlib.sha256(json.dumps([instance, init_config], sort_keys=True, default=str).encode()).hexdigest()
    return f'{check_name}:{digest[:16]}'


def collector_documents(check_name: str, config_path: Path, documents: list[dict]) -> list[dict]:
    """One collector document per instance, as `datadog-agent check --json` prints them.

    Runs of the same instance fill one aggregator, as in the Agent's check command: a context (metric,
    type, tags, host) keeps its last value; counts add up.
    """
    config = read_check_config(config_path)
    init_config = config.get('init_config') or {}
    hostname = os.environ.get('DD_HOSTNAME') or os.uname().nodename
    collectors = []
    for position, instance in enumerate(config['instances'], 1):
        runs = [document for document in documents if document['instance'] == position]
        contexts: dict[tuple, dict] = {}
        for document in runs:
            for series in document['series']:
                key = (series['metric'], series['type'], tuple(series['tags']), series['host'])
                value = series['value']
                if series['type'] == 'count' and key in contexts:
                    value += contexts[key]['points'][0][1]
                contexts[key] = {
                    'metric': series['metric'],
                    'points': [[int(document['time']), value]],
                    'tags': series['tags'],
                    'host': series['host'] or hostname,
                    'type': series['type'],
                    'source_type_name': 'System',
                }
        service_checks = [
            {**service_check, 'host_name': service_check['host_name'] or hostname}
            for document in runs
            for service_check in document.get('service_checks', [])
        ]
        errors = [error for document in runs for error in document['errors']]
        collectors.append(
            {
                'aggregator': {'metrics': list(contexts.values()), 'service_checks': service_checks, 'events': []},
                'runner': {
                    'CheckID': check_id(check_name, instance, init_config),
                    'CheckName': check_name,
                    'CheckConfigSource': f'file:{config_path}',
                    'TotalRuns': len(runs),
                    'TotalErrors': sum(1 for document in runs if document['errors']),
                    'LastError': json.dumps(errors) if errors else '',
                },
                'inventories': {},
            }
        )
    return collectors


@click.group(context_settings={'help_option_names': ['-h', '--help']})
@click.pass_context
def agent(context: click.Context) -> None:
    """The Datadog Agent's `agent` command, stood in for by agent_standin."""
    context.ensure_object(dict)
    # The interpreter that stands in for the Agent's embedded Python: this one, unless a test says otherwise.
    context.obj.setdefault('python', sys.executable)


@agent.command()
@click.argument('check_name')
@click.option('--json', 'as_json', is_flag=True, help='Print the collector documents as JSON.')
@click.option('--check-rate', is_flag=True, help='Run the check twice (at least), so rates have two samples.')
@click.option('--check-times', type=click.IntRange(min=1), default=1, show_default=True, help='Runs of each instance.')
@click.option('--pause', type=click.IntRange(min=0), default=0, show_default=True, help='Milliseconds between runs.')
@click.option('-l', '--log-level', default=None, help='Accepted for compatibility; the check logs to stderr.')
@click.pass_obj
def check(obj, check_name, as_json, check_rate, check_times, pause, log_level):
    """Run CHECK_NAME on each of its configs in conf.d and print what it submitted."""
    configs = check_configs(check_name)
    if not configs:
        raise click.ClickException(f'no valid check found: no config in {confd_path() / f"{check_name}.d"} (*.yaml)')
    runs = max(check_times, 2) if check_rate else check_times
    collectors, failed = [], False
    for config_path in configs:
        try:
            documents = run_agent_check(
                obj['python'], config_path, runs=runs, interval=pause / 1000, check_name=check_name
            )
            collectors += collector_documents(check_name, config_path, documents)
        except (LoaderError, CheckConfigError) as error:
            raise click.ClickException(str(error)) from None
        failed = failed or any(document['errors'] for document in documents)
        if not as_json:
            for document in documents:
                click.echo(
                    f'{check_name} run {document["run"]} instance {document["instance"]}: {describe_run(document)}'
                )
    if as_json:
        click.echo(json.dumps(collectors, indent=2))
    if failed:
        errors = [json.loads(c['runner']['LastError']) for c in collectors if c['runner']['LastError']]
        raise click.ClickException(f'{check_name} ran with errors: {error_messages(sum(errors, []))}')


@agent.group()
def integration() -> None:
    """Manage integrations."""


@integration.command()
@click.option('-w', '--local-wheel', 'wheel', required=True, type=click.Path(exists=True, dir_okay=False))
@click.option('-r', '--allow-root', is_flag=True, help='Allow running as root (e.g. in an image build).')
@click.pass_obj
def install(obj, wheel, allow_root):
    """Install a check's wheel into the Agent's Python and copy its example configs to conf.d."""
    if os.geteuid() == 0 and not allow_root:
        raise click.ClickException('operation is disabled for the root user: run as the Agent user or add -r')
    try:
        check_dir = install_integration(obj['python'], wheel, confd_path())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f'installed {Path(wheel).name}; configs in {check_dir}')


def intake_settings() -> tuple[bool, str, int]:
    """(enabled, host, port) of the trace intake, from the Agent's variables DD_APM_ENABLED,
    DD_APM_NON_LOCAL_TRAFFIC and DD_APM_RECEIVER_PORT (defaults as in the Agent: on, local only, 8126)."""
    enabled = os.environ.get('DD_APM_ENABLED', 'true').lower() in TRUE_VALUES
    non_local = os.environ.get('DD_APM_NON_LOCAL_TRAFFIC', 'false').lower() in TRUE_VALUES
    return enabled, '0.0.0.0' if non_local else '127.0.0.1', int(os.environ.get('DD_APM_RECEIVER_PORT', '8126'))


@agent.command()
def status() -> None:
    """Print the configured checks and whether the trace intake answers."""
    click.echo(f'Agent stand-in (agent_standin); Python {sys.version.split()[0]}; conf.d {confd_path()}')
    for check_dir in sorted(confd_path().glob('*.d')):
        configs = [path.name for path in sorted(check_dir.glob('*.yaml'))]
        click.echo(f'  {check_dir.name[:-2]}: {", ".join(configs) if configs else "not configured (examples only)"}')
    enabled, host, port = intake_settings()
    if not enabled:
        click.echo('APM: disabled (DD_APM_ENABLED)')
        return
    try:
        with urllib.request.urlopen(f'http://127.0.0.1:{port}/info', timeout=3) as response:
            click.echo(f'APM: trace intake answering on {host}:{port} (HTTP {response.status})')
    except OSError as error:
        click.echo(f'APM: trace intake not answering on {host}:{port} ({error})')


@agent.command()
def run() -> None:
    """Run the trace intake (when APM is enabled) until SIGTERM or SIGINT."""
    enabled, host, port = intake_settings()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    if not enabled:
        click.echo('APM disabled (DD_APM_ENABLED): no trace intake; waiting for `agent check` calls')
        while not stop:
            time.sleep(1)
        return
    executable = shutil.which('ddapm-test-agent')
    if executable is None:
        raise click.ClickException('ddapm-test-agent is not installed: it is the trace intake of this stand-in')
    # No DD_* settings of the Agent reach the test agent: with DD_TRACE_AGENT_URL/DD_AGENT_URL it proxies
    # upstream, with DD_API_KEY it calls Datadog's API. Here it is the end of the line.
    env = {key: value for key, value in os.environ.items() if not key.startswith('DD_')}
    # The test agent always opens OTLP receivers (the Agent opens none unless configured): on free ports.
    otlp_http_port, otlp_grpc_port = free_ports(2, host)
    command = [
        executable,
        f'--host={host}',
        f'--port={port}',
        f'--otlp-http-port={otlp_http_port}',
        f'--otlp-grpc-port={otlp_grpc_port}',
    ]
    click.echo(f'trace intake (ddapm-test-agent) on {host}:{port}')
    with subprocess.Popen(command, env=env) as intake:
        while not stop and intake.poll() is None:
            time.sleep(0.2)
        if intake.poll() is None:
            intake.terminate()
            try:
                intake.wait(timeout=5)
            except subprocess.TimeoutExpired:
                intake.kill()
    if not stop:
        raise click.ClickException(f'the trace intake exited with {intake.returncode}')


def main() -> None:
    agent(obj={})


if __name__ == '__main__':
    main()
