"""scripts/run-local end to end, in a subprocess: summary, exit code, no process left behind."""

from __future__ import annotations

import importlib.util
import re
import secrets
import signal
import time

import pytest
from conftest import REPO_ROOT, closed_port, leftovers_after, mysql_reachable


def assert_nothing_left(marker: str) -> None:
    leftovers = leftovers_after(marker)
    assert not leftovers, 'processes outlived the run:\n' + '\n'.join(leftovers)


def summary_line(summary: str, part: str) -> str:
    [line] = [line for line in summary.splitlines() if line.startswith(part)]
    return line


def test_quick_run_succeeds_and_leaves_nothing_running(run_local):
    run = run_local('--quick')

    assert run.returncode == 0, run.output
    summary = run.summary()
    check = summary_line(summary, 'my_metric check')
    assert re.search(r'OK +3 runs, 1 s apart \(configured 45 s\): my_metric = \d+, \d+, \d+$', check), check
    assert all(0 <= int(value) <= 1000 for value in check.rsplit('= ', 1)[1].split(', '))
    assert re.search(r'^APM +OK +\d+ traces', summary, re.M), summary
    for resource in ('GET /', 'GET /api/apm', 'GET /api/trace', 'GET /api/error', 'GET 404'):
        assert re.search(rf'flask_demo  {re.escape(resource)}  x 1$', summary, re.M), resource
    if mysql_reachable():
        assert re.search(r'^MySQL +OK +.*7/7 privilege checks passed', summary, re.M), summary
        assert 'pymysql SELECT VERSION() x 1' in summary
    assert re.search(r'^Datadog assets +OK +validated; plan printed \(dry run, nothing sent\)', summary, re.M)
    assert '== create or update monitor ==' in summary
    assert 'RESULT: OK' in summary
    # Progress is printed as it goes, step by step, before the summary.
    assert re.search(r'^\[2/6\] my_metric check: run 1/3 -> my_metric=\d+ tags=\[\]$', run.output, re.M)
    assert_nothing_left(run.marker)


def test_unreachable_mysql_is_one_skip_line_and_exit_0(run_local):
    port = closed_port()
    run = run_local('--quick', '--runs', '1', env={'MYSQL_PORT': str(port)})

    assert run.returncode == 0, run.output
    mysql_progress = [line for line in run.output.splitlines() if line.startswith('[4/6] MySQL')]
    assert mysql_progress == [
        f'[4/6] MySQL: skipped: no MySQL/MariaDB server reachable at 127.0.0.1:{port} '
        '(set MYSQL_HOST/MYSQL_PORT, or start one)'
    ]
    assert re.search(r'^MySQL +SKIPPED +no MySQL/MariaDB server reachable', run.summary(), re.M)
    assert 'RESULT: OK' in run.summary()
    assert_nothing_left(run.marker)


def test_failing_check_names_the_step_and_exits_non_zero(run_local, tmp_path):
    bad_config = tmp_path / 'conf.yaml'
    bad_config.write_text('init_config:\ninstances:\n  - min_value: 10\n    max_value: 5\n')

    run = run_local('--quick', '--runs', '1', '--skip-mysql', '--check-config', str(bad_config))

    assert run.returncode == 1, run.output
    check = summary_line(run.summary(), 'my_metric check')
    assert 'FAILED' in check
    assert 'must not be greater than `max_value`' in check
    assert f'Fix {bad_config}' in check
    assert 'RESULT: FAILED in my_metric check' in run.summary()
    assert_nothing_left(run.marker)


@pytest.mark.parametrize('signal_to_send', [signal.SIGINT])
def test_ctrl_c_midway_stops_everything(started_run, signal_to_send):
    process, marker = started_run('--quick', '--runs', '1', '--skip-mysql')
    seen = []
    # Interrupt once the test agent and the app are up: the most processes are alive then.
    for line in process.stdout:
        seen.append(line)
        if line.startswith('[3/6] APM: APM test agent on'):
            break
    else:
        pytest.fail('the run ended before starting the APM part:\n' + ''.join(seen))
    time.sleep(0.5)
    process.send_signal(signal_to_send)
    rest, _ = process.communicate(timeout=60)

    assert process.returncode != 0
    assert 'interrupted during step 3/6 APM' in rest, rest
    assert 'summary (' not in rest
    assert_nothing_left(marker)


def test_apply_without_keys_names_the_variables(run_local):
    run = run_local('--apply', '--notify', '@someone')

    assert run.returncode == 2
    assert 'DD_API_KEY and DD_APP_KEY' in run.output
    assert_nothing_left(run.marker)


def load_fake_datadog():
    """provisioning's request-level stand-in for the Datadog API (its tests use the same server)."""
    path = REPO_ROOT / 'provisioning' / 'tests' / 'fake_datadog.py'
    spec = importlib.util.spec_from_file_location('fake_datadog', path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FakeDatadog


def test_apply_creates_each_asset_once_and_never_prints_the_keys(run_local):
    keys = {'DD_API_KEY': secrets.token_hex(16), 'DD_APP_KEY': secrets.token_hex(20)}
    flags = ('--quick', '--skip-mysql', '--apply', '--notify', '@team-challenge')

    with load_fake_datadog()() as fake:
        runs = [run_local(*flags, '--api-url', fake.url, env=keys) for _ in range(2)]

        assert len(fake.dashboards) == 1
        assert len(fake.monitors) == 1
        assert len(fake.active_downtimes()) == 2
        [monitor] = fake.monitors.values()
        assert '@team-challenge' in monitor['message']
        assert {headers.get('DD-API-KEY') for headers in fake.headers_seen} == {keys['DD_API_KEY']}

    for run in runs:
        assert run.returncode == 0, run.output
        assert re.search(r'^Datadog assets +OK +validated and applied', run.summary(), re.MULTILINE), run.summary()
        for key in keys.values():
            assert key not in run.output
        assert_nothing_left(run.marker)
