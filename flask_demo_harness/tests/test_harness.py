"""The harness against the real test agent and app: traffic, traces, and that children end with their owner."""

import signal
import socket
import subprocess
import sys

import pytest
from agent_standin import free_ports

from flask_demo_harness import (
    ROUTES,
    HarnessError,
    MissingTraces,
    accepts_connections,
    apm_test_agent,
    entry_spans,
    harness,
    root_span,
    send_traffic,
    spans_by_service_and_resource,
    traced_app,
    traced_traffic,
)

from .common import ROUTES_WITHOUT_DATABASE, process_is_gone

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the owner-death test relies on Linux prctl")


def test_traffic_is_answered_and_traced(tmp_path):
    with apm_test_agent(log_path=tmp_path / "agent.log") as agent:
        with traced_app(agent.url, env={"DD_ENV": "harness"}, log_path=tmp_path / "app.log") as app:
            agent.start_session("harness")
            statuses = send_traffic(app, ROUTES_WITHOUT_DATABASE)
            traces = agent.wait_for_traces(len(statuses), token="harness")

    assert statuses == {route: ROUTES[route] for route in ROUTES_WITHOUT_DATABASE}
    roots = sorted(root_span(trace)["resource"] for trace in traces)
    assert roots == sorted(["GET /", "GET /api/apm", "GET /api/trace", "GET /api/error", "GET 404"])
    counts = spans_by_service_and_resource(traces)
    assert counts[("flask_demo", "GET /api/apm")] >= 1
    assert all(service == "flask_demo" for service, _ in counts)


def test_traced_traffic_counts_requests_and_queries_and_names_unexpected_answers(tmp_path):
    # Nothing listens on the app's database port: /api/db answers 503 instead of ROUTES' 200, every time.
    database_down = {"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": str(free_ports()[0])}
    routes = [*ROUTES_WITHOUT_DATABASE, "/api/db"]
    with apm_test_agent(log_path=tmp_path / "agent.log") as agent:
        with traced_app(agent.url, env=database_down, log_path=tmp_path / "app.log") as app:
            agent.start_session("traffic")
            traffic = traced_traffic(agent, app, routes, token="traffic", rounds=2)

    assert traffic.statuses == {**{route: ROUTES[route] for route in ROUTES_WITHOUT_DATABASE}, "/api/db": 503}
    assert traffic.unexpected == ["/api/db answered 503, expected 200"]
    assert len(traffic.traces) == 2 * len(routes)
    assert traffic.spans == sum(len(trace) for trace in traffic.traces) > len(traffic.traces)
    resources = ["GET /", "GET /api/apm", "GET /api/trace", "GET /api/db", "GET /api/error", "GET 404"]
    assert [entry for entry in traffic.entries if entry[0] == "flask_demo"] == [
        ("flask_demo", resource, 2) for resource in sorted(resources)
    ]
    assert traffic.entries == sorted(traffic.entries)


def test_traced_traffic_without_traces_names_the_apps_log(tmp_path):
    with apm_test_agent(log_path=tmp_path / "agent.log") as agent:
        with traced_app(agent.url, traced=False, log_path=tmp_path / "app.log") as app:
            agent.start_session("untraced")
            with pytest.raises(MissingTraces) as missing:
                traced_traffic(agent, app, ["/"], token="untraced", timeout=1)

    assert isinstance(missing.value, HarnessError)
    assert str(missing.value) == f"expected 1 traces, got 0 after 1s; the tracer log is in {tmp_path / 'app.log'}"


def test_a_port_taken_after_it_was_picked_is_replaced_and_the_test_agent_starts(tmp_path, monkeypatch):
    # free_ports' ports were free a moment ago; another process may bind one before the test agent does
    with socket.socket() as other_process:
        other_process.bind(("127.0.0.1", 0))
        other_process.listen()
        taken = other_process.getsockname()[1]
        picks = []

        def taken_at_first_pick(count):  # the OTLP gRPC port, the last one picked
            picks.append(count)
            return [*free_ports(count - 1), taken] if len(picks) == 1 else free_ports(count)

        monkeypatch.setattr(harness, "free_ports", taken_at_first_pick)
        with apm_test_agent(log_path=tmp_path / "agent.log") as agent:
            assert agent.process.poll() is None and taken not in (agent.port, agent.otlp_http_port)
            assert accepts_connections(agent.port)
    assert len(picks) == 2


def test_leaving_the_block_stops_the_children_and_frees_their_ports(tmp_path):
    with apm_test_agent(log_path=tmp_path / "agent.log") as agent:
        with traced_app(agent.url, log_path=tmp_path / "app.log") as app:
            pids, ports = (agent.process.pid, app.process.pid), (agent.port, app.port)
            assert all(accepts_connections(port) for port in ports)

    assert all(process_is_gone(pid) for pid in pids)
    assert not any(accepts_connections(port) for port in ports)


OWNER = """
import sys, time
from pathlib import Path
from flask_demo_harness import apm_test_agent, traced_app
log_dir = Path(sys.argv[1])
with apm_test_agent(log_path=log_dir / "agent.log") as agent:
    with traced_app(agent.url, log_path=log_dir / "app.log") as app:
        print(agent.process.pid, agent.port, app.process.pid, app.port, flush=True)
        time.sleep(600)
"""


def test_children_end_when_their_owner_is_killed_with_sigkill(tmp_path):
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        agent_pid, agent_port, app_pid, app_port = map(int, owner.stdout.readline().split())
        owner.send_signal(signal.SIGKILL)
        owner.wait()

        assert process_is_gone(agent_pid), "the test agent outlived its SIGKILLed owner"
        assert process_is_gone(app_pid), "gunicorn outlived its SIGKILLed owner"
        assert not accepts_connections(agent_port) and not accepts_connections(app_port)
    finally:
        owner.kill()
        owner.wait()


def test_root_span_refuses_a_trace_with_two_roots():
    trace = [{"span_id": 1, "parent_id": 0}, {"span_id": 2, "parent_id": 99}]

    with pytest.raises(HarnessError, match="2 root spans"):
        root_span(trace)


def test_entry_spans_are_the_root_and_the_first_span_of_each_other_service():
    trace = [
        {"span_id": 1, "parent_id": 0, "service": "flask_demo", "resource": "GET /api/db"},
        {"span_id": 2, "parent_id": 1, "service": "flask_demo", "resource": "db"},
        {"span_id": 3, "parent_id": 2, "service": "pymysql", "resource": "SELECT VERSION()"},
        {"span_id": 4, "parent_id": 3, "service": "pymysql", "resource": "fetch"},
    ]

    assert [span["span_id"] for span in entry_spans(trace)] == [1, 3]
    assert spans_by_service_and_resource([entry_spans(trace)]) == {
        ("flask_demo", "GET /api/db"): 1,
        ("pymysql", "SELECT VERSION()"): 1,
    }


UNWINDING = """
import signal, time
from flask_demo_harness import unwind_on_signals
class Stopped(BaseException):
    pass
unwind_on_signals(Stopped)
try:
    print("ready", flush=True)
    time.sleep(60)
except Stopped as stopped:
    signal.raise_signal(signal.SIGTERM)  # a second signal is ignored while cleaning up
    print("cleaned up after", stopped, flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_unwind_on_signals_raises_the_exception_once(signum):
    process = subprocess.Popen([sys.executable, "-c", UNWINDING], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signum)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert output == f"cleaned up after {signum.name}\n"
    assert process.returncode == 0


INTERRUPTED = """
import time
from flask_demo_harness import Interrupted, unwind_on_signals
unwind_on_signals()
try:
    print("ready", flush=True)
    time.sleep(60)
except Interrupted as interrupted:
    print(interrupted, interrupted.exit_status, flush=True)
"""


def test_unwind_on_signals_raises_interrupted_by_default_with_the_shells_exit_status():
    process = subprocess.Popen([sys.executable, "-c", INTERRUPTED], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert output == f"SIGTERM {128 + signal.SIGTERM}\n"
