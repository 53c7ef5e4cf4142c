"""The APM metrics the dashboard reads, proven by the stats the tracer itself computes.

Datadog turns the tracer's stats (hits, errors and latency per service, resource and span name)
into ``trace.<span name>.hits``, ``trace.<span name>.errors`` and the ``trace.<span name>`` latency
distribution (Datadog docs, "Trace Metrics": docs.datadoghq.com/tracing/metrics/metrics_namespace/).
With ``DD_TRACE_STATS_COMPUTATION_ENABLED=true`` ddtrace sends those stats to the Agent's
``/v0.6/stats``; the APM test agent decodes them at ``/test/session/stats``.
"""

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from flask_demo_harness import apm_test_agent, http_get, traced_app

from .common import APP_ENV, SERVICE

DASHBOARD = Path(__file__).resolve().parents[2] / "my_metric" / "assets" / "dashboards" / "my_metric_overview.json"
SPAN_NAME = "flask.request"
# path -> (requests sent, resource, status); each route a different number of times, so a count
# can only match if it was attributed to the right resource.
REQUEST_MIX = {
    "/": (1, "GET /", 200),
    "/api/apm": (2, "GET /api/apm", 200),
    "/api/trace": (3, "GET /api/trace", 200),
    "/api/db": (4, "GET /api/db", 200),
    "/api/error": (5, "GET /api/error", 500),
    "/does-not-exist": (6, "GET 404", 404),
}


@pytest.fixture(scope="module")
def tracer_stats(requires_mysql, mysql_app_env, tmp_path_factory):
    """Send the request mix to a traced app with stats on; return the decoded stats and the app's env.

    Its own test agent, so no other test's session sees these stats (a snapshot in CI mode would
    then demand a stats snapshot file). Stats are flushed when the app stops.
    """
    logs = tmp_path_factory.mktemp("stats-logs")
    mysql_env, _ = mysql_app_env
    settings = {"DD_ENV": APP_ENV, "DD_TRACE_STATS_COMPUTATION_ENABLED": "true", **mysql_env}
    with apm_test_agent(log_path=logs / "apm-test-agent.log") as agent:
        with traced_app(agent.url, env=settings, log_path=logs / "flask-demo.log") as app:
            for path, (count, _, status) in REQUEST_MIX.items():
                for _ in range(count):
                    assert app.get(path).status == status, path
            app_env = dict(app.env)
        payloads = received_stats(agent, requests=sum(count for count, _, _ in REQUEST_MIX.values()))
    return payloads, app_env


def received_stats(agent, *, requests: int, timeout: float = 30.0) -> list[dict]:
    """The stats payloads the agent received, once they count ``requests`` flask.request hits (or at timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        result = http_get(f"{agent.url}/test/session/stats", timeout=10)
        assert result.status == 200, result.body
        payloads = result.json()
        hits = sum(counts["hits"] for key, counts in aggregate(payloads).items() if key[0] == SPAN_NAME)
        if hits >= requests or time.monotonic() > deadline:
            return payloads
        time.sleep(0.2)


def aggregate(payloads) -> dict[tuple[str, str, str, int], Counter]:
    """(span name, service, resource, status) -> summed Hits, TopLevelHits, Errors, Duration over all buckets."""
    totals: dict[tuple[str, str, str, int], Counter] = {}
    for payload in payloads:
        for bucket in payload["Stats"]:
            for stat in bucket["Stats"]:
                key = (stat["Name"], stat["Service"], stat["Resource"], stat["HTTPStatusCode"])
                totals.setdefault(key, Counter()).update(
                    {
                        "hits": stat["Hits"],
                        "top_level_hits": stat["TopLevelHits"],
                        "errors": stat["Errors"],
                        "duration_ns": stat["Duration"],
                    }
                )
    return totals


def test_stats_count_each_route_as_one_flask_request_resource_of_the_service(tracer_stats):
    payloads, _ = tracer_stats
    requests = {key: counts for key, counts in aggregate(payloads).items() if key[0] == SPAN_NAME}
    # Latency (the trace.flask.request distribution) is measured for every resource.
    assert all(counts.pop("duration_ns") > 0 for counts in requests.values()), requests
    expected = {
        (SPAN_NAME, SERVICE, resource, status): {"hits": count, "top_level_hits": count, "errors": 0}
        for count, resource, status in REQUEST_MIX.values()
    }
    expected[(SPAN_NAME, SERVICE, "GET /api/error", 500)]["errors"] = REQUEST_MIX["/api/error"][0]
    assert {key: dict(counts) for key, counts in requests.items()} == expected


def test_stats_carry_the_env_and_version_of_the_app(tracer_stats):
    payloads, app_env = tracer_stats
    assert {(payload["Env"], payload["Version"]) for payload in payloads} == {(APP_ENV, app_env["DD_VERSION"])}
    assert app_env["DD_VERSION"]


def trace_metric_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(metric, tag filter) of every query of a ``trace.*`` metric anywhere in the dashboard."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"q", "query"} and isinstance(value, str):
                    found.extend(re.findall(r"\b(trace\.[\w.]+)\{([^}]*)\}", value))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(dashboard)
    return found


def test_the_dashboard_queries_the_metrics_datadog_derives_from_these_stats(tracer_stats):
    payloads, _ = tracer_stats
    # Datadog's trace metrics are named after the span name of the service's top-level spans.
    stats = aggregate(payloads)
    top_level = {(name, service) for (name, service, _, _), counts in stats.items() if counts["top_level_hits"]}
    span_names = {name for name, service in top_level if service == SERVICE}
    derived = {f"trace.{name}{suffix}" for name in span_names for suffix in ("", ".hits", ".errors")}

    dashboard = json.loads(DASHBOARD.read_text())
    queries = trace_metric_queries(dashboard)
    queried = {metric for metric, _ in queries}
    # Hits, errors and the latency distribution each have a widget, and each is a metric the stats produce.
    assert queried == {f"trace.{SPAN_NAME}", f"trace.{SPAN_NAME}.hits", f"trace.{SPAN_NAME}.errors"}
    assert queried <= derived, f"the dashboard queries {queried - derived}, the tracer's stats give {derived}"

    services = {service for _, service in top_level}
    template_variables = {variable["name"] for variable in dashboard["template_variables"]}
    assert "env" in template_variables
    for metric, tags in queries:
        filters = {tag.strip() for tag in tags.split(",")}
        service_filters = {tag.removeprefix("service:") for tag in filters if tag.startswith("service:")}
        assert service_filters == {SERVICE} and SERVICE in services, f"{metric}{{{tags}}}"
        assert "$env" in filters, f"{metric}{{{tags}}} is not filtered by the env template variable"
