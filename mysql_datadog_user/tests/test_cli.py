"""mysql-datadog-user: probe | apply | verify | drop, exit codes, one-line errors, no password printed."""

import shutil
import subprocess
import sys

import pytest
from agent_standin import free_ports

from mysql_datadog_user import CHECK_NAMES, apply, user_exists
from mysql_datadog_user.cli import EXIT_ACCOUNT_EXISTS, EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE, main

from .common import create_at_hosts, fetch_grants, new_password, password_hash


@pytest.fixture
def admin_env(admin, monkeypatch):
    monkeypatch.setenv('MYSQL_HOST', admin.host)
    monkeypatch.setenv('MYSQL_PORT', str(admin.port))
    monkeypatch.setenv('MYSQL_ROOT_USER', admin.user)
    monkeypatch.setenv('MYSQL_ROOT_PASSWORD', admin.password)
    return monkeypatch


@pytest.fixture
def agent_password(monkeypatch):
    password = new_password()
    monkeypatch.setenv('DD_MYSQL_PASSWORD', password)
    return password


def test_probe_reports_the_server(admin, admin_env, capsys):
    assert main(['probe']) == 0
    out = capsys.readouterr().out
    assert out.startswith('reachable: ') and out.rstrip().endswith(f'at {admin.address} as {admin.user}')


def test_apply_verify_drop(admin, admin_env, account_name, agent_password, capsys):
    assert main(['apply', '--user', account_name]) == 0
    assert main(['verify', '--user', account_name]) == 0
    assert main(['drop', '--user', account_name]) == 0
    assert main(['drop', '--user', account_name]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(f"created '{account_name}'@'%'")
    assert [line.split(':')[0] for line in lines[1:-2]] == [f'PASS {name}' for name in CHECK_NAMES]
    assert lines[-2][:8] == 'dropped ' and f"'{account_name}'@'%'" in lines[-2]
    assert lines[-1].startswith('no account') and account_name in lines[-1]
    assert agent_password not in out
    assert not user_exists(admin, account_name)


def test_apply_leaves_an_existing_account_and_names_the_opt_in(
    admin, admin_env, account_name, agent_password, admin_conn, capsys
):
    original = new_password()
    apply(admin, original, account_name)
    grants, stored_hash = fetch_grants(admin_conn, account_name), password_hash(admin_conn, account_name)

    assert main(['apply', '--user', account_name]) == EXIT_ACCOUNT_EXISTS
    captured = capsys.readouterr()
    assert captured.out == ''
    [line] = captured.err.splitlines()
    assert account_name in line and '--replace-existing' in line and 'Traceback' not in line
    assert (fetch_grants(admin_conn, account_name), password_hash(admin_conn, account_name)) == (grants, stored_hash)

    assert main(['apply', '--user', account_name, '--replace-existing']) == 0
    assert password_hash(admin_conn, account_name) != stored_hash
    assert main(['verify', '--user', account_name]) == 0
    assert agent_password not in capsys.readouterr().out


def test_verify_with_a_wrong_password_names_where_the_password_comes_from(
    admin, admin_env, account_name, agent_password, capsys
):
    apply(admin, new_password(), account_name)
    assert main(['verify', '--user', account_name]) == EXIT_UNREACHABLE
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert 'access denied' in line and account_name in line and agent_password not in line
    assert 'DD_MYSQL_PASSWORD' in line and 'MYSQL_ROOT' not in line


def test_apply_refuses_and_names_every_account_of_the_name(admin, admin_env, account_name, agent_password, capsys):
    apply(admin, new_password(), account_name)
    create_at_hosts(admin, account_name, 'localhost')

    assert main(['apply', '--user', account_name]) == EXIT_ACCOUNT_EXISTS
    error = capsys.readouterr().err
    assert f"'{account_name}'@'%'" in error and f"'{account_name}'@'localhost'" in error


def test_verify_fails_while_another_account_of_the_name_holds_more(
    admin, admin_env, account_name, agent_password, capsys
):
    apply(admin, agent_password, account_name)
    create_at_hosts(admin, account_name, 'localhost')

    assert main(['verify', '--user', account_name]) == EXIT_FAILED
    [failed] = [line for line in capsys.readouterr().out.splitlines() if line.startswith('FAIL')]
    assert failed.startswith('FAIL same_name_accounts:') and f"'{account_name}'@'localhost'" in failed


def test_replace_existing_leaves_one_account_that_verifies(admin, admin_env, account_name, agent_password, capsys):
    create_at_hosts(admin, account_name, 'localhost', '127.0.0.1')

    assert main(['apply', '--user', account_name, '--replace-existing']) == 0
    assert main(['verify', '--user', account_name]) == 0


def test_verify_reports_each_failed_check(admin, admin_env, account_name, agent_password, admin_conn, capsys):
    apply(admin, agent_password, account_name)
    with admin_conn.cursor() as cursor:
        cursor.execute("REVOKE PROCESS ON *.* FROM %s@'%%'", (account_name,))
    assert main(['verify', '--user', account_name]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert 'FAIL process:' in out and 'PASS connect:' in out


@pytest.mark.parametrize('command', [['probe'], ['apply'], ['drop', '--user', 'x']])
def test_an_unreachable_server_is_one_line_and_exit_3(command, monkeypatch, agent_password, capsys):
    [port] = free_ports()
    monkeypatch.setenv('MYSQL_HOST', '127.0.0.1')
    monkeypatch.setenv('MYSQL_PORT', str(port))
    assert main(command) == EXIT_UNREACHABLE
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith('error: ') and f'127.0.0.1:{port}' in line and 'connection refused' in line


@pytest.mark.parametrize('command', [['apply'], ['verify']])
def test_a_missing_password_is_a_usage_error(admin_env, command, capsys):
    admin_env.delenv('DD_MYSQL_PASSWORD', raising=False)
    assert main(command) == EXIT_USAGE
    assert 'DD_MYSQL_PASSWORD' in capsys.readouterr().err


def test_a_bad_port_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv('MYSQL_PORT', 'mysql')
    assert main(['probe']) == EXIT_USAGE
    assert capsys.readouterr().err.strip() == "error: MYSQL_PORT must be a TCP port number (1-65535), not 'mysql'"


@pytest.mark.parametrize('command', ['apply', 'verify', 'drop'])
@pytest.mark.parametrize('name, direction', [('x' * 33, 'shorten'), ('', 'give a name')])
def test_a_user_name_out_of_range_is_refused_before_connecting(
    command, name, direction, monkeypatch, agent_password, capsys
):
    monkeypatch.setenv('MYSQL_PORT', str(free_ports()[0]))  # a connection attempt would end in exit 3
    with pytest.raises(SystemExit) as excinfo:
        main([command, '--user', name])
    assert excinfo.value.code == EXIT_USAGE
    error = capsys.readouterr().err
    assert '--user' in error and '1 to 32 characters' in error and direction in error


@pytest.mark.parametrize('command', ['apply', 'verify'])
def test_a_missing_agent_password_is_refused_before_connecting(command, monkeypatch, capsys):
    monkeypatch.setenv('MYSQL_PORT', str(free_ports()[0]))
    monkeypatch.delenv('DD_MYSQL_PASSWORD', raising=False)
    assert main([command]) == EXIT_USAGE
    assert 'DD_MYSQL_PASSWORD' in capsys.readouterr().err


def test_drop_needs_a_user_name(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(['drop'])
    assert excinfo.value.code == EXIT_USAGE
    assert '--user' in capsys.readouterr().err


@pytest.mark.parametrize(
    'command',
    [[sys.executable, '-m', 'mysql_datadog_user'], [shutil.which('mysql-datadog-user') or 'mysql-datadog-user']],
    ids=['python -m', 'console script'],
)
def test_installed_commands_run_without_a_traceback(command, tmp_path):
    [port] = free_ports()
    env = {'PATH': '', 'MYSQL_HOST': '127.0.0.1', 'MYSQL_PORT': str(port)}
    done = subprocess.run([*command, 'probe'], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == EXIT_UNREACHABLE
    assert 'Traceback' not in done.stderr and 'connection refused' in done.stderr
    help_text = subprocess.run([*command, '--help'], env=env, cwd=tmp_path, capture_output=True, text=True).stdout
    for name in ('probe', 'apply', 'verify', 'drop'):
        assert name in help_text
