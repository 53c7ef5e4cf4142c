"""Run scripts/run-local in a subprocess tagged with a unique environment marker.

Every process the run starts inherits the marker, so after the run a scan of /proc/*/environ
finds any that outlived it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from flask_demo.harness import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_LOCAL = REPO_ROOT / 'scripts' / 'run-local'
MARKER_VARIABLE = 'MY_METRIC_RUN_LOCAL_TEST_MARKER'
RUN_TIMEOUT = 240


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


def closed_port() -> int:
    """A loopback port nothing listens on: the harness's free port, which nothing is then told about."""
    return free_port()


def mysql_reachable() -> bool:
    host = os.environ.get('MYSQL_HOST') or '127.0.0.1'
    port = int(os.environ.get('MYSQL_PORT') or 3306)
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def start_run(*flags: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    marker = uuid.uuid4().hex
    # Datadog keys of the person running the tests never reach the run; a test passes its own in env.
    inherited = {name: value for name, value in os.environ.items() if name not in ('DD_API_KEY', 'DD_APP_KEY')}
    full_env = {**inherited, **(env or {}), MARKER_VARIABLE: marker}
    process = subprocess.Popen(
        [str(RUN_LOCAL), *flags],
        cwd=REPO_ROOT,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return process, marker


def kill_leftovers(process: subprocess.Popen, marker: str) -> None:
    """Safety net so a failing test leaves nothing behind for the next one."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for line in processes_with_marker(marker):
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass


def leftovers_after(marker: str, settle: float = 2.0) -> list[str]:
    """Processes still holding ``marker``, given a moment for ones that are just exiting."""
    deadline = time.monotonic() + settle
    while (found := processes_with_marker(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


@pytest.fixture
def run_local():
    started = []

    def run(*flags: str, env: dict[str, str] | None = None) -> Run:
        process, marker = start_run(*flags, env=env)
        started.append((process, marker))
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
        return Run(process.returncode, output, marker)

    yield run
    for process, marker in started:
        kill_leftovers(process, marker)


@pytest.fixture
def started_run():
    """Start a run and hand back (process, marker); the test reads its output itself."""
    started = []

    def start(*flags: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
        process, marker = start_run(*flags, env=env)
        started.append((process, marker))
        return process, marker

    yield start
    for process, marker in started:
        kill_leftovers(process, marker)
