"""Every way a run can end mid-way stops what it started and frees the ports."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from .common import (
    RUN_LOCAL,
    assert_nothing_left,
    kill_leftovers,
    processes_with_marker,
    read_until_apm_started,
    run_environment,
)

RUN_FLAGS = ('--quick', '--runs', '1', '--skip-mysql')


@pytest.mark.parametrize(
    'signal_to_send, to_group',
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGHUP, True)],
    ids=['ctrl-c', 'kill', 'terminal-closed'],
)
def test_a_signal_midway_stops_everything(started_run, signal_to_send, to_group):
    process, marker = started_run(*RUN_FLAGS)
    # Once the test agent and the app are up, the most processes are alive.
    _, ports = read_until_apm_started(process)
    time.sleep(0.5)
    # Ctrl-C and a closing terminal signal the whole foreground process group; kill signals one process.
    if to_group:
        os.killpg(process.pid, signal_to_send)
    else:
        process.send_signal(signal_to_send)
    rest, _ = process.communicate(timeout=60)

    assert process.returncode == 128 + signal_to_send, rest
    assert f'interrupted by {signal_to_send.name} during step 3/6 APM' in rest, rest
    assert 'summary (' not in rest
    assert_nothing_left(marker, ports)


def test_the_parent_dying_stops_everything(tmp_path):
    marker = f'parent-death-{os.getpid()}'
    # A throwaway shell starts the run and is then killed with SIGKILL, as when a terminal emulator crashes.
    shell = subprocess.Popen(
        ['bash', '-c', f'"{RUN_LOCAL}" {" ".join(RUN_FLAGS)}; echo "run-local ended"'],
        env=run_environment(None, marker),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _, ports = read_until_apm_started(shell)
        time.sleep(0.5)
        shell.kill()
        shell.wait()
        # The run still writes to the pipe until it is gone; reading to the end waits for that.
        rest = shell.stdout.read()

        assert 'interrupted by SIGHUP during step 3/6 APM' in rest, rest
        assert 'summary (' not in rest
        assert 'run-local ended' not in rest
        assert_nothing_left(marker, ports)
    finally:
        kill_leftovers(shell, marker)


def test_ctrl_c_names_the_step_under_way_not_the_last_one_that_printed(started_run):
    process, marker = started_run(*RUN_FLAGS)
    # The test agent is being started: step 3's work has begun, though step 3 has printed nothing yet.
    while not any('ddapm-test-agent' in line for line in processes_with_marker(marker)):
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == 128 + signal.SIGINT, output
    assert 'interrupted by SIGINT during step 3/6 APM' in output, output
    assert_nothing_left(marker)
