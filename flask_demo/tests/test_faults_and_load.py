"""The tracer must never cost a request: agent outages and sustained load, all on 127.0.0.1."""

import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from agent_standin import free_ports

from flask_demo_harness import apm_test_agent, root_span, traced_app

from .common import APP_ENV, SUPPLIED_ROUTES

# ddtrace logs send failures through loggers under "ddtrace."; the app's format names the logger.
TRACER_PROBLEM_LINE = re.compile(r"(ERROR|WARNING) \[ddtrace[.\w]*\]")


def get_all(app, paths, *, concurrency):
    """GET every path in ``paths`` with ``concurrency`` client threads; return (path, status, body) tuples."""

    def fetch(path):
        response = app.get(path, timeout=30)
        return path, response.status, response.body

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(fetch, paths))


def assert_all_answered_correctly(results):
    wrong = [(path, status, body[:80]) for path, status, body in results if body != SUPPLIED_ROUTES.get(path)]
    assert not wrong, f"{len(wrong)} of {len(results)} requests failed, e.g. {wrong[:3]}"


def test_agent_down_then_up(tmp_path):
    [agent_port] = free_ports()  # nothing listens here until the test agent is started below
    requests_while_down = 300
    paths = [list(SUPPLIED_ROUTES)[i % 3] for i in range(requests_while_down)]
    env = {"DD_ENV": APP_ENV}
    with traced_app(f"http://127.0.0.1:{agent_port}", env=env, workers=2, log_path=tmp_path / "app.log") as app:
        started = time.monotonic()
        results = get_all(app, paths, concurrency=4)
        assert_all_answered_correctly(results)
        assert time.monotonic() - started < 30

        # Give the writers several flush intervals to fail, then count what they logged.
        deadline = time.monotonic() + 10
        while not TRACER_PROBLEM_LINE.search(app.log_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        tracer_lines = [line for line in app.log_text().splitlines() if TRACER_PROBLEM_LINE.search(line)]
        assert tracer_lines, "the tracer never reported the unreachable agent"
        # Rate limited: a handful per worker process, far fewer than one per request.
        assert len(tracer_lines) <= 10, "\n".join(tracer_lines)

        with apm_test_agent(port=agent_port, log_path=tmp_path / "agent.log") as agent:
            agent.start_session("agent_back_up")
            results = get_all(app, paths[:30], concurrency=4)
            assert_all_answered_correctly(results)
            traces = agent.wait_for_traces(30, token="agent_back_up", timeout=30)
            resources = Counter(root_span(trace)["resource"] for trace in traces)
            assert all(resources[f"GET {path}"] >= 10 for path in SUPPLIED_ROUTES), resources


def test_load_every_request_answered_and_traced(agent, tmp_path):
    total = 2000
    paths = [list(SUPPLIED_ROUTES)[i % 3] for i in range(total)]
    with traced_app(agent.url, env={"DD_ENV": APP_ENV}, workers=2, log_path=tmp_path / "app.log") as app:
        agent.start_session("load")
        results = get_all(app, paths, concurrency=8)
        assert_all_answered_correctly(results)
        traces = agent.wait_for_traces(total, token="load", timeout=90, settle=1.0)
    assert len(traces) == total
    resources = Counter(root_span(trace)["resource"] for trace in traces)
    assert resources == Counter(f"GET {path}" for path in paths)
    assert all(root_span(trace)["meta"]["http.status_code"] == "200" for trace in traces)
