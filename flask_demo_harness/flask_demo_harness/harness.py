"""Run the APM test agent and the traced app as child processes, on loopback, and read traces back.

Typical use, from the tests or from any script running in a venv where ``flask-demo-harness`` is
installed (it brings ``flask-demo`` and ``ddapm-test-agent``)::

    from flask_demo_harness import apm_test_agent, traced_app, send_traffic, spans_by_service_and_resource

    with apm_test_agent() as agent:
        with traced_app(agent.url, env={"DD_ENV": "local"}) as app:
            agent.start_session("demo")
            statuses = send_traffic(app)              # one GET per route in ROUTES
            traces = agent.wait_for_traces(len(statuses), token="demo")
            print(spans_by_service_and_resource(traces))

Every process is started in its own process group and the whole group is killed when its
``with`` block exits, also on exceptions; on Linux each child also gets SIGTERM when the process
that started it dies, so not even a SIGKILLed owner leaves it running. Executables are taken from the interpreter's own
venv (``gunicorn``, ``ddtrace-run``, ``ddapm-test-agent``) so no global install is needed.
Only the standard library is used here, so importing the harness adds no dependency.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent_standin import free_ports

from flask_demo.serve import WSGI_APP, find_executable, gunicorn_command, unified_service_env

LOOPBACK = "127.0.0.1"
SESSION_TOKEN_HEADER = "X-Datadog-Test-Session-Token"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
TEST_AGENT_START_ATTEMPTS = 3

# Every route of the app and the status it answers with when the database is reachable.
# A path outside the app is included so the 404 resource shows up as well.
ROUTES: dict[str, int] = {
    "/": 200,
    "/api/apm": 200,
    "/api/trace": 200,
    "/api/db": 200,
    "/api/error": 500,
    "/does-not-exist": 404,
}

# Span fields that differ between runs or machines. The first group mirrors the test agent's own
# defaults (ids, timings, pids, runtime-id); ids stay in snapshot files (the agent renumbers them).
_VOLATILE_IDS_AND_TIMINGS: tuple[str, ...] = (
    "span_id",
    "trace_id",
    "parent_id",
    "duration",
    "start",
    "span_links.trace_id_high",
    "span_events.time_unix_nano",
    "meta.pathway.hash",
)
# Tied to the process, the machine, the checkout path or library versions rather than to the app's
# behaviour; also dropped from newly written snapshot files so they hold no local paths.
SNAPSHOT_REMOVED_ATTRS: tuple[str, ...] = (
    "metrics.system.pid",
    "metrics.system.process_id",
    "metrics.process_id",
    "metrics._dd.tracer_kr",
    "meta.runtime-id",
    "meta._dd.p.tid",
    "meta._dd.tags.process",
    "meta._dd.code_origin.frames.0.file",
    "meta._dd.code_origin.frames.0.line",
    "meta._dd.hostname",
    "meta._dd.tracer_version",
    "meta.flask.version",
    "meta.http.useragent",
    "meta.error.stack",
)
SNAPSHOT_IGNORED_ATTRS: tuple[str, ...] = _VOLATILE_IDS_AND_TIMINGS + SNAPSHOT_REMOVED_ATTRS

# The app's port is random; replace it so http.url stays comparable in snapshots.
SNAPSHOT_REGEX_PLACEHOLDERS: dict[str, str] = {"app_address": r"127\.0\.0\.1:[0-9]+"}


class HarnessError(RuntimeError):
    """A child process did not start, or the test agent answered unexpectedly."""


class MissingTraces(HarnessError):
    """Fewer traces than requests reached the test agent in time; the message names the app's log."""


class SnapshotMismatch(AssertionError):
    """The test agent compared received traces to the committed snapshot and found a difference."""


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: str

    def json(self):
        return json.loads(self.body)


def http_get(url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 10.0) -> HttpResult:
    """GET ``url`` and return status/body, treating 4xx/5xx as results rather than exceptions."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResult(response.status, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        with error:
            return HttpResult(error.code, error.read().decode("utf-8", "replace"))


def accepts_connections(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOOPBACK, port)) == 0


def _wait_for_port(port: int, *, timeout: float, process: subprocess.Popen | None = None, what: str = "") -> None:
    """Block until something accepts TCP connections on 127.0.0.1:port, or raise HarnessError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise HarnessError(f"{what or 'process'} exited with {process.returncode} before listening on {port}")
        if accepts_connections(port):
            return
        time.sleep(0.05)
    raise HarnessError(f"{what or 'nothing'} listening on {LOOPBACK}:{port} after {timeout}s")


def _stop_process_group(process: subprocess.Popen, *, grace: float = 10.0) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it has not exited within ``grace``."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Ask Linux to send ``signum`` to the calling process when its parent dies (no-op elsewhere).

    Used in children (between fork and exec) and by an orchestrating script for itself, so that a
    parent killed with SIGKILL, which runs no cleanup, still takes its children down.
    """
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)


class Interrupted(BaseException):
    """A signal ended the run (raised by :func:`unwind_on_signals`); ``str()`` is the signal's name, e.g. SIGINT."""

    @property
    def exit_status(self) -> int:
        """What a shell reports for a process that signal ended: 128 + the signal's number."""
        return 128 + signal.Signals[str(self)].value


def unwind_on_signals(
    exception: type[BaseException] = Interrupted,
    signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP),
    parent_death: int = signal.SIGHUP,
) -> None:
    """Make each of ``signals`` raise ``exception(signal name)`` in the main thread, so ``with`` blocks
    and ``finally`` clauses stop what was started; further signals are then ignored, so they cannot
    cut that cleanup short. The death of the parent arrives as ``parent_death`` (Linux), like a closed terminal."""

    def stop(signum, frame):
        for ending in signals:
            signal.signal(ending, signal.SIG_IGN)
        raise exception(signal.Signals(signum).name)

    for ending in signals:
        signal.signal(ending, stop)
    parent = os.getppid()
    die_with_parent(parent_death)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), parent_death)


@contextlib.contextmanager
def _child_process(command: Sequence[str], *, env: Mapping[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            list(command),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    try:
        yield process
    finally:
        _stop_process_group(process)


def _wait_for_port_or_explain(port: int, timeout: float, process: subprocess.Popen, what: str, log_path: Path) -> None:
    try:
        _wait_for_port(port, timeout=timeout, process=process, what=what)
    except HarnessError as error:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise HarnessError(f"{error}; log {log_path} ends with:\n{tail}") from None


def _default_log_path(prefix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=f"{prefix}-", suffix=".log")
    os.close(handle)
    return Path(name)


@dataclass
class ApmTestAgent:
    """A running ``ddapm-test-agent``; ``url`` is what DD_TRACE_AGENT_URL should point at."""

    port: int
    otlp_http_port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def otlp_http_endpoint(self) -> str:
        """Base URL for an OTLP/HTTP exporter (the exporter appends /v1/traces)."""
        return f"http://{LOOPBACK}:{self.otlp_http_port}"

    def _get(self, path: str, token: str | None, **params: str) -> HttpResult:
        if token is not None:
            params["test_session_token"] = token
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        headers = {SESSION_TOKEN_HEADER: token} if token is not None else {}
        return http_get(f"{self.url}{path}{query}", headers=headers, timeout=30)

    def start_session(self, token: str) -> None:
        """Begin a session: traces received from now on belong to ``token``."""
        result = self._get("/test/session/start", token)
        if result.status != 200:
            raise HarnessError(f"session start failed: {result.status} {result.body}")

    def clear(self, token: str | None = None) -> None:
        """Forget traces received so far (of the session ``token``, or all)."""
        self._get("/test/session/clear", token)

    def traces(self, token: str | None = None) -> list[list[dict]]:
        """Traces received in session ``token`` (all received traces when None), as lists of span dicts."""
        result = self._get("/test/session/traces", token)
        if result.status != 200:
            raise HarnessError(f"reading traces failed: {result.status} {result.body}")
        return result.json()

    def wait_for_traces(
        self, count: int, *, token: str | None = None, timeout: float = 20.0, settle: float = 0.3
    ) -> list[list[dict]]:
        """Poll until at least ``count`` traces arrived, then wait ``settle`` seconds for stragglers.

        Returns what arrived; raises HarnessError if fewer than ``count`` came within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        traces = self.traces(token)
        # Large sessions are costly to serialize; poll them less often.
        poll_interval = min(1.0, 0.1 + count / 2000)
        while len(traces) < count and time.monotonic() < deadline:
            time.sleep(poll_interval)
            traces = self.traces(token)
        if len(traces) < count:
            raise HarnessError(f"expected {count} traces, got {len(traces)} after {timeout}s")
        if settle:
            time.sleep(settle)
            traces = self.traces(token)
        return traces

    def snapshot(self, token: str) -> None:
        """Compare session ``token``'s traces with ``<snapshot_dir>/<token>.json``; raise SnapshotMismatch.

        In CI mode (the default of ``apm_test_agent``) a missing snapshot file is a failure; otherwise
        the test agent writes the file from what it received.
        """
        result = self._get("/test/session/snapshot", token)
        if result.status != 200:
            raise SnapshotMismatch(f"snapshot {token!r} failed ({result.status}):\n{result.body}")


def _test_agent_environment() -> dict[str, str]:
    """Environment for the test agent with everything that would redirect or reconfigure it removed.

    The test agent proxies to DD_TRACE_AGENT_URL / DD_AGENT_URL when they are set, and reads its
    ports and snapshot settings from plain variables; all of them are passed as flags instead.
    """
    reconfiguring = {
        "PORT",
        "HOST",
        "OTLP_HTTP_PORT",
        "OTLP_GRPC_PORT",
        "SNAPSHOT_DIR",
        "SNAPSHOT_CI",
        "SNAPSHOT_IGNORED_ATTRS",
        "SNAPSHOT_REMOVED_ATTRS",
        "SNAPSHOT_REGEX_PLACEHOLDERS",
        "ENABLED_CHECKS",
        "WEB_UI_PORT",
        "LOG_LEVEL",
    }
    return {k: v for k, v in os.environ.items() if not k.startswith("DD_") and k not in reconfiguring}


@contextlib.contextmanager
def apm_test_agent(
    *,
    port: int | None = None,
    snapshot_dir: str | os.PathLike | None = None,
    snapshot_ci_mode: bool = True,
    regex_placeholders: Mapping[str, str] = SNAPSHOT_REGEX_PLACEHOLDERS,
    log_path: str | os.PathLike | None = None,
    startup_timeout: float = 30.0,
) -> Iterator[ApmTestAgent]:
    """Start ``ddapm-test-agent`` on 127.0.0.1 (free ports unless ``port`` is given) and stop it on exit.

    ``snapshot_ci_mode`` makes a missing snapshot file an error instead of writing a new one;
    ``regex_placeholders`` maps placeholder names to the patterns they replace in snapshots.
    """
    port_given = bool(port)
    log_file = Path(log_path) if log_path else _default_log_path("apm-test-agent")
    agent_env = _test_agent_environment()
    # The flags of the same names cannot parse a list (their argparse type is broken); the variables can.
    agent_env["SNAPSHOT_IGNORED_ATTRS"] = ",".join(SNAPSHOT_IGNORED_ATTRS)
    agent_env["SNAPSHOT_REMOVED_ATTRS"] = ",".join(SNAPSHOT_REMOVED_ATTRS)
    for attempt in range(1, TEST_AGENT_START_ATTEMPTS + 1):
        if port_given:
            otlp_http_port, otlp_grpc_port = [other for other in free_ports(3) if other != port][:2]
        else:
            port, otlp_http_port, otlp_grpc_port = free_ports(3)
        command = [
            find_executable("ddapm-test-agent"),
            f"--host={LOOPBACK}",
            f"--port={port}",
            f"--otlp-http-port={otlp_http_port}",
            f"--otlp-grpc-port={otlp_grpc_port}",
            f"--snapshot-ci-mode={1 if snapshot_ci_mode else 0}",
            f"--snapshot-regex-placeholders={','.join(f'{k}:{v}' for k, v in regex_placeholders.items())}",
            "--log-level=WARNING",
        ]
        if snapshot_dir:
            command.append(f"--snapshot-dir={Path(snapshot_dir)}")
        with _child_process(command, env=agent_env, log_path=log_file) as process:
            try:
                _wait_for_port_or_explain(port, startup_timeout, process, "ddapm-test-agent", log_file)
            except HarnessError:
                # The ports were free when picked; another process may have bound one since, and the test agent
                # exits when it cannot bind. Fresh ports then, a few times.
                if process.poll() is None or attempt == TEST_AGENT_START_ATTEMPTS:
                    raise
                continue
            agent = ApmTestAgent(port, otlp_http_port, process)
            deadline = time.monotonic() + startup_timeout
            while http_get(f"{agent.url}/info").status != 200:
                if time.monotonic() > deadline:
                    raise HarnessError("ddapm-test-agent /info never answered 200")
                time.sleep(0.1)
            yield agent
            return


@dataclass
class RunningApp:
    """The app served by gunicorn (under ddtrace-run unless started untraced)."""

    port: int
    log_path: Path
    process: subprocess.Popen
    env: Mapping[str, str]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def get(self, path: str, *, timeout: float = 10.0) -> HttpResult:
        return http_get(f"{self.url}{path}", timeout=timeout)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def _app_environment(
    agent_url: str | None,
    *,
    env: Mapping[str, str] | None = None,
    port: int,
    workers: int,
) -> dict[str, str]:
    """Environment for the app: the caller's, minus other Agent addresses, plus bind and tracer target."""
    merged = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DD_AGENT_HOST", "DD_TRACE_AGENT_PORT", "DD_TRACE_AGENT_URL", "DD_AGENT_URL"}
    }
    merged.update(
        {
            "FLASK_DEMO_HOST": LOOPBACK,
            "FLASK_DEMO_PORT": str(port),
            "FLASK_DEMO_WORKERS": str(workers),
            # Short flush interval so readers do not wait a full second for each batch.
            "DD_TRACE_WRITER_INTERVAL_SECONDS": "0.2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if agent_url is not None:
        merged["DD_TRACE_AGENT_URL"] = agent_url
    merged.update(env or {})
    return unified_service_env(merged)


@contextlib.contextmanager
def traced_app(
    agent_url: str | None,
    *,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    workers: int = 1,
    traced: bool = True,
    wsgi_app: str = WSGI_APP,
    log_path: str | os.PathLike | None = None,
    startup_timeout: float = 30.0,
) -> Iterator[RunningApp]:
    """Serve the app with ``ddtrace-run gunicorn`` on 127.0.0.1 and stop the process group on exit.

    ``agent_url`` becomes DD_TRACE_AGENT_URL; ``env`` entries override everything else (e.g. DD_ENV,
    MYSQL_*). ``traced=False`` runs plain gunicorn, for baselines; ``wsgi_app`` serves another
    ``module:variable`` (the benchmark's OpenTelemetry variant).
    """
    port = port or free_ports()[0]
    full_env = _app_environment(agent_url, env=env, port=port, workers=workers)
    log_file = Path(log_path) if log_path else _default_log_path("flask-demo")
    with _child_process(gunicorn_command(traced=traced, wsgi_app=wsgi_app), env=full_env, log_path=log_file) as process:
        _wait_for_port_or_explain(port, startup_timeout, process, "gunicorn", log_file)
        yield RunningApp(port, log_file, process, full_env)


def send_traffic(app: RunningApp, routes: Iterable[str] = ROUTES) -> dict[str, int]:
    """GET each route once, in order; return path -> HTTP status."""
    return {path: app.get(path).status for path in routes}


@dataclass
class TracedTraffic:
    """What :func:`traced_traffic` sent and read back."""

    statuses: dict[str, int]  # path -> the status its last request answered
    unexpected: list[str]  # "<path> answered <status>, expected <status>": each path's first answer other than ROUTES'
    traces: list[list[dict]]
    entries: list[tuple[str, str, int]]  # (service, resource, count) of the spans that enter a service, sorted

    @property
    def spans(self) -> int:
        return sum(len(trace) for trace in self.traces)


def traced_traffic(
    agent: ApmTestAgent,
    app: RunningApp,
    routes: Iterable[str] = ROUTES,
    *,
    token: str,
    rounds: int = 1,
    timeout: float = 20.0,
) -> TracedTraffic:
    """GET each route (paths of ROUTES) ``rounds`` times, then wait for one trace per request in the session
    ``token``, which the caller started. Raises MissingTraces when they do not all arrive within ``timeout`` s."""
    routes, unexpected, statuses = list(routes), {}, {}
    for _ in range(rounds):
        statuses = send_traffic(app, routes)
        for path, status in statuses.items():
            if status != ROUTES[path]:
                unexpected.setdefault(path, f"{path} answered {status}, expected {ROUTES[path]}")
    try:
        traces = agent.wait_for_traces(len(routes) * rounds, token=token, timeout=timeout)
    except HarnessError as error:
        raise MissingTraces(f"{error}; the tracer log is in {app.log_path}") from None
    counts = spans_by_service_and_resource(entry_spans(trace) for trace in traces)
    entries = [(service, resource, count) for (service, resource), count in sorted(counts.items())]
    return TracedTraffic(statuses, list(unexpected.values()), traces, entries)


def spans_by_service_and_resource(traces: Iterable[Sequence[Mapping]]) -> Counter:
    """Count spans per (service, resource) across ``traces``."""
    return Counter((span.get("service"), span.get("resource")) for trace in traces for span in trace)


def entry_spans(trace: Sequence[Mapping]) -> list[Mapping]:
    """The spans of ``trace`` that enter a service: the root, and each span whose parent is of another service."""
    service_of = {span["span_id"]: span.get("service") for span in trace}
    return [span for span in trace if service_of.get(span.get("parent_id")) != span.get("service")]


def root_span(trace: Sequence[Mapping]) -> Mapping:
    """The span of ``trace`` that has no parent inside the trace."""
    ids = {span["span_id"] for span in trace}
    roots = [span for span in trace if not span.get("parent_id") or span["parent_id"] not in ids]
    if len(roots) != 1:
        raise HarnessError(f"trace has {len(roots)} root spans")
    return roots[0]
