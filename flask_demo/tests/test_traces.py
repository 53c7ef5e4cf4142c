"""Each route's trace as received by ddapm-test-agent: root span facts, then the full tree by snapshot."""

import re

import pytest
from agent_standin import free_ports

from flask_demo import __version__
from flask_demo_harness import root_span, traced_app

from .common import APP_ENV, SERVICE, SUPPLIED_ROUTES


def single_trace(agent, token):
    traces = agent.wait_for_traces(1, token=token)
    assert len(traces) == 1, f"expected exactly one trace, got {len(traces)}"
    return traces[0]


def assert_server_root(root, *, resource, status):
    assert root["name"] == "flask.request"
    assert root["service"] == SERVICE
    assert root["resource"] == resource
    assert root["type"] == "web"
    assert root["meta"]["span.kind"] == "server"
    assert root["meta"]["http.status_code"] == str(status)
    assert root["meta"]["http.method"] == "GET"
    assert root["meta"]["env"] == APP_ENV
    assert root["meta"]["version"] == __version__


def spans_named(trace, name):
    return [span for span in trace if span["name"] == name]


def ancestors(trace, span):
    by_id = {s["span_id"]: s for s in trace}
    chain = []
    while span.get("parent_id") in by_id:
        span = by_id[span["parent_id"]]
        chain.append(span)
    return chain


@pytest.mark.parametrize("path", list(SUPPLIED_ROUTES), ids=["root", "api_apm", "api_trace"])
def test_supplied_route(app, agent, session_token, path):
    response = app.get(path)
    assert response.status == 200
    assert response.body == SUPPLIED_ROUTES[path]

    trace = single_trace(agent, session_token)
    root = root_span(trace)
    assert_server_root(root, resource=f"GET {path}", status=200)
    assert root["error"] == 0
    assert root["meta"]["http.route"] == path
    assert root["meta"]["http.url"] == f"{app.url}{path}"
    assert {span["service"] for span in trace} == {SERVICE}
    agent.snapshot(session_token)


def test_unknown_path_is_a_404_resource(app, agent, session_token):
    response = app.get("/does-not-exist")
    assert response.status == 404

    trace = single_trace(agent, session_token)
    root = root_span(trace)
    assert_server_root(root, resource="GET 404", status=404)
    assert root["error"] == 0
    agent.snapshot(session_token)


def test_exception_is_a_500_with_error_tags(app, agent, session_token):
    response = app.get("/api/error")
    assert response.status == 500

    trace = single_trace(agent, session_token)
    root = root_span(trace)
    assert_server_root(root, resource="GET /api/error", status=500)
    assert root["error"] == 1

    (raising,) = spans_named(trace, "flask_demo.app.error_endpoint")
    assert raising["error"] == 1
    assert raising["meta"]["error.type"] == "flask_demo.app.DeliberateError"
    assert raising["meta"]["error.message"] == "deliberate failure to exercise the error path"
    assert "raise DeliberateError" in raising["meta"]["error.stack"]
    assert root in ancestors(trace, raising)
    agent.snapshot(session_token)

    # The worker survived the exception and keeps serving.
    assert app.get("/api/apm").status == 200
    agent.wait_for_traces(2, token=session_token)


@pytest.mark.usefixtures("requires_mysql")
def test_database_route_shows_two_services(app, agent, session_token, mysql_app_env):
    mysql_env, _ = mysql_app_env
    response = app.get("/api/db")
    assert response.status == 200, response.body
    payload = response.json()
    assert payload["server_version"]
    assert payload["schema_count"] >= 1

    trace = single_trace(agent, session_token)
    root = root_span(trace)
    assert_server_root(root, resource="GET /api/db", status=200)
    assert root["error"] == 0
    assert {span["service"] for span in trace} == {SERVICE, "pymysql"}

    queries = spans_named(trace, "pymysql.query")
    assert [q["resource"] for q in sorted(queries, key=lambda s: s["start"])] == [
        "SELECT VERSION()",
        "SELECT COUNT(*) FROM information_schema.SCHEMATA",
    ]
    (handler,) = spans_named(trace, "flask_demo.app.db_endpoint")
    for query in queries:
        assert query["service"] == "pymysql"
        assert query["type"] == "sql"
        assert query["error"] == 0
        assert query["meta"]["span.kind"] == "client"
        assert query["meta"]["db.system"] == "mysql"
        assert query["meta"]["out.host"] == mysql_env["MYSQL_HOST"]
        # The app's own account and database, not the Agent's monitoring user.
        assert query["meta"]["db.user"] == mysql_env["MYSQL_USER"]
        assert query["meta"]["db.name"] == mysql_env["MYSQL_DATABASE"]
        assert query["parent_id"] == handler["span_id"]
        assert root in ancestors(trace, query)
    agent.snapshot(session_token)


def test_unreachable_database_answers_503_and_keeps_serving(agent, session_token, tmp_path):
    [closed_port] = free_ports()
    env = {"DD_ENV": APP_ENV, "MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": str(closed_port)}
    with traced_app(agent.url, env=env, workers=1, log_path=tmp_path / "app.log") as app:
        response = app.get("/api/db")
        assert response.status == 503
        payload = response.json()
        assert payload["error"] == "database unavailable"
        assert payload["database"] == f"127.0.0.1:{closed_port}"
        assert "Can't connect" in payload["detail"]

        assert app.get("/api/apm").body == "Getting APM Started"
        traces = agent.wait_for_traces(2, token=session_token)
        roots = {root_span(trace)["resource"]: root_span(trace) for trace in traces}
        assert_server_root(roots["GET /api/db"], resource="GET /api/db", status=503)
        # One worker booted once: it was not killed and replaced.
        assert len(re.findall(r"Booting worker with pid", app.log_text())) == 1
        assert "WORKER TIMEOUT" not in app.log_text()
    agent.snapshot(session_token)


def test_logs_carry_trace_and_span_ids(app, agent, session_token):
    assert app.get("/api/trace").status == 200
    trace = single_trace(agent, session_token)
    root = root_span(trace)
    (handler,) = spans_named(trace, "flask_demo.app.trace_endpoint")

    lines = [line for line in app.log_text().splitlines() if line.endswith("trace endpoint called")]
    assert lines, "the handler's log line is missing"
    match = re.search(r"dd\.trace_id=([0-9a-f]+) dd\.span_id=(\d+)\]", lines[-1])
    assert match, lines[-1]
    logged_trace_id, logged_span_id = match.groups()
    # 128-bit ids are logged as hex: the upper half (_dd.p.tid) then the span's 64-bit trace_id.
    assert logged_trace_id == root["meta"]["_dd.p.tid"] + f"{root['trace_id']:016x}"
    assert int(logged_span_id) == handler["span_id"]
    assert f"dd.service={SERVICE} dd.env={APP_ENV} dd.version={__version__}" in lines[-1]
