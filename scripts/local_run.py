"""The whole my_metric integration working locally: no Docker, no Datadog account.

Run by ``scripts/run-local`` in ``.venv-local/``. Every option is checked before any work starts;
then: 1 setup, 2 the my_metric check built, installed and run as the Agent does, 3 APM (the test
agent and flask_demo under ddtrace-run), 4 MySQL (accounts of the tour's own, dropped at the end),
5 the Datadog assets (validated, planned, drawn; ``--apply`` applies them), 6 the summary.
Whatever ends the run (its end, INT, TERM, HUP, the parent's death) stops every process it started.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

try:
    import pymysql
    import yaml
    from agent_standin import build_wheel, create_agent_python, install_integration, run_agent_check

    import mysql_datadog_user as mysql
    from flask_demo_harness import ROUTES, HarnessError, apm_test_agent, die_with_parent, send_traffic, traced_app
except ModuleNotFoundError as error:  # --help and option errors work before scripts/run-local set up .venv-local
    MISSING_MODULE: ModuleNotFoundError | None = error
else:
    MISSING_MODULE = None

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = REPO_ROOT / '.local-run'
LOG_DIR = WORK_DIR / 'logs'
AGENT_PYTHON_DIR = WORK_DIR / 'agent-python'
TOTAL_STEPS = 6
QUICK_INTERVAL = 1.0
DATABASE_ROUTE = '/api/db'
KEY_VARIABLES = ('DD_API_KEY', 'DD_APP_KEY')
# Names reserved for the tour: it creates them, drops them, and may replace what a killed run left.
TOUR_AGENT_USER, TOUR_APP_USER, TOUR_DATABASE = 'datadog_tour', 'flask_demo_tour', 'flask_demo_tour'
ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
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
    plan: str = ''  # output of `my-metric-provision apply --dry-run`, run first: it checks the options
    plan_exit: int = 0
    results: list[StepResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    step: str = 'setup'


def progress(run: Run, step: int, name: str, message: str) -> None:
    run.step = f'{step}/{TOTAL_STEPS} {name}'
    print(f'[{step}/{TOTAL_STEPS}] {name}: {message}', flush=True)


def run_step(run: Run, step: int, name: str, function, *arguments) -> None:
    """Run one step; a failure is recorded with the step's name and the run goes on with the others."""
    try:
        result = function(run, step, *arguments)
    except StepFailed as error:
        result = StepResult(name, 'FAILED', str(error))
    except (OSError, subprocess.CalledProcessError, RuntimeError, ValueError, pymysql.MySQLError) as error:
        result = StepResult(name, 'FAILED', f'{type(error).__name__}: {error}')
    if result.status == 'FAILED':
        progress(run, step, name, f'FAILED: {result.headline}')
    run.results.append(result)


def provision(*arguments: str, keys: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PROVISION, *arguments],
        env={**os.environ, **(keys or {})},
        capture_output=True,
        text=True,
    )


# --- step 2: the my_metric check -----------------------------------------------------------------


def check_step(run: Run, step: int) -> StepResult:
    name, args = 'my_metric check', run.args
    say = functools.partial(progress, run, step, name)
    marker = AGENT_PYTHON_DIR / '.complete'
    if marker.exists():
        say(f'reusing {AGENT_PYTHON_DIR.relative_to(REPO_ROOT)}/ (the Agent\'s Python stand-in)')
    else:
        say('creating a virtualenv with only datadog-checks-base[deps] (the Agent\'s Python)')
        shutil.rmtree(AGENT_PYTHON_DIR, ignore_errors=True)
        create_agent_python(AGENT_PYTHON_DIR)
        marker.touch()
    agent_python = AGENT_PYTHON_DIR / 'bin' / 'python'
    wheel = build_wheel(REPO_ROOT / 'my_metric', WORK_DIR / 'dist')
    say(f'built {wheel.relative_to(REPO_ROOT)}')
    check_conf_dir = install_integration(agent_python, wheel, WORK_DIR / 'etc' / 'datadog-agent' / 'conf.d')
    where = check_conf_dir.relative_to(REPO_ROOT)
    say(f'installed it as `datadog-agent integration install -w` does, config in {where}/')
    config = check_conf_dir / 'conf.yaml'
    shutil.copyfile(args.check_config or check_conf_dir / 'conf.yaml.example', config)
    interval = QUICK_INTERVAL if args.quick else args.interval
    source = 'shortened by --quick' if args.quick else f'min_collection_interval from {config.name}'
    say(f'running it {args.runs} times, {interval:g} s apart ({source})')

    def on_run(document: dict) -> None:
        series = ', '.join(f'{p["metric"]}={p["value"]:g} tags={p["tags"]}' for p in document['series'])
        errors = f' ERRORS: {error_messages(document["errors"])}' if document['errors'] else ''
        say(f'run {document["run"]}/{args.runs} -> {series or "no series submitted"}{errors}')

    documents = run_agent_check(agent_python, config, runs=args.runs, interval=interval, on_run=on_run)
    errors = [error for document in documents for error in document['errors']]
    if errors:
        raise StepFailed(
            f'the check reported errors: {error_messages(errors)}. '
            f'Fix {args.check_config or config} (options in conf.yaml.example) and run again'
        )
    if len(documents) < args.runs:
        raise StepFailed(f'the check stopped after {len(documents)} of {args.runs} runs')
    values = ', '.join(f'{point["value"]:g}' for document in documents for point in document['series'])
    tags = sorted({tag for document in documents for point in document['series'] for tag in point['tags']})
    headline = f'{len(documents)} runs, {interval:g} s apart (configured {args.interval:g} s): my_metric = {values}'
    return StepResult(name, headline=headline, details=[f'tags: {", ".join(tags) or "none"}'])


def error_messages(errors: list) -> str:
    lines = [(error.get('message', '') if isinstance(error, dict) else str(error)).strip() for error in errors]
    return '; '.join(dict.fromkeys(line.splitlines()[-1].strip() if line else '?' for line in lines))


# --- steps 3 and 4: APM and MySQL ----------------------------------------------------------------


@dataclass
class TourDatabase:
    """The MySQL part: skipped (and why), failed to set up (and why), or the tour's accounts ready."""

    admin: mysql.ConnectionSettings | None = None
    skip_reason: str | None = None
    failure: str | None = None
    server: mysql.ServerInfo | None = None
    agent_password: str = ''
    app_env: dict[str, str] = field(default_factory=dict)


def prepare_database(run: Run, stack: contextlib.ExitStack) -> TourDatabase:
    """Create the tour's accounts before the app starts; the stack drops them when the run ends."""
    if run.args.skip_mysql:
        return TourDatabase(skip_reason='--skip-mysql given')
    admin = mysql.admin_settings_from_env()
    reason = mysql.unreachable_reason(admin)
    if reason:
        return TourDatabase(skip_reason=reason)
    database = TourDatabase(admin, agent_password=secrets.token_urlsafe(18))
    app_password = secrets.token_urlsafe(18)
    stack.callback(
        release_accounts, run, admin, {TOUR_AGENT_USER: database.agent_password, TOUR_APP_USER: app_password}
    )
    try:
        leftovers = [user for user in (TOUR_AGENT_USER, TOUR_APP_USER) if mysql.user_exists(admin, user)]
        if leftovers:
            print(
                f'[4/{TOTAL_STEPS}] MySQL: replacing {", ".join(leftovers)} left by an earlier, killed run', flush=True
            )
        database.server = mysql.apply(admin, database.agent_password, TOUR_AGENT_USER, replace_existing=True)
        mysql.ensure_app_user(admin, TOUR_APP_USER, app_password, TOUR_DATABASE, replace_existing=True)
    except (pymysql.MySQLError, OSError) as error:
        database.failure = (
            f'creating the tour\'s accounts on {admin.address} as {admin.user} failed: {error}. '
            'Set MYSQL_ROOT_USER/MYSQL_ROOT_PASSWORD to an account that may create users, or pass --skip-mysql'
        )
        return database
    database.app_env = {
        'MYSQL_HOST': admin.host,
        'MYSQL_PORT': str(admin.port),
        'MYSQL_USER': TOUR_APP_USER,
        'MYSQL_PASSWORD': app_password,
        'MYSQL_DATABASE': TOUR_DATABASE,
    }
    return database


def release_accounts(run: Run, admin: mysql.ConnectionSettings, passwords: dict[str, str]) -> None:
    names = f'accounts {TOUR_AGENT_USER}, {TOUR_APP_USER} and database {TOUR_DATABASE}'
    removal = (
        f'.venv-local/bin/mysql-datadog-user drop --user {TOUR_AGENT_USER}; '
        f'.venv-local/bin/mysql-datadog-user drop --user {TOUR_APP_USER}; DROP DATABASE {TOUR_DATABASE}'
    )
    if run.args.keep_mysql_users:
        kept = WORK_DIR / 'mysql-tour-passwords'
        kept.touch(mode=0o600)
        kept.write_text(''.join(f'{user} {password}\n' for user, password in passwords.items()))
        run.notes.append(f'kept on {admin.address} (--keep-mysql-users): {names}; passwords in {kept}')
        run.notes.append(f'remove them with: {removal}')
        return
    try:
        for user in passwords:
            mysql.drop_user(admin, user)
        with contextlib.closing(mysql.connect(admin)) as connection, connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS `{TOUR_DATABASE}`')
    except (pymysql.MySQLError, OSError) as error:
        run.notes.append(
            f'could not remove the tour\'s {names} on {admin.address} ({error}); remove them with: {removal}'
        )
        return
    run.notes.append(f'MySQL: the tour\'s {names} were removed from {admin.address}')


def entry_spans(traces: list) -> Counter:
    """Count per (service, resource) the spans that enter a service: roots, and first spans of another service."""
    counts: Counter = Counter()
    for trace in traces:
        service_of = {span['span_id']: span.get('service') for span in trace}
        for span in trace:
            if service_of.get(span.get('parent_id')) != span.get('service'):
                counts[(span.get('service'), span.get('resource'))] += 1
    return counts


def traces_of(agent, token: str, expected: int) -> list:
    try:
        return agent.wait_for_traces(expected, token=token, timeout=30)
    except HarnessError as error:
        raise StepFailed(f'{error}; the tracer log is in {LOG_DIR / "flask-demo.log"}') from None


def apm_step(run: Run, step: int, agent, app) -> StepResult:
    name = 'APM'
    say = functools.partial(progress, run, step, name)
    say(f'APM test agent on {agent.url}, flask_demo on {app.url} (ddtrace-run gunicorn)')
    routes = [route for route in ROUTES if route != DATABASE_ROUTE]
    rounds = 1 if run.args.quick else 5
    agent.start_session('apm')
    say(f'GET {", ".join(routes)} x {rounds}')
    unexpected = {}
    for _ in range(rounds):
        for route, status in send_traffic(app, routes).items():
            if status != ROUTES[route]:
                unexpected.setdefault(route, f'{route} answered {status}, expected {ROUTES[route]}')
    traces = traces_of(agent, 'apm', len(routes) * rounds)
    lines = [f'{service}  {resource}  x {count}' for (service, resource), count in sorted(entry_spans(traces).items())]
    for line in lines:
        say(line)
    if unexpected:
        raise StepFailed(f'{"; ".join(unexpected.values())}; see {LOG_DIR / "flask-demo.log"}')
    span_total = sum(len(trace) for trace in traces)
    return StepResult(
        name, headline=f'{len(traces)} traces, {span_total} spans; per service and resource:', details=lines
    )


def mysql_step(run: Run, step: int, database: TourDatabase, agent, app) -> StepResult:
    name = 'MySQL'
    say = functools.partial(progress, run, step, name)
    if database.skip_reason:
        say(f'skipped: {database.skip_reason}')
        return StepResult(name, 'SKIPPED', database.skip_reason)
    if database.failure:
        raise StepFailed(database.failure)
    server, where = database.server, database.admin.address
    ending = 'kept (--keep-mysql-users)' if run.args.keep_mysql_users else 'dropped when the run ends'
    say(
        f'{TOUR_AGENT_USER} (the Agent user\'s grants) and {TOUR_APP_USER} (the app\'s, on database '
        f'{TOUR_DATABASE}) created on {server.flavor} {server.version_string} at {where}; {ending}',
    )
    with contextlib.closing(mysql.connect(database.admin)) as witness:
        agent_account = database.admin.as_user(TOUR_AGENT_USER, database.agent_password)
        checks = mysql.verify(agent_account, witness_thread_id=witness.thread_id())
    lines = [f'{"PASS" if check.passed else "FAIL"} {check.name}: {check.detail}' for check in checks]
    agent.start_session('db')
    status = app.get(DATABASE_ROUTE).status
    counts = entry_spans(traces_of(agent, 'db', 1))
    lines.append(
        f'GET {DATABASE_ROUTE} as {TOUR_APP_USER} -> {status}; traced: '
        + ', '.join(f'{service} {resource} x {count}' for (service, resource), count in sorted(counts.items()))
    )
    for line in lines:
        say(line)
    failed = [check.name for check in checks if not check.passed]
    if failed:
        raise StepFailed(f'privilege checks failed: {", ".join(failed)}; see mysql_datadog_user/README.md')
    if status != 200:
        raise StepFailed(f'{DATABASE_ROUTE} answered {status}; see {LOG_DIR / "flask-demo.log"}')
    passed = f'{len(checks)}/{len(checks)} privilege checks passed'
    return StepResult(name, headline=f'{server.flavor} {server.version_string} at {where}: {passed}', details=lines)


def apm_and_mysql_steps(run: Run, stack: contextlib.ExitStack) -> None:
    database = prepare_database(run, stack)
    try:
        agent = stack.enter_context(apm_test_agent(log_path=LOG_DIR / 'apm-test-agent.log'))
        app_env = {'DD_ENV': 'local', **database.app_env}
        app = stack.enter_context(traced_app(agent.url, env=app_env, log_path=LOG_DIR / 'flask-demo.log'))
    except (OSError, RuntimeError) as error:
        message = f'could not start the test agent or the app: {error}. Logs in {LOG_DIR.relative_to(REPO_ROOT)}/'
        progress(run, 3, 'APM', f'FAILED: {message}')
        run.results.append(StepResult('APM', 'FAILED', message))
        run.results.append(StepResult('MySQL', 'SKIPPED' if database.skip_reason else 'FAILED', 'needs the app'))
        return
    run_step(run, 3, 'APM', apm_step, agent, app)
    run_step(run, 4, 'MySQL', mysql_step, database, agent, app)


# --- step 5: the Datadog assets ------------------------------------------------------------------


def assets_step(run: Run, step: int) -> StepResult:
    name, args = 'Datadog assets', run.args
    say = functools.partial(progress, run, step, name)
    if run.plan_exit != 0:
        raise StepFailed(
            f'validation failed (exit {run.plan_exit}):\n{run.plan}\nFix the assets under my_metric/assets/'
        )
    plan_file = WORK_DIR / 'provisioning-plan.txt'
    plan_file.write_text(run.plan)
    lines = [line for line in run.plan.splitlines() if line.startswith(('OK:', 'Plan', '=='))]
    for line in lines:
        say(line)
    say(f'full plan with payloads in {plan_file.relative_to(REPO_ROOT)}')
    lines += draw_pictures(run, say)
    if not args.apply:
        return StepResult(name, headline='validated; plan printed (dry run, nothing sent)', details=lines)
    say(f'applying for real to {os.environ.get("DD_SITE", "datadoghq.com")}, notifying {args.notify}')
    applied = provision(*provisioning_options(args), keys=run.keys)
    output = (applied.stdout + applied.stderr).strip().splitlines()
    for line in output:
        say(line)
    if applied.returncode != 0:
        raise StepFailed(
            f'apply failed (exit {applied.returncode}); the message above says why. Running it again is safe'
        )
    return StepResult(name, headline='validated and applied', details=lines + output[-3:])


def draw_pictures(run: Run, say) -> list[str]:
    """The downtime week and one simulated day of the monitor, drawn by my-metric-provision side by side."""
    timezone = ['--timezone', run.args.timezone] if run.args.timezone is not None else []
    check_config = ['--check-config', str(run.args.check_config)] if run.args.check_config else []
    pictures = {
        'downtime week': ('downtime-calendar.png', ['calendar']),
        'forecast day': ('forecast-day.png', ['forecast', *check_config]),
    }
    with contextlib.ExitStack() as drawing:
        processes = {}
        for what, (picture, command) in pictures.items():
            arguments = [*PROVISION, *timezone, *command, '--output', str(WORK_DIR / picture)]
            processes[what] = drawing.enter_context(
                subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            )
            drawing.callback(processes[what].kill)  # runs before the wait: an interruption does not wait for them
        outputs = {what: process.communicate()[0].strip() for what, process in processes.items()}
    lines = []
    for what, (picture, _) in pictures.items():
        if processes[what].returncode != 0:
            raise StepFailed(f'drawing the {what} failed (exit {processes[what].returncode}): {outputs[what]}')
        lines.append(f'picture of the {what}: {(WORK_DIR / picture).relative_to(REPO_ROOT)}')
        say(lines[-1])
    return lines


def provisioning_options(args: argparse.Namespace, *, dry_run: bool = False) -> list[str]:
    return [
        *(['--timezone', args.timezone] if args.timezone is not None else []),
        'apply',
        *(['--dry-run'] if dry_run else []),
        *(['--notify', args.notify] if args.notify is not None else []),
        *(['--api-url', args.api_url] if args.api_url else []),
    ]


# --- options, signals, summary -------------------------------------------------------------------


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='scripts/run-local', description=__doc__.splitlines()[0])
    add = parser.add_argument
    add(
        '--quick',
        action='store_true',
        help='1 s between check runs instead of min_collection_interval, one request per route',
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
    try:
        if args.check_config is not None:
            args.check_config = args.check_config.resolve()  # against the directory the user ran the command from
        args.interval = configured_interval(
            args.check_config or REPO_ROOT / 'my_metric/datadog_checks/my_metric/data/conf.yaml.example'
        )
        mysql.admin_settings_from_env()
    except ValueError as error:
        parser.error(str(error))
    return args


def configured_interval(config: Path) -> float:
    """min_collection_interval of the first instance; ValueError naming the file and the fix for a bad file."""
    example = 'init_config:\ninstances:\n  - min_collection_interval: 45'
    try:
        document = yaml.safe_load(config.read_text())
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else 'not UTF-8 text'
        raise ValueError(f'--check-config {config}: cannot read it ({reason}); give a conf.yaml file') from None
    except yaml.YAMLError as error:
        raise ValueError(
            f'--check-config {config}: not valid YAML ({" ".join(str(error).split())}); fix the syntax'
        ) from None
    instances = document.get('instances') if isinstance(document, dict) else None
    if not (isinstance(instances, list) and instances and all(isinstance(i, dict) for i in instances)):
        raise ValueError(
            f'--check-config {config}: needs a mapping with `instances:`, a list of mappings, e.g.\n{example}'
        )
    interval = instances[0].get('min_collection_interval', 15)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise ValueError(f'--check-config {config}: min_collection_interval must be a positive number of seconds')
    return float(interval)


def end_on_signals() -> None:
    """INT, TERM and HUP, and the death of the parent (as a HUP), unwind the run like an exception."""

    def stop(signum, frame):
        for ending in ENDING_SIGNALS:  # a second signal must not cut the cleanup short
            signal.signal(ending, signal.SIG_IGN)
        raise Stopped(signal.Signals(signum).name)

    for ending in ENDING_SIGNALS:
        signal.signal(ending, stop)
    parent = os.getppid()
    die_with_parent(signal.SIGHUP)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGHUP)


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
    for result in run.results:
        if result.status == 'SKIPPED':
            print(f'skipped: {result.name} - {result.headline}')
    for note in run.notes:
        print(note)
    if failed:
        print(f'RESULT: FAILED in {", ".join(failed)} (details above)')
        return 1
    print('RESULT: OK, every part that ran succeeded')
    return 0


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    run = Run(parse_arguments(argv), keys={name: os.environ.pop(name) for name in KEY_VARIABLES if name in os.environ})
    started = time.monotonic()
    try:
        end_on_signals()
        with contextlib.ExitStack() as stack:
            # ddtrace and the other children write temporary files: into the work folder, removed at the end.
            temporary = WORK_DIR / 'tmp'
            shutil.rmtree(temporary, ignore_errors=True)
            temporary.mkdir(parents=True)
            stack.callback(shutil.rmtree, temporary, ignore_errors=True)
            os.environ['TMPDIR'] = str(temporary)
            planned = provision(*provisioning_options(run.args, dry_run=True))
            run.plan, run.plan_exit = (planned.stdout + planned.stderr).strip(), planned.returncode
            if planned.returncode == 2:
                print(f'scripts/run-local: error: my-metric-provision refused the options: {run.plan}', file=sys.stderr)
                return 2
            LOG_DIR.mkdir(parents=True, exist_ok=True)
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
