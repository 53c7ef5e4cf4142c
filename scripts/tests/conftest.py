"""Fixtures of the local run's tests: runs of scripts/run-local, ended after each test; a stand-in API."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .common import REPO_ROOT, RUN_TIMEOUT, Run, kill_leftovers, mysql_unreachable_reason, start_run


@pytest.fixture
def requires_mysql():
    reason = mysql_unreachable_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def run_local():
    started = []

    def run(*flags: str, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT) -> Run:
        process, marker = start_run(*flags, env=env, cwd=cwd)
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


@pytest.fixture
def forbidding_datadog_api():
    """A local stand-in for the Datadog API that answers every request 403 (as for a key without the permission)
    and keeps the key headers each request carried; yields (base URL, list of those headers)."""
    received = []

    class Forbidding(BaseHTTPRequestHandler):
        def answer(self):
            received.append({name: self.headers.get(name) for name in ('DD-API-KEY', 'DD-APPLICATION-KEY')})
            body = json.dumps({'errors': ['Forbidden']}).encode()
            self.send_response(403)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(('127.0.0.1', 0), Forbidding)
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.01}, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}', received
    server.shutdown()
    server.server_close()
