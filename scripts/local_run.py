"""The whole my_metric integration working locally: no Docker, no Datadog account.

Run by ``scripts/run-local`` in ``.venv-local/``. Every option is checked before any work starts;
then: 1 setup, 2 the my_metric check built, installed and run as the Agent does, 3 APM (the test
agent and flask_demo under ddtrace-run), 4 MySQL (accounts of the tour's own, dropped at the end),
5 the Datadog assets (validated, planned, drawn; ``--apply`` applies them), 6 the summary.
Whatever ends the run (its end, INT, TERM, HUP, the parent's death) stops every process it started.
The work itself is done by the repository's packages; this file only orders it and reports.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

try:
    import agent_standin as standin
    import pymysql

    import flask_demo_harness as harness
    import mysql_datadog_user as mysql
except ModuleNotFoundError as error:  # --help and option errors work before scripts/run-local set up .venv-local
    MISSING_MODULE: ModuleNotFoundError | None = error
else:
    MISSING_MODULE = None

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = REPO_ROOT / '.local-run'
LOG_DIR = WORK_DIR / 'logs'
AGENT_PYTHON_DIR = WORK_DIR / 'agent-python'
EXAMPLE_CONFIG = REPO_ROOT / 'my_metric/datadog_checks/my_metric/data/conf.yaml.example'
TOTAL_STEPS = 6
QUICK_INTERVAL = 1.0
DATABASE_ROUTE = '/api/db'
KEY_VARIABLES = ('DD_API_KEY', 'DD_APP_KEY')
# Names reserved for the tour: it creates them, drops them, and may replace what a killed run left.
TOUR_NAMES = {'agent_user': 'datadog_tour', 'app_user': 'flask_demo_tour', 'database': 'flask_demo_tour'}
TOUR_AGENT_USER, TOUR_APP_USER, TOUR_DATABASE = TOUR_NAMES.values()
PROVISION = [sys.executable, '-m', 'my_metric_provisioning', '--assets-dir', str(REPO_ROOT / 'my_metric')]


class StepFailed(Exception):
    """A step could not do its job; the message says what went wrong and what to do."""


class Stopped(BaseException):
    """A signal ended the run."""


@dataclass
class StepResult:
    name: str
    status: str = 'OK'  # OK, FAILED or SKIPPED
    headline: str = ''
    details: list[str] = field(default_factory=list)


@dataclass
class Run:
    args: argparse.Namespace
    keys: dict[str, str]
    plan: subprocess.CompletedProcess | None = None  # `my-metric-provision apply --dry-run`, run first
    results: list[StepResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    step: str = 'setup'


def progress(run: Run, step: int, name: str, *messages: str) -> None:
    run.step = f'{step}/{TOTAL_STEPS} {name}'
    for message in messages:
        print(f'[{step}/{TOTAL_STEPS}] {name}: {message}', flush=True)


def run_step(run: Run, step: int, name: str, function, *arguments) -> None:
    """Run one step; a failure is recorded with the step's name and the run goes on with the others."""
    try:
        result = function(run, functools.partial(progress, run, step, name), *arguments)
    except StepFailed as error:
        result = StepResult(name, 'FAILED', str(error))
    except (OSError, subprocess.CalledProcessError, RuntimeError, ValueError, pymysql.MySQLError) as error:
        result = StepResult(name, 'FAILED', f'{type(error).__name__}: {error}')
    if result.status == 'FAILED':
        progress(run, step, name, f'FAILED: {result.headline}')
    run.results.append(result)


def provision(*arguments: str, keys: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*PROVISION, *arguments], env={**os.environ, **(keys or {})}, capture_output=True, text=True)


def provisioning(*arguments: str) -> subprocess.Popen:
    return subprocess.Popen([*PROVISION, *arguments], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def check_step(run: Run, say) -> StepResult:
    args = run.args
    reusing = f'reusing {AGENT_PYTHON_DIR.relative_to(REPO_ROOT)}/ (the Agent\'s Python stand-in)'
    creating = 'creating a virtualenv with only datadog-checks-base[deps] (the Agent\'s Python)'
    say(reusing if standin.agent_python_is_complete(AGENT_PYTHON_DIR) else creating)
    agent_python = standin.create_agent_python(AGENT_PYTHON_DIR, reuse=True)
    wheel = standin.build_wheel(REPO_ROOT / 'my_metric', WORK_DIR / 'dist')
    say(f'built {wheel.relative_to(REPO_ROOT)}')
    conf_dir = standin.install_integration(agent_python, wheel, WORK_DIR / 'etc' / 'datadog-agent' / 'conf.d')
    say(f'installed it as `datadog-agent integration install -w` does, config in {conf_dir.relative_to(REPO_ROOT)}/')
    config = Path(shutil.copyfile(args.check_config or conf_dir / 'conf.yaml.example', conf_dir / 'conf.yaml'))
    interval = QUICK_INTERVAL if args.quick else args.interval
    source = 'shortened by --quick' if args.quick else f'min_collection_interval from {config.name}'
    say(f'running it {args.runs} times, {interval:g} s apart ({source})')
    on_run = lambda document: say(f'run {document["run"]}/{args.runs} -> {standin.describe_run(document)}')  # noqa: E731
    documents = standin.run_agent_check(agent_python, config, runs=args.runs, interval=interval, on_run=on_run)
    if errors := [error for document in documents for error in document['errors']]:
        raise StepFailed(
            f'the check reported errors: {standin.error_messages(errors)}. '
            f'Fix {args.check_config or config} (options in conf.yaml.example) and run again'
        )
    if len(documents) < args.runs:
        raise StepFailed(f'the check stopped after {len(documents)} of {args.runs} runs')
    series = [point for document in documents for point in document['series']]
    tags = ', '.join(sorted({tag for point in series for tag in point['tags']})) or 'none'
    values = ', '.join(f'{point["value"]:g}' for point in series)
    headline = f'{len(documents)} runs, {interval:g} s apart (configured {args.interval:g} s): my_metric = {values}'
    return StepResult('my_metric check', headline=headline, details=[f'tags: {tags}'])


@contextlib.contextmanager
def tour_accounts(run: Run, admin: mysql.ConnectionSettings):
    """The tour's accounts for the length of the run; the summary's notes say what became of them."""
    names = f'accounts {TOUR_AGENT_USER}, {TOUR_APP_USER} and database {TOUR_DATABASE}'
    drops = [f'.venv-local/bin/mysql-datadog-user drop --user {user}' for user in (TOUR_AGENT_USER, TOUR_APP_USER)]
    removal = '; '.join([*drops, f'DROP DATABASE {TOUR_DATABASE}'])
    accounts, keep = None, run.args.keep_mysql_users
    try:
        with mysql.temporary_accounts(admin, keep=keep, **TOUR_NAMES) as accounts:
            for user in accounts.replaced:
                print(f'[4/{TOTAL_STEPS}] MySQL: replacing {user} left by an earlier, killed run', flush=True)
            yield accounts
    finally:
        if accounts is not None and keep:
            kept = WORK_DIR / 'mysql-tour-passwords'
            kept.touch(mode=0o600)
            kept.write_text(''.join(f'{user.user} {user.password}\n' for user in (accounts.agent, accounts.app)))
            run.notes.append(f'kept on {admin.address} (--keep-mysql-users): {names}; passwords in {kept}')
            run.notes.append(f'remove them with: {removal}')
        elif accounts is not None:
            failure = f'could not remove the tour\'s {names} on {admin.address} ({accounts.removal_error}); '
            removed = f'MySQL: the tour\'s {names} were removed from {admin.address}'
            run.notes.append(f'{failure}remove them with: {removal}' if accounts.removal_error else removed)


def prepare_database(run: Run, stack: contextlib.ExitStack) -> mysql.TemporaryAccounts | StepResult:
    """The tour's accounts, made before the app starts and dropped when the run ends; else step 4's result."""
    admin = mysql.admin_settings_from_env()
    if reason := '--skip-mysql given' if run.args.skip_mysql else mysql.unreachable_reason(admin):
        return StepResult('MySQL', 'SKIPPED', reason)
    try:
        return stack.enter_context(tour_accounts(run, admin))
    except (pymysql.MySQLError, OSError) as error:
        fix = 'Set MYSQL_ROOT_USER/MYSQL_ROOT_PASSWORD to an account that may create users, or pass --skip-mysql'
        failure = f'creating the tour\'s accounts on {admin.address} as {admin.user} failed: {error}'
        return StepResult('MySQL', 'FAILED', f'{failure}. {fix}')


def traced_entries(agent, token: str, expected: int) -> tuple[list, list[tuple[str, str, int]]]:
    """The session's traces, and per (service, resource) how many spans entered a service there."""
    try:
        traces = agent.wait_for_traces(expected, token=token, timeout=30)
    except harness.HarnessError as error:
        raise StepFailed(f'{error}; the tracer log is in {LOG_DIR / "flask-demo.log"}') from None
    counts = harness.spans_by_service_and_resource(harness.entry_spans(trace) for trace in traces)
    return traces, [(service, resource, count) for (service, resource), count in sorted(counts.items())]


def apm_step(run: Run, say, agent, app) -> StepResult:
    say(f'APM test agent on {agent.url}, flask_demo on {app.url} (ddtrace-run gunicorn)')
    routes, rounds = [route for route in harness.ROUTES if route != DATABASE_ROUTE], 1 if run.args.quick else 5
    agent.start_session('apm')
    say(f'GET {", ".join(routes)} x {rounds}')
    unexpected = {}
    for route, status in [answer for _ in range(rounds) for answer in harness.send_traffic(app, routes).items()]:
        if status != harness.ROUTES[route]:
            unexpected.setdefault(route, f'{route} answered {status}, expected {harness.ROUTES[route]}')
    traces, entries = traced_entries(agent, 'apm', len(routes) * rounds)
    lines = [f'{service}  {resource}  x {count}' for service, resource, count in entries]
    say(*lines)
    if unexpected:
        raise StepFailed(f'{"; ".join(unexpected.values())}; see {LOG_DIR / "flask-demo.log"}')
    headline = f'{len(traces)} traces, {sum(len(trace) for trace in traces)} spans; per service and resource:'
    return StepResult('APM', headline=headline, details=lines)


def mysql_step(run: Run, say, database: mysql.TemporaryAccounts | StepResult, agent, app) -> StepResult:
    if isinstance(database, StepResult) and database.status == 'FAILED':
        raise StepFailed(database.headline)
    if isinstance(database, StepResult):
        say(f'skipped: {database.headline}')
        return database
    where = f'{database.server.flavor} {database.server.version_string} at {database.agent.address}'
    ending = 'kept (--keep-mysql-users)' if run.args.keep_mysql_users else 'dropped when the run ends'
    created = f'(the Agent user\'s grants) and {TOUR_APP_USER} (the app\'s, on database {TOUR_DATABASE}) created'
    say(f'{TOUR_AGENT_USER} {created} on {where}; {ending}')
    checks = mysql.verify_with_witness(database.agent, mysql.admin_settings_from_env())
    agent.start_session('db')
    status = app.get(DATABASE_ROUTE).status
    traced = ', '.join(
        f'{service} {resource} x {count}' for service, resource, count in traced_entries(agent, 'db', 1)[1]
    )
    lines = [*map(str, checks), f'GET {DATABASE_ROUTE} as {TOUR_APP_USER} -> {status}; traced: {traced}']
    say(*lines)
    if failed := [check.name for check in checks if not check.passed]:
        raise StepFailed(f'privilege checks failed: {", ".join(failed)}; see mysql_datadog_user/README.md')
    if status != 200:
        raise StepFailed(f'{DATABASE_ROUTE} answered {status}; see {LOG_DIR / "flask-demo.log"}')
    return StepResult('MySQL', headline=f'{where}: {len(checks)}/{len(checks)} privilege checks passed', details=lines)


def apm_and_mysql_steps(run: Run, stack: contextlib.ExitStack) -> None:
    database = prepare_database(run, stack)
    mysql_env = database.app_environment() if isinstance(database, mysql.TemporaryAccounts) else {}
    try:
        agent = stack.enter_context(harness.apm_test_agent(log_path=LOG_DIR / 'apm-test-agent.log'))
        app_env = {'DD_ENV': 'local', **mysql_env}
        app = stack.enter_context(harness.traced_app(agent.url, env=app_env, log_path=LOG_DIR / 'flask-demo.log'))
    except (OSError, RuntimeError) as error:
        message = f'could not start the test agent or the app: {error}. Logs in {LOG_DIR.relative_to(REPO_ROOT)}/'
        progress(run, 3, 'APM', f'FAILED: {message}')
        skipped = isinstance(database, StepResult) and database.status == 'SKIPPED'
        run.results.append(StepResult('APM', 'FAILED', message))
        run.results.append(StepResult('MySQL', 'SKIPPED' if skipped else 'FAILED', 'needs the app'))
        return
    run_step(run, 3, 'APM', apm_step, agent, app)
    run_step(run, 4, 'MySQL', mysql_step, database, agent, app)


def assets_step(run: Run, say) -> StepResult:
    args, plan = run.args, (run.plan.stdout + run.plan.stderr).strip()
    if run.plan.returncode != 0:
        raise StepFailed(
            f'validation failed (exit {run.plan.returncode}):\n{plan}\nFix the assets in my_metric/assets/'
        )
    plan_file = WORK_DIR / 'provisioning-plan.txt'
    plan_file.write_text(plan)
    lines = [line for line in plan.splitlines() if line.startswith(('OK:', 'Plan', '=='))]
    say(*lines, f'full plan with payloads in {plan_file.relative_to(REPO_ROOT)}')
    lines += draw_pictures(run, say)
    if not args.apply:
        return StepResult('Datadog assets', headline='validated; plan printed (dry run, nothing sent)', details=lines)
    say(f'applying for real to {os.environ.get("DD_SITE", "datadoghq.com")}, notifying {args.notify}')
    applied = provision(*provisioning_options(args), keys=run.keys)
    output = (applied.stdout + applied.stderr).strip().splitlines()
    say(*output)
    if applied.returncode != 0:
        raise StepFailed(
            f'apply failed (exit {applied.returncode}); the message above says why. Running it again is safe'
        )
    return StepResult('Datadog assets', headline='validated and applied', details=lines + output[-3:])


def draw_pictures(run: Run, say) -> list[str]:
    """The downtime week and one simulated day of the monitor, drawn by my-metric-provision side by side."""
    timezone = ['--timezone', run.args.timezone] if run.args.timezone is not None else []
    check_config = ['--check-config', str(run.args.check_config)] if run.args.check_config else []
    pictures = {'downtime week': ['calendar'], 'forecast day': ['forecast', *check_config]}
    paths = dict(zip(pictures, (WORK_DIR / 'downtime-calendar.png', WORK_DIR / 'forecast-day.png'), strict=True))
    with contextlib.ExitStack() as drawing:
        processes = {}
        for what, command in pictures.items():
            processes[what] = drawing.enter_context(provisioning(*timezone, *command, '--output', str(paths[what])))
            drawing.callback(processes[what].kill)  # runs before the wait: an interruption does not wait for them
        outputs = {what: process.communicate()[0].strip() for what, process in processes.items()}
    for what, process in processes.items():
        if process.returncode != 0:
            raise StepFailed(f'drawing the {what} failed (exit {process.returncode}): {outputs[what]}')
    say(*(lines := [f'picture of the {what}: {path.relative_to(REPO_ROOT)}' for what, path in paths.items()]))
    return lines


def provisioning_options(args: argparse.Namespace, *, dry_run: bool = False) -> list[str]:
    options = [*(['--timezone', args.timezone] if args.timezone is not None else []), 'apply']
    options += [*(['--dry-run'] if dry_run else []), *(['--notify', args.notify] if args.notify is not None else [])]
    return options + (['--api-url', args.api_url] if args.api_url else [])


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='scripts/run-local', description=__doc__.splitlines()[0])
    add = parser.add_argument
    add(
        '--quick', action='store_true', help='check runs 1 s apart (not min_collection_interval), one request per route'
    )
    add('--runs', type=int, default=3, help='how many times to run the check (default 3)')
    add('--check-config', type=Path, help='run the check with this conf.yaml instead of the shipped example')
    add('--skip-mysql', action='store_true', help='leave out the MySQL part even when a server is reachable')
    add('--keep-mysql-users', action='store_true', help=f'keep {TOUR_AGENT_USER}/{TOUR_APP_USER} after the run')
    add('--timezone', help='IANA timezone of the downtimes (passed to my-metric-provision)')
    add('--apply', action='store_true', help='apply the assets for real (needs DD_API_KEY, DD_APP_KEY, --notify)')
    add('--notify', help='@handle the monitor and downtimes notify, e.g. @you@example.com')
    add('--api-url', help='with --apply: send the API requests here instead of the site (a proxy or a test server)')
    args = parser.parse_args(argv)
    if MISSING_MODULE is not None:
        parser.error(f'{MISSING_MODULE}; start the tour with scripts/run-local, which installs what it needs')
    if args.runs < 1:
        parser.error('--runs must be at least 1')
    if args.apply and (missing := [name for name in KEY_VARIABLES if not os.environ.get(name)]):
        parser.error(f'--apply needs {" and ".join(KEY_VARIABLES)} in the environment; missing: {", ".join(missing)}')
    if args.apply and not args.notify:
        parser.error('--apply needs --notify @handle (who the monitor and downtimes notify)')
    if args.check_config is not None:
        args.check_config = args.check_config.resolve()  # against the directory the user ran the command from
    try:
        args.interval = standin.collection_interval(args.check_config or EXAMPLE_CONFIG)
        mysql.admin_settings_from_env()
    except standin.CheckConfigError as error:
        parser.error(f'--check-config {error}')
    except ValueError as error:
        parser.error(str(error))
    return args


def print_summary(run: Run, started: float) -> int:
    failed = [result.name for result in run.results if result.status == 'FAILED']
    width = max(len(result.name) for result in run.results)
    print(f'\n[{TOTAL_STEPS}/{TOTAL_STEPS}] summary ({time.monotonic() - started:.0f} s)', flush=True)
    print('=' * 78)
    for result in run.results:
        print(f'{result.name:<{width}}  {result.status:<7}  {result.headline}')
        for line in result.details:
            print(f'{"":<{width}}             {line}')
    print('=' * 78)
    skips = [f'skipped: {result.name} - {result.headline}' for result in run.results if result.status == 'SKIPPED']
    for line in skips + run.notes:
        print(line)
    print(
        f'RESULT: FAILED in {", ".join(failed)} (details above)'
        if failed
        else 'RESULT: OK, every part that ran succeeded'
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    run = Run(parse_arguments(argv), keys={name: os.environ.pop(name) for name in KEY_VARIABLES if name in os.environ})
    started = time.monotonic()
    try:
        harness.unwind_on_signals(Stopped)
        with contextlib.ExitStack() as stack:
            # ddtrace and the other children write temporary files: into the work folder, removed at the end.
            LOG_DIR.mkdir(parents=True, exist_ok=True)
            os.environ['TMPDIR'] = stack.enter_context(tempfile.TemporaryDirectory(prefix='tmp-', dir=WORK_DIR))
            run.plan = provision(*provisioning_options(run.args, dry_run=True))
            if run.plan.returncode == 2:
                refusal = (run.plan.stdout + run.plan.stderr).strip()
                print(f'scripts/run-local: error: my-metric-provision refused the options: {refusal}', file=sys.stderr)
                return 2
            python, venv = f'Python {sys.version.split()[0]}', Path(sys.prefix).name
            progress(run, 1, 'setup', f'{python} in {venv}/, working files in {WORK_DIR.name}/')
            run.results.append(StepResult('setup', headline=f'{python}, {venv}/ and {WORK_DIR.name}/ ready'))
            run_step(run, 2, 'my_metric check', check_step)
            apm_and_mysql_steps(run, stack)
            run_step(run, 5, 'Datadog assets', assets_step)
    except Stopped as stopped:
        print(f'\ninterrupted by {stopped} during step {run.step}; every process this run started has been stopped')
        for note in run.notes:
            print(note)
        return 128 + signal.Signals[str(stopped)].value
    return print_summary(run, started)


if __name__ == '__main__':
    sys.exit(main())
