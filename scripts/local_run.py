"""The whole my_metric integration working locally: no Docker, no Datadog account.

Run by ``scripts/run-local`` in ``.venv-local/``. Every option is checked before any work starts;
then: 1 setup, 2 the my_metric check built, installed and run as the Agent does, 3 APM (the test
agent and flask_demo under ddtrace-run), 4 MySQL (accounts of the run's own, dropped at the end),
5 the Datadog assets (validated, planned, drawn; ``--apply`` applies them), 6 the summary.
Whatever ends the run (its end, INT, TERM, HUP, the parent's death) stops every process it started.
Runs at once do not meet: each has a work folder and MySQL accounts of its own.
The work itself is done by the repository's packages; this file only orders it and reports.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import warnings
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
# Shared by every run (made once, under a lock); all else goes into the run's own folder, WORK_DIR/run-<8 hex>.
AGENT_PYTHON_DIR = WORK_DIR / 'agent-python'
AGENT_PYTHON_LOCK = WORK_DIR / 'agent-python.lock'
EXAMPLE_CONFIG = REPO_ROOT / 'my_metric/datadog_checks/my_metric/data/conf.yaml.example'
TOTAL_STEPS = 6
QUICK_INTERVAL = 1.0
MAX_RUNS = 1000
DATABASE_ROUTE = '/api/db'
KEY_VARIABLES = ('DD_API_KEY', 'DD_APP_KEY')
DEFAULT_SITE = 'datadoghq.com'
# The run's MySQL accounts and database are named <prefix>_<8 hex> (see mysql_datadog_user.run_accounts).
TOUR_PREFIXES = {'agent_prefix': 'datadog_tour', 'app_prefix': 'flask_demo_tour', 'database_prefix': 'flask_demo_tour'}
PROVISION = [sys.executable, '-m', 'my_metric_provisioning', '--assets-dir', str(REPO_ROOT / 'my_metric')]


class RunFolder:
    """The run's own work folder, WORK_DIR/run-<8 hex>, marked alive by a lock on its .alive file while
    the run lasts; a later run removes the folders of runs that are no longer alive."""

    def __init__(self) -> None:
        WORK_DIR.mkdir(exist_ok=True)
        # One run at a time looks for dead folders and makes its own, so none is taken for dead while being made.
        with (WORK_DIR / 'folders.lock').open('w') as making:
            fcntl.flock(making, fcntl.LOCK_EX)
            self.remove_dead()
            self.path = WORK_DIR / f'run-{secrets.token_hex(4)}'
            self.path.mkdir()
            self.alive = (self.path / '.alive').open('w')
            fcntl.flock(self.alive, fcntl.LOCK_EX)
        self.logs = self.path / 'logs'
        self.logs.mkdir()
        self.app_log = self.logs / 'flask-demo.log'
        self.conf_d = self.path / 'etc' / 'datadog-agent' / 'conf.d'

    @staticmethod
    def remove_dead() -> None:
        for folder in WORK_DIR.glob('run-*'):
            with contextlib.suppress(OSError), (folder / '.alive').open('a') as alive:
                fcntl.flock(alive, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while its run is alive
                shutil.rmtree(folder)

    def relative(self, path: Path) -> Path:
        return path.relative_to(REPO_ROOT)


class StepFailed(Exception):
    """A step could not do its job; the message says what went wrong and what to do."""


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
    folder: RunFolder | None = None
    plan: subprocess.CompletedProcess | None = None  # `my-metric-provision apply --dry-run`, run first
    accounts: mysql.TemporaryAccounts | None = None  # the tour's MySQL accounts, once made
    results: list[StepResult] = field(default_factory=list)
    step: str = 'setup'
    started: float = field(default_factory=time.monotonic)


def progress(run: Run, step: int, name: str, *messages: str) -> None:
    enter(run, step, name)
    for message in messages:
        print(f'[{step}/{TOTAL_STEPS}] {name}: {message}', flush=True)


def enter(run: Run, step: int, name: str, doing: str = '') -> None:
    """Name the step under way (what an interruption reports) before its work starts."""
    run.step = f'{step}/{TOTAL_STEPS} {name}' + (f' ({doing})' if doing else '')


def run_step(run: Run, step: int, name: str, function, *arguments) -> None:
    """Run one step; a failure is recorded with the step's name and the run goes on with the others."""
    enter(run, step, name)
    try:
        result = function(run, functools.partial(progress, run, step, name), *arguments)
    except (StepFailed, harness.MissingTraces) as error:
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
    args, folder = run.args, run.folder
    reusing = f'reusing {AGENT_PYTHON_DIR.relative_to(REPO_ROOT)}/ (the Agent\'s Python stand-in)'
    creating = 'creating a virtualenv with only datadog-checks-base[deps] (the Agent\'s Python)'
    wheel = standin.build_wheel(REPO_ROOT / 'my_metric', folder.path / 'dist')
    say(f'built {folder.relative(wheel)}')
    # One stand-in for every run: it is made and the wheel installed into it by one run at a time (an
    # exclusive lock), while runs use it at once (a shared lock), so no install happens under a running check.
    with AGENT_PYTHON_LOCK.open('w') as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f'another run is using {AGENT_PYTHON_DIR.relative_to(REPO_ROOT)}/; waiting until its check runs end')
            fcntl.flock(lock, fcntl.LOCK_EX)
        say(reusing if standin.agent_python_is_complete(AGENT_PYTHON_DIR) else creating)
        agent_python = standin.create_agent_python(AGENT_PYTHON_DIR, reuse=True)
        config = standin.install_check(agent_python, wheel, folder.conf_d, args.check_config)
        fcntl.flock(lock, fcntl.LOCK_SH)
        conf_dir = folder.relative(config.parent)
        say(f'installed it as `datadog-agent integration install -w` does, config in {conf_dir}/')
        say(*(f'note: {note}' for note in args.interval_notes))
        interval = QUICK_INTERVAL if args.quick else args.interval
        source = 'shortened by --quick' if args.quick else f'min_collection_interval as the Agent reads {config.name}'
        say(f'running it {args.runs} times, {interval:g} s apart ({source})')
        on_run = lambda document: say(f'run {document["run"]}/{args.runs} -> {standin.describe_run(document)}')  # noqa: E731
        documents = standin.run_agent_check(agent_python, config, runs=args.runs, interval=interval, on_run=on_run)
    if (runs := standin.summarize_runs(documents)).errors:
        fix = f'Fix {args.check_config or config} (options in conf.yaml.example) and run again'
        raise StepFailed(f'the check reported errors: {runs.errors}. {fix}')
    if runs.count < args.runs:
        raise StepFailed(f'the check stopped after {runs.count} of {args.runs} runs')
    values = ', '.join(f'{value:g}' for value in runs.values)
    headline = f'{runs.count} runs, {interval:g} s apart (configured {args.interval:g} s): my_metric = {values}'
    return StepResult('my_metric check', headline=headline, details=[f'tags: {", ".join(runs.tags) or "none"}'])


def prepare_database(run: Run, stack: contextlib.ExitStack) -> StepResult | None:
    """The run's accounts in run.accounts (made before the app, dropped at the end); else step 4's result."""
    admin = run.args.mysql_admin
    enter(run, 4, 'MySQL', 'creating the run\'s accounts')
    if reason := '--skip-mysql given' if run.args.skip_mysql else mysql.unreachable_reason(admin):
        return StepResult('MySQL', 'SKIPPED', reason)
    try:
        accounts = mysql.run_accounts(admin, keep=run.args.keep_mysql_users, **TOUR_PREFIXES)
        run.accounts = stack.enter_context(accounts)
    except (pymysql.MySQLError, OSError, RuntimeError, mysql.AccountExists) as error:
        failure = f'creating the run\'s accounts on {admin.address} as {admin.user} failed: {error}'
        if mysql.connection.error_code(error) in mysql.verification.ACCESS_DENIED_ERRORS:
            failure += (
                '. Set MYSQL_ROOT_USER/MYSQL_ROOT_PASSWORD to an account that may create users, or pass --skip-mysql'
            )
        return StepResult('MySQL', 'FAILED', failure)
    for leftover in run.accounts.dropped_leftovers:
        print(f'[4/{TOTAL_STEPS}] MySQL: dropped {leftover}, left by a run that is no longer alive', flush=True)


def accounts_notes(run: Run) -> list[str]:
    """What became of the tour's MySQL accounts, if it made any, and how to remove what is left."""
    if (accounts := run.accounts) is None:
        return []
    names, address = accounts.description, accounts.agent.address
    removal = 'remove them with: ' + '; '.join(accounts.removal_commands('.venv-local/bin/mysql-datadog-user'))
    if accounts.kept:
        # Outside the run's folder, which a later run removes.
        passwords = accounts.save_passwords(WORK_DIR / f'mysql-passwords-{accounts.agent.user}')
        return [f'kept on {address} (--keep-mysql-users): {names}; passwords in {passwords}', removal]
    if accounts.removal_error:
        return [f'could not remove the tour\'s {names} on {address} ({accounts.removal_error}); {removal}']
    return [f'MySQL: the tour\'s {names} were removed from {address}']


def apm_step(run: Run, say, agent, app) -> StepResult:
    say(f'APM test agent on {agent.url}, flask_demo on {app.url} (ddtrace-run gunicorn)')
    routes, rounds = [route for route in harness.ROUTES if route != DATABASE_ROUTE], 1 if run.args.quick else 5
    agent.start_session('apm')
    say(f'GET {", ".join(routes)} x {rounds}')
    traffic = harness.traced_traffic(agent, app, routes, token='apm', rounds=rounds, timeout=30)
    say(*(lines := [f'{service}  {resource}  x {count}' for service, resource, count in traffic.entries]))
    if traffic.unexpected:
        raise StepFailed(f'{"; ".join(traffic.unexpected)}; see {run.folder.app_log}')
    headline = f'{len(traffic.traces)} traces, {traffic.spans} spans; per service and resource:'
    return StepResult('APM', headline=headline, details=lines)


def mysql_step(run: Run, say, unprepared: StepResult | None, agent, app) -> StepResult:
    if unprepared is not None:  # skipped, or creating the accounts failed (run_step reports that)
        if unprepared.status == 'SKIPPED':
            say(f'skipped: {unprepared.headline}')
        return unprepared
    accounts = run.accounts
    where = f'{accounts.server} at {accounts.agent.address}'
    ending = 'kept (--keep-mysql-users)' if run.args.keep_mysql_users else 'dropped when the run ends'
    created = (
        f'(the Agent user\'s grants) and {accounts.app.user} (the app\'s, on database {accounts.database}) created'
    )
    say(f'{accounts.agent.user} {created} on {where}; {ending}')
    checks = mysql.verify_with_witness(run.accounts.agent, run.args.mysql_admin)
    agent.start_session('db')
    traffic = harness.traced_traffic(agent, app, [DATABASE_ROUTE], token='db', timeout=30)
    traced = ', '.join(f'{service} {resource} x {count}' for service, resource, count in traffic.entries)
    status = traffic.statuses[DATABASE_ROUTE]
    say(*(lines := [*map(str, checks), f'GET {DATABASE_ROUTE} as {accounts.app.user} -> {status}; traced: {traced}']))
    if failed := [check.name for check in checks if not check.passed]:
        raise StepFailed(f'privilege checks failed: {", ".join(failed)}; see mysql_datadog_user/README.md')
    if status != 200:
        raise StepFailed(f'{DATABASE_ROUTE} answered {status}; see {run.folder.app_log}')
    return StepResult('MySQL', headline=f'{where}: {len(checks)}/{len(checks)} privilege checks passed', details=lines)


def apm_and_mysql_steps(run: Run, stack: contextlib.ExitStack) -> None:
    unprepared = prepare_database(run, stack)
    mysql_env = run.accounts.app_environment() if run.accounts else {}
    logs = run.folder.logs
    enter(run, 3, 'APM', 'starting the test agent and the app')
    try:
        agent = stack.enter_context(harness.apm_test_agent(log_path=logs / 'apm-test-agent.log'))
        env = {'DD_ENV': 'local', **mysql_env}
        app = stack.enter_context(harness.traced_app(agent.url, env=env, log_path=run.folder.app_log))
    except (OSError, RuntimeError) as error:
        message = f'could not start the test agent or the app: {error}. Logs in {run.folder.relative(logs)}/'
        progress(run, 3, 'APM', f'FAILED: {message}')
        skipped = unprepared is not None and unprepared.status == 'SKIPPED'
        run.results.append(StepResult('APM', 'FAILED', message))
        run.results.append(StepResult('MySQL', 'SKIPPED' if skipped else 'FAILED', 'needs the app'))
        return
    run_step(run, 3, 'APM', apm_step, agent, app)
    run_step(run, 4, 'MySQL', mysql_step, unprepared, agent, app)


def assets_step(run: Run, say) -> StepResult:
    args, plan = run.args, (run.plan.stdout + run.plan.stderr).strip()
    if exit_code := run.plan.returncode:
        raise StepFailed(f'validation failed (exit {exit_code}):\n{plan}\nFix the assets in my_metric/assets/')
    plan_file = run.folder.path / 'provisioning-plan.txt'
    plan_file.write_text(plan)
    lines = [line for line in plan.splitlines() if line.startswith(('OK:', 'Plan', '=='))]
    say(*lines, f'full plan with payloads in {run.folder.relative(plan_file)}')
    lines += draw_pictures(run, say)
    if not args.apply:
        return StepResult('Datadog assets', headline='validated; plan printed (dry run, nothing sent)', details=lines)
    say(f'applying for real to {api_destination(args)}, notifying {args.notify}')
    applied = provision(*provisioning_options(args), keys=run.keys)
    say(*(output := (applied.stdout + applied.stderr).strip().splitlines()))
    if exit_code := applied.returncode:
        raise StepFailed(f'apply failed (exit {exit_code}); the message above says why. Running it again is safe')
    return StepResult('Datadog assets', headline='validated and applied', details=lines + output[-3:])


def draw_pictures(run: Run, say) -> list[str]:
    """The downtime week and the monitor's notification rates against its thresholds, drawn side by side."""
    timezone = ['--timezone', run.args.timezone] if run.args.timezone is not None else []
    check_config = ['--check-config', str(run.args.check_config)] if run.args.check_config else []
    pictures = {'downtime week': ['calendar'], 'notification forecast': ['forecast', *check_config]}
    folder = run.folder.path
    paths = dict(zip(pictures, (folder / 'downtime-calendar.png', folder / 'forecast-rates.png'), strict=True))
    with contextlib.ExitStack() as drawing:
        processes = {}
        for what, command in pictures.items():
            processes[what] = drawing.enter_context(provisioning(*timezone, *command, '--output', str(paths[what])))
            drawing.callback(processes[what].kill)  # runs before the wait: an interruption does not wait for them
        outputs = {what: process.communicate()[0].strip() for what, process in processes.items()}
    for what, process in processes.items():
        if process.returncode != 0:
            raise StepFailed(f'drawing the {what} failed (exit {process.returncode}): {outputs[what]}')
    say(*(lines := [f'picture of the {what}: {run.folder.relative(path)}' for what, path in paths.items()]))
    return lines


def api_destination(args: argparse.Namespace) -> str:
    """Where --apply sends its requests: --api-url when given, else the Datadog site (DD_SITE)."""
    return args.api_url or f'{os.environ.get("DD_SITE") or DEFAULT_SITE} (DD_SITE)'


def provisioning_options(args: argparse.Namespace, *, dry_run: bool = False) -> list[str]:
    options = [*(['--timezone', args.timezone] if args.timezone is not None else []), 'apply']
    options += [*(['--dry-run'] if dry_run else []), *(['--notify', args.notify] if args.notify is not None else [])]
    return options + (['--api-url', args.api_url] if args.api_url else [])


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='scripts/run-local', description=__doc__.splitlines()[0])
    add, flag = parser.add_argument, functools.partial(parser.add_argument, action='store_true')
    flag('--quick', help='check runs 1 s apart (not min_collection_interval), one request per route')
    add('--runs', type=int, default=3, help=f'how many times to run the check, 1 to {MAX_RUNS} (default 3)')
    add('--check-config', type=Path, help='run the check with this conf.yaml instead of the shipped example')
    flag('--skip-mysql', help='leave out the MySQL part even when a server is reachable')
    flag('--keep-mysql-users', help='keep the run\'s MySQL accounts (named datadog_tour_kept_<hex>, ...) after it')
    add('--timezone', help='IANA timezone of the downtimes (passed to my-metric-provision)')
    flag('--apply', help='apply the assets for real (needs DD_API_KEY, DD_APP_KEY, --notify)')
    add('--notify', help='@handle the monitor and downtimes notify, e.g. @you@example.com')
    add('--api-url', help='with --apply: send the API requests here instead of the site (a proxy or a test server)')
    args = parser.parse_args(argv)
    if MISSING_MODULE is not None:
        parser.error(f'{MISSING_MODULE}; start the tour with scripts/run-local, which installs what it needs')
    if not 1 <= args.runs <= MAX_RUNS:
        direction = 'give 1 or more' if args.runs < 1 else 'give fewer (each run waits min_collection_interval)'
        parser.error(f'--runs {args.runs} is out of range: it must be 1 to {MAX_RUNS}; {direction}')
    if args.api_url is not None:
        url = urllib.parse.urlsplit(args.api_url)
        if url.scheme not in ('http', 'https') or not url.hostname:
            parser.error(f'--api-url {args.api_url!r} is not an http(s) URL; give one such as http://127.0.0.1:8080')
        if not args.apply:
            parser.error('--api-url is only used with --apply (the dry run sends nothing); add --apply or leave it out')
    if args.apply and (missing := [name for name in KEY_VARIABLES if not os.environ.get(name)]):
        parser.error(f'--apply needs {" and ".join(KEY_VARIABLES)} in the environment; missing: {", ".join(missing)}')
    if args.apply and not args.notify:
        parser.error('--apply needs --notify @handle (who the monitor and downtimes notify)')
    if args.check_config is not None:
        args.check_config = args.check_config.resolve()  # against the directory the user ran the command from
    try:
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter('always', standin.config.CheckConfigWarning)
            args.interval = standin.collection_interval(args.check_config or EXAMPLE_CONFIG)
        args.interval_notes = [str(note.message) for note in notes]
        args.mysql_admin = mysql.admin_settings_from_env()  # read once: MYSQL_HOST, MYSQL_ROOT_USER, ...
    except standin.CheckConfigError as error:
        parser.error(f'--check-config {error}')
    except ValueError as error:
        parser.error(str(error))
    return args


def print_summary(run: Run) -> int:
    failed = [result.name for result in run.results if result.status == 'FAILED']
    width = max(len(result.name) for result in run.results)
    print(f'\n[{TOTAL_STEPS}/{TOTAL_STEPS}] summary ({time.monotonic() - run.started:.0f} s)', '=' * 78, sep='\n')
    for result in run.results:
        print(f'{result.name:<{width}}  {result.status:<7}  {result.headline}')
        for line in result.details:
            print(f'{"":<{width}}             {line}')
    skips = [f'skipped: {result.name} - {result.headline}' for result in run.results if result.status == 'SKIPPED']
    verdict = f'FAILED in {", ".join(failed)} (details above)' if failed else 'OK, every part that ran succeeded'
    print('=' * 78, *skips, *accounts_notes(run), f'RESULT: {verdict}', sep='\n')
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    run = Run(parse_arguments(argv), keys={name: os.environ.pop(name) for name in KEY_VARIABLES if name in os.environ})
    try:
        harness.unwind_on_signals()
        with contextlib.ExitStack() as stack:
            run.plan = provision(*provisioning_options(run.args, dry_run=True))
            if run.plan.returncode == 2:
                refusal = (run.plan.stdout + run.plan.stderr).strip()
                print(f'scripts/run-local: error: my-metric-provision refused the options: {refusal}', file=sys.stderr)
                return 2
            run.folder = folder = RunFolder()
            stack.callback(folder.alive.close)
            # ddtrace and the other children write temporary files: into the run's folder, removed at the end.
            os.environ['TMPDIR'] = stack.enter_context(tempfile.TemporaryDirectory(prefix='tmp-', dir=folder.path))
            python, venv, work = f'Python {sys.version.split()[0]}', Path(sys.prefix).name, folder.relative(folder.path)
            progress(run, 1, 'setup', f'{python} in {venv}/, working files in {work}/ (this run\'s own)')
            run.results.append(StepResult('setup', headline=f'{python}, {venv}/ and {work}/ ready'))
            run_step(run, 2, 'my_metric check', check_step)
            apm_and_mysql_steps(run, stack)
            run_step(run, 5, 'Datadog assets', assets_step)
    except harness.Interrupted as stopped:
        stopped_all = 'every process this run started has been stopped'
        print(f'\ninterrupted by {stopped} during step {run.step}; {stopped_all}', *accounts_notes(run), sep='\n')
        return stopped.exit_status
    return print_summary(run)


if __name__ == '__main__':
    sys.exit(main())
