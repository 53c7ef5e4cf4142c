"""The whole my_metric integration working locally: no Docker, no Datadog account.

Started by ``scripts/run-local``, which prepares ``.venv-local/`` (Python 3.13, flask_demo,
provisioning, the APM test agent) and runs this file in it. Six steps, with progress as they go:

1. setup: the local virtualenv and the working directory ``.local-run/``;
2. my_metric check: build the wheel, install it into a virtualenv holding only
   ``datadog-checks-base[deps]`` (the Agent's embedded Python), run it as ``datadog-agent check``;
3. APM: Datadog's APM test agent and flask_demo (gunicorn + ddtrace-run) on free loopback ports,
   a request to every route, the traces read back;
4. MySQL: when a server answers, the least-privilege ``datadog`` user set up and verified, and the
   database route exercised as that user; otherwise one line saying why not;
5. Datadog assets: dashboard, monitor and downtimes validated, the provisioning plan printed
   (``--apply --notify @handle`` with DD_API_KEY/DD_APP_KEY applies it for real);
6. summary; the exit code is 0 only when every part that ran succeeded.

Every process started here is stopped on exit, on Ctrl-C and when a step fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SCRIPTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCRIPTS_DIR.parent
sys.path[:0] = [str(SCRIPTS_DIR), str(REPO_ROOT / 'deploy' / 'mysql')]

import agent_install  # noqa: E402  (scripts/)
import datadog_user  # noqa: E402  (deploy/mysql/)
import pymysql  # noqa: E402

from flask_demo.harness import (  # noqa: E402
    ROUTES,
    HarnessError,
    apm_test_agent,
    send_traffic,
    spans_by_service_and_resource,
    traced_app,
)

WORK_DIR = REPO_ROOT / '.local-run'
DIST_DIR = WORK_DIR / 'dist'
AGENT_PYTHON_DIR = WORK_DIR / 'agent-python'
AGENT_PYTHON_BASELINE = AGENT_PYTHON_DIR / 'base-freeze.txt'
CONF_D = WORK_DIR / 'etc' / 'datadog-agent' / 'conf.d'
LOG_DIR = WORK_DIR / 'logs'
PLAN_FILE = WORK_DIR / 'provisioning-plan.txt'
DATADOG_PASSWORD_FILE = WORK_DIR / 'mysql-datadog-password'

WHEEL_DISTRIBUTION = 'datadog-my-metric'
AGENT_DEFAULT_INTERVAL = 15
QUICK_INTERVAL = 1.0
DATABASE_ROUTE = '/api/db'
TOTAL_STEPS = 6
KEY_VARIABLES = ('DD_API_KEY', 'DD_APP_KEY')


class StepFailed(Exception):
    """A step could not do its job; the message says what went wrong and what to do."""


class Interrupted(BaseException):
    """SIGTERM received; handled like Ctrl-C."""


@dataclass
class StepResult:
    name: str
    status: str = 'OK'  # OK, FAILED or SKIPPED
    headline: str = ''
    details: list[str] = field(default_factory=list)


# The step being run, for the message printed on Ctrl-C.
current_step = {'name': 'setup'}


def progress(step: int, name: str, message: str) -> None:
    current_step['name'] = f'{step}/{TOTAL_STEPS} {name}'
    print(f'[{step}/{TOTAL_STEPS}] {name}: {message}', flush=True)


# --- processes -----------------------------------------------------------------------------------


def descendant_pids(root: int) -> list[int]:
    """Every live process below ``root`` in the process tree, children before their parents' siblings."""
    children: dict[int, list[int]] = {}
    for stat_path in Path('/proc').glob('[0-9]*/stat'):
        try:
            stat = stat_path.read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses; the fields after the last ')' do not.
        parent = int(stat.rsplit(')', 1)[1].split()[1])
        children.setdefault(parent, []).append(int(stat_path.parent.name))
    found, pending = [], [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def stop_descendants(grace: float = 5.0) -> None:
    """SIGTERM every process this run started that is still alive, then SIGKILL what remains."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = descendant_pids(os.getpid())
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and descendant_pids(os.getpid()):
            with contextlib.suppress(ChildProcessError):
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            time.sleep(0.05)


def raise_interrupted(signum, frame):
    raise Interrupted()


# --- step 1: setup -------------------------------------------------------------------------------


def setup_step(step: int) -> StepResult:
    name = 'setup'
    for directory in (DIST_DIR, CONF_D, LOG_DIR):
        directory.mkdir(parents=True, exist_ok=True)
    python = f'Python {sys.version.split()[0]}'
    progress(step, name, f'{python} in {Path(sys.prefix).name}/, working files in {WORK_DIR.name}/')
    return StepResult(name, headline=f'{python}, {Path(sys.prefix).name}/ and {WORK_DIR.name}/ ready')


# --- step 2: the my_metric check -----------------------------------------------------------------


def pip_freeze(python: Path) -> str:
    return subprocess.run(
        [str(python), '-m', 'pip', 'freeze', '--disable-pip-version-check', '--exclude', WHEEL_DISTRIBUTION],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def agent_python_is_clean() -> bool:
    """True when the agent-python venv holds exactly what it held right after creation (plus our wheel)."""
    python = AGENT_PYTHON_DIR / 'bin' / 'python'
    if not (python.exists() and AGENT_PYTHON_BASELINE.exists()):
        return False
    try:
        return pip_freeze(python) == AGENT_PYTHON_BASELINE.read_text()
    except (subprocess.CalledProcessError, OSError):
        return False


def ensure_agent_python(step: int, name: str) -> Path:
    if agent_python_is_clean():
        progress(step, name, f'reusing {AGENT_PYTHON_DIR.relative_to(REPO_ROOT)}/ (only datadog-checks-base[deps])')
        return AGENT_PYTHON_DIR / 'bin' / 'python'
    progress(step, name, 'creating a virtualenv with only datadog-checks-base[deps] (the Agent\'s Python; ~40 s)')
    shutil.rmtree(AGENT_PYTHON_DIR, ignore_errors=True)
    python = agent_install.create_agent_python(AGENT_PYTHON_DIR)
    AGENT_PYTHON_BASELINE.write_text(pip_freeze(python))
    return python


def build_and_install_wheel(step: int, name: str, agent_python: Path) -> Path:
    for old_wheel in DIST_DIR.glob('*.whl'):
        old_wheel.unlink()
    wheel = agent_install.build_wheel(DIST_DIR)
    progress(step, name, f'built {wheel.relative_to(REPO_ROOT)}')
    check_conf_dir = agent_install.install_integration(agent_python, wheel, CONF_D)
    progress(
        step,
        name,
        f'installed it as `datadog-agent integration install -w` does, '
        f'config in {check_conf_dir.relative_to(REPO_ROOT)}/',
    )
    return check_conf_dir


def check_config_path(check_conf_dir: Path, user_config: Path | None) -> Path:
    """conf.yaml as a user would make it: the shipped example copied, or the file given with --check-config."""
    config = check_conf_dir / 'conf.yaml'
    shutil.copyfile(user_config or check_conf_dir / 'conf.yaml.example', config)
    return config


def configured_interval(config: Path) -> float:
    instances = (yaml.safe_load(config.read_text()) or {}).get('instances') or [{}]
    return float((instances[0] or {}).get('min_collection_interval', AGENT_DEFAULT_INTERVAL))


def describe_series(series: list[dict]) -> str:
    if not series:
        return 'no series submitted'
    return ', '.join(f'{point["metric"]}={point["value"]:g} tags={point["tags"]}' for point in series)


def check_step(step: int, args: argparse.Namespace) -> StepResult:
    name = 'my_metric check'
    agent_python = ensure_agent_python(step, name)
    try:
        check_conf_dir = build_and_install_wheel(step, name, agent_python)
    except (subprocess.CalledProcessError, ValueError) as error:
        raise StepFailed(f'building or installing the wheel failed ({error}); see the pip output above') from None
    config = check_config_path(check_conf_dir, args.check_config)
    configured = configured_interval(config)
    interval = QUICK_INTERVAL if args.quick else configured
    source = 'shortened by --quick' if args.quick else f'min_collection_interval from {config.name}'
    progress(step, name, f'running it {args.runs} times, {interval:g} s apart ({source})')

    def on_run(document: dict) -> None:
        outcome = describe_series(document['series'])
        if document['errors']:
            outcome += f' ERRORS: {error_messages(document["errors"])}'
        progress(step, name, f'run {document["run"]}/{args.runs} -> {outcome}')

    documents = agent_install.run_agent_check(agent_python, config, runs=args.runs, interval=interval, on_run=on_run)
    return check_result(name, documents, args.runs, interval, configured, args.check_config or config)


def error_messages(errors: list) -> str:
    messages = []
    for error in errors:
        message = error.get('message', str(error)) if isinstance(error, dict) else str(error)
        last_line = message.strip().splitlines()[-1].strip() if message.strip() else '?'
        if last_line not in messages:
            messages.append(last_line)
    return '; '.join(messages)


def check_result(
    name: str, documents: list[dict], runs: int, interval: float, configured: float, config: Path
) -> StepResult:
    errors = [error for document in documents for error in document['errors']]
    if errors:
        raise StepFailed(
            f'the check reported errors: {error_messages(errors)}. '
            f'Fix {config} (options in conf.yaml.example) and run again'
        )
    if len(documents) < runs:
        raise StepFailed(f'the check stopped after {len(documents)} of {runs} runs; see its traceback above')
    values = [f'{point["value"]:g}' for document in documents for point in document['series']]
    tags = sorted({tag for document in documents for point in document['series'] for tag in point['tags']})
    headline = (
        f'{len(documents)} runs, {interval:g} s apart (configured {configured:g} s): my_metric = {", ".join(values)}'
    )
    return StepResult(name, headline=headline, details=[f'tags: {", ".join(tags) or "none"}'])


# --- steps 3 and 4: APM and MySQL ----------------------------------------------------------------


@dataclass
class MysqlPlan:
    """Whether the database part runs, where, and as whom the app connects."""

    admin: datadog_user.ConnectionSettings
    datadog_password: str
    password_source: str
    skip_reason: str | None


def mysql_plan(args: argparse.Namespace) -> MysqlPlan:
    admin = datadog_user.admin_settings_from_env()
    password, source = datadog_password()
    skip_reason = None
    if args.skip_mysql:
        skip_reason = '--skip-mysql given'
    elif not port_answers(admin.host, admin.port):
        skip_reason = (
            f'no MySQL/MariaDB server reachable at {admin.host}:{admin.port} (set MYSQL_HOST/MYSQL_PORT, or start one)'
        )
    return MysqlPlan(admin, password, source, skip_reason)


def datadog_password() -> tuple[str, str]:
    """(password, where it comes from): DD_MYSQL_PASSWORD, else one generated once and kept in .local-run/."""
    if os.environ.get('DD_MYSQL_PASSWORD'):
        return os.environ['DD_MYSQL_PASSWORD'], 'from DD_MYSQL_PASSWORD'
    if not DATADOG_PASSWORD_FILE.exists():
        DATADOG_PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(DATADOG_PASSWORD_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, 'w') as file:
            file.write(secrets.token_urlsafe(18))
    where = DATADOG_PASSWORD_FILE.relative_to(REPO_ROOT)
    return DATADOG_PASSWORD_FILE.read_text().strip(), f'generated, kept in {where} (or set DD_MYSQL_PASSWORD)'


def port_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def app_environment(plan: MysqlPlan) -> dict[str, str]:
    # The database route only runs SELECT VERSION() and counts information_schema.SCHEMATA, which
    # the least-privilege datadog user may do, so the app never gets the root credentials.
    return {
        'DD_ENV': 'local',
        'MYSQL_HOST': plan.admin.host,
        'MYSQL_PORT': str(plan.admin.port),
        'MYSQL_USER': datadog_user.DATADOG_USER,
        'MYSQL_PASSWORD': plan.datadog_password,
    }


def entry_spans(traces: list) -> Counter:
    """Count per (service, resource) the spans that enter a service: roots, and first spans of another service."""
    counts: Counter = Counter()
    for trace in traces:
        service_of = {span['span_id']: span.get('service') for span in trace}
        for span in trace:
            if service_of.get(span.get('parent_id')) != span.get('service'):
                counts[(span.get('service'), span.get('resource'))] += 1
    return counts


def describe_spans(counts: Counter) -> list[str]:
    return [f'{service}  {resource}  x {count}' for (service, resource), count in sorted(counts.items())]


def request_routes(app, routes: list[str], rounds: int) -> list[str]:
    """GET each route ``rounds`` times; describe every route that answered another status than expected."""
    unexpected: dict[str, int] = {}
    for _ in range(rounds):
        for route, status in send_traffic(app, routes).items():
            if status != ROUTES[route]:
                unexpected.setdefault(route, status)
    return [f'{route} answered {status}, expected {ROUTES[route]}' for route, status in unexpected.items()]


def traces_of(agent, token: str, expected: int) -> list:
    try:
        return agent.wait_for_traces(expected, token=token, timeout=30)
    except HarnessError as error:
        raise StepFailed(f'{error}; the tracer log is in {LOG_DIR / "flask-demo.log"}') from None


def apm_step(step: int, args: argparse.Namespace, agent, app) -> StepResult:
    name = 'APM'
    progress(step, name, f'APM test agent on {agent.url}, flask_demo on {app.url} (ddtrace-run gunicorn)')
    routes = [route for route in ROUTES if route != DATABASE_ROUTE]
    rounds = 1 if args.quick else 5
    agent.start_session('apm')
    progress(step, name, f'GET {", ".join(routes)} x {rounds}')
    unexpected = request_routes(app, routes, rounds)
    traces = traces_of(agent, 'apm', len(routes) * rounds)
    counts = entry_spans(traces)
    for line in describe_spans(counts):
        progress(step, name, line)
    if unexpected:
        raise StepFailed(f'{"; ".join(unexpected)}; see {LOG_DIR / "flask-demo.log"}')
    span_total = sum(spans_by_service_and_resource(traces).values())
    headline = f'{len(traces)} traces, {span_total} spans; per service and resource:'
    return StepResult(name, headline=headline, details=describe_spans(counts))


def verify_datadog_user(plan: MysqlPlan) -> list:
    """Run the privilege checks; an open admin session is the other user's thread PROCESS must reveal."""
    datadog = datadog_user.datadog_settings(plan.admin, plan.datadog_password)
    with contextlib.closing(datadog_user.connect(plan.admin)) as witness:
        return datadog_user.verify(datadog, witness_thread_id=witness.thread_id())


def mysql_step(step: int, args: argparse.Namespace, plan: MysqlPlan, agent, app) -> StepResult:
    name = 'MySQL'
    if plan.skip_reason:
        progress(step, name, f'skipped: {plan.skip_reason}')
        return StepResult(name, 'SKIPPED', plan.skip_reason)
    where = f'{plan.admin.host}:{plan.admin.port}'
    try:
        server = datadog_user.apply(plan.admin, plan.datadog_password)
        progress(
            step,
            name,
            f'datadog user set up on {server.flavor} {server.version_string} at {where}; '
            f'password {plan.password_source}',
        )
        checks = verify_datadog_user(plan)
    except (pymysql.MySQLError, OSError) as error:
        raise StepFailed(
            f'setting up the datadog user on {where} as {plan.admin.user} failed: {error}. '
            'Set MYSQL_ROOT_USER/MYSQL_ROOT_PASSWORD to an admin account, or pass --skip-mysql'
        ) from None
    check_lines = [f'{"PASS" if check.passed else "FAIL"} {check.name}: {check.detail}' for check in checks]
    for line in check_lines:
        progress(step, name, line)
    agent.start_session('db')
    status = app.get(DATABASE_ROUTE).status
    counts = entry_spans(traces_of(agent, 'db', 1))
    route_line = f'GET {DATABASE_ROUTE} as datadog -> {status}; traced: ' + ', '.join(
        f'{service} {resource} x {count}' for (service, resource), count in sorted(counts.items())
    )
    progress(step, name, route_line)
    failed = [check.name for check in checks if not check.passed]
    if failed:
        raise StepFailed(f'privilege checks failed: {", ".join(failed)}; see deploy/README.md section 1')
    if status != 200:
        raise StepFailed(f'{DATABASE_ROUTE} answered {status}; see {LOG_DIR / "flask-demo.log"}')
    passed = f'{len(checks)}/{len(checks)} privilege checks passed'
    return StepResult(
        name,
        headline=f'{server.flavor} {server.version_string} at {where}: {passed}',
        details=check_lines + [route_line],
    )


# --- step 5: provisioning ------------------------------------------------------------------------


def provision(arguments: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, '-m', 'my_metric_provisioning', *arguments],
        env=env,
        capture_output=True,
        text=True,
    )


def plan_headlines(output: str) -> list[str]:
    """The lines of a plan that say what would be done, without the payloads."""
    return [line for line in output.splitlines() if line.startswith(('Plan', '=='))]


def assets_step(step: int, args: argparse.Namespace, keys: dict[str, str]) -> StepResult:
    name = 'Datadog assets'
    common = ['--timezone', args.timezone] if args.timezone else []
    env_without_keys = dict(os.environ)
    validated = provision([*common, 'validate'], env_without_keys)
    validation = (validated.stdout + validated.stderr).strip()
    if validated.returncode != 0:
        raise StepFailed(
            f'validation failed (exit {validated.returncode}):\n{validation}\nFix the assets under my_metric/assets/'
        )
    progress(step, name, validation)
    notify = ['--notify', args.notify] if args.notify else []
    planned = provision([*common, 'apply', '--dry-run', *notify], env_without_keys)
    if planned.returncode != 0:
        raise StepFailed(f'apply --dry-run failed (exit {planned.returncode}): {planned.stderr.strip()}')
    PLAN_FILE.write_text(planned.stdout)
    headlines = plan_headlines(planned.stdout)
    for line in headlines:
        progress(step, name, line)
    progress(step, name, f'full plan with payloads in {PLAN_FILE.relative_to(REPO_ROOT)}')
    details = [validation, *headlines]
    if not args.apply:
        return StepResult(name, headline='validated; plan printed (dry run, nothing sent)', details=details)
    progress(step, name, f'applying for real to {os.environ.get("DD_SITE", "datadoghq.com")}, notifying {args.notify}')
    api_url = ['--api-url', args.api_url] if args.api_url else []
    applied = provision([*common, 'apply', *notify, *api_url], {**env_without_keys, **keys})
    output = (applied.stdout + applied.stderr).strip()
    for line in output.splitlines():
        progress(step, name, line)
    if applied.returncode != 0:
        raise StepFailed(
            f'apply failed (exit {applied.returncode}); the message above says why. Running it again is safe'
        )
    return StepResult(name, headline='validated and applied', details=details + output.splitlines()[-3:])


# --- the run -------------------------------------------------------------------------------------


def run_step(results: list[StepResult], step: int, name: str, function, *arguments) -> StepResult:
    """Run one step; a failure is recorded with the step's name and the run goes on with the others."""
    try:
        result = function(step, *arguments)
    except StepFailed as error:
        result = StepResult(name, 'FAILED', str(error))
    except (OSError, subprocess.CalledProcessError, RuntimeError) as error:
        result = StepResult(name, 'FAILED', f'{type(error).__name__}: {error}')
    if result.status == 'FAILED':
        progress(step, name, f'FAILED: {result.headline}')
    results.append(result)
    return result


def apm_and_mysql_steps(results: list[StepResult], args: argparse.Namespace) -> None:
    plan = mysql_plan(args)
    try:
        with (
            apm_test_agent(log_path=LOG_DIR / 'apm-test-agent.log') as agent,
            traced_app(agent.url, env=app_environment(plan), log_path=LOG_DIR / 'flask-demo.log') as app,
        ):
            run_step(results, 3, 'APM', apm_step, args, agent, app)
            run_step(results, 4, 'MySQL', mysql_step, args, plan, agent, app)
    except (OSError, RuntimeError) as error:
        message = f'{error}. Logs in {LOG_DIR.relative_to(REPO_ROOT)}/'
        progress(3, 'APM', f'FAILED: could not start the test agent or the app: {message}')
        results.append(StepResult('APM', 'FAILED', f'could not start the test agent or the app: {message}'))
        if plan.skip_reason is None:
            results.append(StepResult('MySQL', 'FAILED', 'not run: needs the app from step 3'))


def print_summary(results: list[StepResult], started: float) -> int:
    failed = [result for result in results if result.status == 'FAILED']
    skipped = [result for result in results if result.status == 'SKIPPED']
    width = max(len(result.name) for result in results)
    print(f'\n[{TOTAL_STEPS}/{TOTAL_STEPS}] summary ({time.monotonic() - started:.0f} s)', flush=True)
    print('=' * 78)
    for result in results:
        print(f'{result.name:<{width}}  {result.status:<7}  {result.headline}')
        for line in result.details:
            print(f'{"":<{width}}             {line}')
    print('=' * 78)
    for result in skipped:
        print(f'skipped: {result.name} - {result.headline}')
    if failed:
        print(f'RESULT: FAILED in {", ".join(result.name for result in failed)} (details above)')
        return 1
    print('RESULT: OK, every part that ran succeeded')
    return 0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='scripts/run-local', description=__doc__.splitlines()[0])
    parser.add_argument(
        '--quick',
        action='store_true',
        help='1 s between check runs instead of min_collection_interval, one request per route',
    )
    parser.add_argument('--runs', type=int, default=3, help='how many times to run the check (default 3)')
    parser.add_argument(
        '--check-config', type=Path, help='run the check with this conf.yaml instead of the shipped example'
    )
    parser.add_argument(
        '--skip-mysql', action='store_true', help='leave out the MySQL part even when a server is reachable'
    )
    parser.add_argument('--timezone', help='IANA timezone of the downtimes (passed to my-metric-provision)')
    parser.add_argument(
        '--apply',
        action='store_true',
        help='apply the dashboard, monitor and downtimes for real (needs DD_API_KEY, DD_APP_KEY, --notify)',
    )
    parser.add_argument('--notify', help='@handle the monitor and downtimes notify, e.g. @you@example.com')
    parser.add_argument(
        '--api-url', help='with --apply: send the API requests here instead of the site (a proxy or a test server)'
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error('--runs must be at least 1')
    if args.check_config is not None:
        if not args.check_config.is_file():
            parser.error(f'--check-config {args.check_config}: no such file')
        args.check_config = args.check_config.resolve()
    if args.apply:
        missing = [name for name in KEY_VARIABLES if not os.environ.get(name)]
        if missing:
            parser.error(
                f'--apply needs {" and ".join(KEY_VARIABLES)} in the environment; missing: {", ".join(missing)}'
            )
        if not args.notify:
            parser.error('--apply needs --notify @handle (who the monitor and downtimes notify)')
    return args


def take_keys_out_of_environment() -> dict[str, str]:
    """Keep the Datadog keys away from every child process except the provisioning apply."""
    return {name: os.environ.pop(name) for name in KEY_VARIABLES if name in os.environ}


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    args = parse_arguments(argv)
    keys = take_keys_out_of_environment()
    signal.signal(signal.SIGTERM, raise_interrupted)
    # A shell starting us in the background sets SIGINT to "ignore"; Ctrl-C / kill -INT must still stop the run.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    results: list[StepResult] = []
    try:
        run_step(results, 1, 'setup', setup_step)
        run_step(results, 2, 'my_metric check', check_step, args)
        apm_and_mysql_steps(results, args)
        run_step(results, 5, 'Datadog assets', assets_step, args, keys)
    except (KeyboardInterrupt, Interrupted):
        # A second Ctrl-C must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_descendants()
        print(
            f'\ninterrupted during step {current_step["name"]}; every process this run started has been stopped',
            flush=True,
        )
        return 130
    finally:
        stop_descendants()
    return print_summary(results, started)


if __name__ == '__main__':
    sys.exit(main())
