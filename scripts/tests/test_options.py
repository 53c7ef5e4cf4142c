"""Every option is checked before any work starts; a mistake is one clear message and exit 2."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys

import pytest

from .common import REPO_ROOT, assert_nothing_left

KEYS = {'DD_API_KEY': secrets.token_hex(16), 'DD_APP_KEY': secrets.token_hex(20)}


def tool_error(*arguments: str) -> str:
    """The message my-metric-provision itself gives for these arguments."""
    refused = subprocess.run(
        [sys.executable, '-m', 'my_metric_provisioning', '--assets-dir', str(REPO_ROOT / 'my_metric'), *arguments],
        capture_output=True,
        text=True,
        env={},
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    [line] = [line for line in (refused.stdout + refused.stderr).splitlines() if 'error' in line]
    return line.split('error: ', 1)[1]


def assert_refused_before_any_work(run, message: str | tuple[str, ...]) -> None:
    """Exit 2 naming each fragment of ``message`` (the option given, the direction to change it), nothing started."""
    assert run.returncode == 2, run.output
    for fragment in (message,) if isinstance(message, str) else message:
        assert fragment in run.output, run.output
    assert 'Traceback' not in run.output
    assert not re.search(r'^\[\d/6\]', run.output, re.M), 'a step started before the options were checked'
    assert_nothing_left(run.marker)


@pytest.mark.parametrize(
    'flags, env, tool_arguments',
    [
        (['--timezone', 'Mars/Base'], {}, ['--timezone', 'Mars/Base', 'apply', '--dry-run']),
        (['--timezone', ''], {}, ['--timezone', '', 'apply', '--dry-run']),
        (['--notify', 'me'], {}, ['apply', '--dry-run', '--notify', 'me']),
        (['--notify', '@two handles'], {}, ['apply', '--dry-run', '--notify', '@two handles']),
        (['--apply', '--notify', 'me'], KEYS, ['apply', '--dry-run', '--notify', 'me']),
    ],
    ids=['unknown-timezone', 'empty-timezone', 'handle-without-at', 'handle-with-space', 'apply-handle-without-at'],
)
def test_a_value_the_provisioning_tool_refuses_fails_first_with_its_message(run_local, flags, env, tool_arguments):
    run = run_local('--quick', *flags, env=env)

    assert_refused_before_any_work(run, tool_error(*tool_arguments))
    for key in KEYS.values():
        assert key not in run.output


@pytest.mark.parametrize(
    'flags, env, message',
    [
        (['--runs', '0'], {}, ('--runs 0', '1 to 1000', 'give 1 or more')),
        (['--runs', '1001'], {}, ('--runs 1001', '1 to 1000', 'give fewer')),
        (['--api-url', 'ftp://example.com', '--apply', '--notify', '@me'], KEYS, "--api-url 'ftp://example.com'"),
        (['--api-url', 'http://127.0.0.1:9'], {}, '--api-url is only used with --apply'),
        (['--runs', 'many'], {}, "argument --runs: invalid int value: 'many'"),
        (['--apply', '--notify', '@someone'], {}, 'DD_API_KEY and DD_APP_KEY'),
        (['--apply'], KEYS, '--apply needs --notify @handle'),
        ([], {'MYSQL_PORT': 'mysql'}, "MYSQL_PORT must be a TCP port number (1-65535), not 'mysql'"),
    ],
    ids=[
        'zero-runs',
        'too-many-runs',
        'api-url-not-http',
        'api-url-without-apply',
        'runs-not-a-number',
        'apply-without-keys',
        'apply-without-notify',
        'bad-mysql-port',
    ],  # fmt: skip
)
def test_a_bad_option_fails_first_with_what_to_change(run_local, flags, env, message):
    run = run_local('--quick', *flags, env=env)

    assert_refused_before_any_work(run, message)


@pytest.mark.parametrize(
    'content, message',
    [
        ('instances: [\n  - min_value: 1\n', 'not valid YAML'),
        ('- min_value: 1\n- max_value: 2\n', 'needs a mapping with `instances:`, a list of mappings'),
        ('init_config:\ninstances: foo\n', 'needs a mapping with `instances:`, a list of mappings'),
        ('init_config:\n', 'needs a mapping with `instances:`, a list of mappings'),
        ('instances:\n  - min_collection_interval: soon\n', 'instances[0].min_collection_interval is'),
        (b'\xff\xfe bad bytes', 'cannot read it'),
    ],
    ids=[
        'invalid-yaml',
        'top-level-list',
        'instances-not-a-list',
        'no-instances',
        'interval-text',
        'not-utf8',
    ],
)
def test_a_broken_check_config_names_the_file_and_the_fix(run_local, tmp_path, content, message):
    config = tmp_path / 'conf.yaml'
    config.write_bytes(content if isinstance(content, bytes) else content.encode())

    run = run_local('--check-config', 'conf.yaml', cwd=tmp_path)

    assert_refused_before_any_work(run, f'--check-config {config}: {message}')


@pytest.mark.parametrize('kind', ['missing', 'directory'])
def test_a_check_config_that_is_not_a_file_names_the_path(run_local, tmp_path, kind):
    path = tmp_path / 'conf.yaml'
    if kind == 'directory':
        path.mkdir()

    run = run_local('--check-config', 'conf.yaml', cwd=tmp_path)

    reason = 'No such file or directory' if kind == 'missing' else 'Is a directory'
    assert_refused_before_any_work(run, f'--check-config {path}: cannot read it ({reason}); give a conf.yaml file')


def test_apply_passes_the_keys_to_the_tool_only_and_shows_its_failure(run_local, forbidding_datadog_api):
    api_url, received = forbidding_datadog_api

    run = run_local(
        '--quick', '--runs', '1', '--skip-mysql', '--apply', '--notify', '@team-challenge',
        '--api-url', api_url, env=KEYS,
    )  # fmt: skip

    assert run.returncode == 1, run.output
    # The URL the requests go to, not the Datadog site they would otherwise reach.
    applying = f'[5/6] Datadog assets: applying for real to {api_url}, notifying @team-challenge'
    assert applying in run.output.splitlines(), run.output
    assert re.search(r'^Datadog assets +FAILED +apply failed \(exit 3\)', run.summary(), re.M), run.summary()
    # The keys reached the tool's requests, and the tool's own output is shown, saying why it stopped.
    assert received, 'the tool sent no request'
    assert {'DD-API-KEY': KEYS['DD_API_KEY'], 'DD-APPLICATION-KEY': KEYS['DD_APP_KEY']} in received
    assert re.search(r'^\[5/6\] Datadog assets: .*403 Forbidden.*DD_APP_KEY', run.output, re.M), run.output
    for key in KEYS.values():
        assert key not in run.output
    assert_nothing_left(run.marker)


def test_the_interval_is_read_as_the_agent_reads_it_and_init_config_named(run_local, tmp_path):
    config = tmp_path / 'conf.yaml'
    config.write_text('init_config:\n  min_collection_interval: 45\ninstances:\n  - {}\n')

    run = run_local('--runs', '1', '--skip-mysql', '--check-config', str(config))

    assert run.returncode == 0, run.output
    check = [line for line in run.summary().splitlines() if line.startswith('my_metric check')]
    assert check and '(configured 15 s)' in check[0], run.summary()
    assert re.search(r'^\[2/6\] my_metric check: note: .*init_config\.min_collection_interval', run.output, re.M)
