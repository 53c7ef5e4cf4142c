"""Constants and helpers of the local run's tests; the fixtures are in conftest.py.

Each run of scripts/run-local is tagged with a unique environment marker. Every process the run starts
inherits it, so after the run a scan of /proc/*/environ finds any that outlived it (the tour itself
never scans /proc: this is the tests' own check).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import mysql_datadog_user
from flask_demo_harness import accepts_connections

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_LOCAL = REPO_ROOT / 'scripts' / 'run-local'
MARKER_VARIABLE = 'MY_METRIC_RUN_LOCAL_TEST_MARKER'
RUN_TIMEOUT = 240
APM_STARTED = re.compile(
    r'^\[3/6\] APM: APM test agent on http://127\.0\.0\.1:(\d+), flask_demo on http://127\.0\.0\.1:(\d+)'
)


@dataclass
class Run:
    returncode: int
    output: str
    marker: str

    def summary(self) -> str:
        """Everything from the summary header on."""
        return self.output[self.output.index('summary (') :]


def processes_with_marker(marker: str) -> list[str]:
    """'pid command' of every live process whose environment holds ``marker``."""
    needle = f'{MARKER_VARIABLE}={marker}'.encode()
    found = []
    for environ in Path('/proc').glob('[0-9]*/environ'):
        try:
            if needle in environ.read_bytes().split(b'\0'):
                command = (environ.parent / 'cmdline').read_bytes().replace(b'\0', b' ').decode(errors='replace')
                found.append(f'{environ.parent.name} {command.strip()}')
        except OSError:
            continue
    return found


def admin_settings() -> mysql_datadog_user.ConnectionSettings:
    return mysql_datadog_user.admin_settings_from_env()


def mysql_unreachable_reason() -> str | None:
    return mysql_datadog_user.unreachable_reason(admin_settings())


def run_environment(env: dict[str, str] | None, marker: str) -> dict[str, str]:
    # Datadog keys of the person running the tests never reach the run; a test passes its own in env.
    inherited = {name: value for name, value in os.environ.items() if name not in ('DD_API_KEY', 'DD_APP_KEY')}
    return {**inherited, **(env or {}), MARKER_VARIABLE: marker}


def start_run(*flags: str, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT) -> tuple[subprocess.Popen, str]:
    marker = uuid.uuid4().hex
    process = subprocess.Popen(
        [str(RUN_LOCAL), *flags],
        cwd=cwd,
        env=run_environment(env, marker),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return process, marker


def kill_leftovers(process: subprocess.Popen, marker: str) -> None:
    """Safety net so a failing test leaves nothing behind for the next one."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for line in processes_with_marker(marker):
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass


def leftovers_after(marker: str, settle: float = 5.0) -> list[str]:
    """Processes still holding ``marker``, given a moment for ones that are just exiting."""
    deadline = time.monotonic() + settle
    while (found := processes_with_marker(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def assert_nothing_left(marker: str, ports: tuple[int, ...] = ()) -> None:
    leftovers = leftovers_after(marker)
    assert not leftovers, 'processes outlived the run:\n' + '\n'.join(leftovers)
    busy = [port for port in ports if accepts_connections(port)]
    assert not busy, f'ports still taken after the run: {busy}'


def read_until_apm_started(process: subprocess.Popen) -> tuple[list[str], tuple[int, int]]:
    """Lines up to the one saying the test agent and the app are up, and their two ports."""
    seen = []
    for line in process.stdout:
        seen.append(line)
        if match := APM_STARTED.match(line):
            return seen, (int(match.group(1)), int(match.group(2)))
    pytest.fail('the run ended before starting the APM part:\n' + ''.join(seen))
