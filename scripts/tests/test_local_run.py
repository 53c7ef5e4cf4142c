"""scripts/run-local end to end, in a subprocess: summary, exit code, what a run leaves behind."""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import subprocess

from agent_standin import free_ports

import mysql_datadog_user

from .common import REPO_ROOT, admin_settings, assert_nothing_left, mysql_unreachable_reason


def summary_line(summary: str, part: str) -> str:
    [line] = [line for line in summary.splitlines() if line.startswith(part)]
    return line


def test_quick_run_succeeds_and_leaves_nothing_behind(run_local, tmp_path):
    # ddtrace (remote configuration) leaves an empty file per process in the temporary directory.
    system_tmp = tmp_path / 'tmp'
    system_tmp.mkdir()

    run = run_local('--quick', env={'TMPDIR': str(system_tmp)})

    assert run.returncode == 0, run.output
    summary = run.summary()
    check = summary_line(summary, 'my_metric check')
    assert re.search(r'OK +3 runs, 1 s apart \(configured 45 s\): my_metric = \d+, \d+, \d+$', check), check
    assert all(0 <= int(value) <= 1000 for value in check.rsplit('= ', 1)[1].split(', '))
    assert re.search(r'^APM +OK +\d+ traces', summary, re.M), summary
    for resource in ('GET /', 'GET /api/apm', 'GET /api/trace', 'GET /api/error', 'GET 404'):
        assert re.search(rf'flask_demo  {re.escape(resource)}  x 1$', summary, re.M), resource
    if mysql_unreachable_reason() is None:
        assert re.search(r'^MySQL +OK +.*8/8 privilege checks passed', summary, re.M), summary
        assert re.search(r'GET /api/db as flask_demo_tour_[0-9a-f]{8} -> 200', summary)
        assert 'pymysql SELECT VERSION() x 1' in summary
        assert re.search(
            r"the tour's accounts datadog_tour_\w+, flask_demo_tour_\w+ and database \w+ were removed", summary
        )
    assert re.search(r'^Datadog assets +OK +validated; plan printed \(dry run, nothing sent\)', summary, re.M)
    assert '== monitor ==' in summary
    folder = REPO_ROOT / re.search(r'working files in (\.local-run/run-[0-9a-f]{8})/', run.output).group(1)
    for name, what in (('downtime-calendar.png', 'downtime week'), ('forecast-rates.png', 'notification forecast')):
        assert f'picture of the {what}: {folder.relative_to(REPO_ROOT)}/{name}' in summary
        assert (folder / name).read_bytes().startswith(b'\x89PNG\r\n\x1a\n')
    assert 'RESULT: OK' in summary
    # Progress is printed as it goes, step by step, before the summary.
    assert re.search(r'^\[2/6\] my_metric check: run 1/3 -> my_metric=\d+ tags=\[\]$', run.output, re.M)
    assert_nothing_left(run.marker)
    assert sorted(path.name for path in system_tmp.iterdir()) == []
    assert list(folder.glob('tmp-*')) == []


def test_unreachable_mysql_is_one_skip_line_and_exit_0(run_local):
    [port] = free_ports()
    run = run_local('--quick', '--runs', '1', env={'MYSQL_PORT': str(port)})

    assert run.returncode == 0, run.output
    mysql_progress = [line for line in run.output.splitlines() if line.startswith('[4/6] MySQL')]
    assert len(mysql_progress) == 1, mysql_progress
    assert mysql_progress[0].startswith(f'[4/6] MySQL: skipped: MySQL/MariaDB at 127.0.0.1:{port}: connection refused')
    assert re.search(r'^MySQL +SKIPPED +MySQL/MariaDB at 127\.0\.0\.1:\d+: connection refused', run.summary(), re.M)
    assert 'RESULT: OK' in run.summary()
    assert_nothing_left(run.marker)


def test_an_admin_account_that_cannot_log_in_over_tcp_is_a_skip_with_the_fix(run_local, requires_mysql):
    # A stock server's root logs in only through the unix socket; an account identified the same way
    # stands in for it (the real root is not touched).
    admin, socket_user = admin_settings(), f'tour_socket_{secrets.token_hex(3)}'
    with contextlib.closing(mysql_datadog_user.connect(admin)) as connection, connection.cursor() as cursor:
        cursor.execute('CREATE USER %s@%s IDENTIFIED VIA unix_socket', (socket_user, '%'))
    try:
        expected = mysql_datadog_user.unreachable_reason(admin.as_user(socket_user, ''))
        run = run_local('--quick', '--runs', '1', env={'MYSQL_ROOT_USER': socket_user, 'MYSQL_ROOT_PASSWORD': ''})
    finally:
        mysql_datadog_user.drop_user(admin, socket_user)

    assert run.returncode == 0, run.output
    assert expected and 'MYSQL_ROOT_USER' in expected
    assert f'[4/6] MySQL: skipped: {expected}' in run.output
    assert summary_line(run.summary(), 'MySQL').split()[:2] == ['MySQL', 'SKIPPED']
    assert 'RESULT: OK' in run.summary()


def test_failing_check_names_the_step_and_the_config_given_relative_to_the_callers_directory(run_local, tmp_path):
    (tmp_path / 'configs').mkdir()
    bad_config = tmp_path / 'configs' / 'conf.yaml'
    bad_config.write_text('init_config:\ninstances:\n  - min_value: 10\n    max_value: 5\n')

    run = run_local('--quick', '--runs', '1', '--skip-mysql', '--check-config', 'configs/conf.yaml', cwd=tmp_path)

    assert run.returncode == 1, run.output
    check = summary_line(run.summary(), 'my_metric check')
    assert 'FAILED' in check
    assert 'must not be greater than `max_value`' in check
    assert f'Fix {bad_config}' in check
    assert 'RESULT: FAILED in my_metric check' in run.summary()
    assert_nothing_left(run.marker)


def test_help_is_printed_without_running_the_setup(tmp_path):
    # A checkout without .venv-local: the setup would create it (minutes); --help must not.
    scripts = tmp_path / 'scripts'
    shutil.copytree(REPO_ROOT / 'scripts', scripts, ignore=shutil.ignore_patterns('tests', '__pycache__'))

    for flag in ('--help', '-h'):
        shown = subprocess.run(
            [str(scripts / 'run-local'), '--quick', flag], capture_output=True, text=True, timeout=60, cwd=tmp_path
        )

        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert shown.stdout.startswith('usage: scripts/run-local')
        for option in ('--quick', '--check-config', '--keep-mysql-users', '--apply', '--notify', '--timezone'):
            assert option in shown.stdout
        assert '[setup]' not in shown.stdout + shown.stderr
    assert not (tmp_path / '.venv-local').exists()
