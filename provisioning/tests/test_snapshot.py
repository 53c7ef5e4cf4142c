"""The snapshot step as a command, and the dashboard URL apply prints."""

from urllib.parse import parse_qs, urlparse

import pytest
from my_metric_provisioning.assets import AssetFileError
from my_metric_provisioning.snapshot import app_host, dashboard_url, my_metric_graph

from .common import FAST, NOTIFY, WORKING_HOURS, apply, assert_no_key, cli

pytestmark = pytest.mark.usefixtures("fake_keys")

QUERY = "avg:my_metric{*} by {host}"  # the dashboard's `avg:my_metric{$host,$env} by {host}` at its defaults


def snapshot(fake, *extra):
    return cli("snapshot", "--notify", NOTIFY, "--api-url", fake.url, *FAST, *extra)


def test_snapshot_of_the_last_5_minutes_is_sent_to_the_handle(fake, fake_keys):
    code, out = snapshot(fake)
    assert code == 0, out
    [taken] = fake.snapshots
    assert taken["metric_query"] == QUERY and taken["title"] == "my_metric per host"
    assert taken["end"] == int(WORKING_HOURS.timestamp()) and taken["end"] - taken["start"] == 300
    [event] = fake.events
    assert NOTIFY in event["text"] and taken["snapshot_url"] in event["text"]
    assert event["alert_type"] == "info" and "integration:my_metric" in event["tags"]
    assert f"snapshot: {taken['snapshot_url']}" in out and f"notified {NOTIFY} in event {event['id']}" in out
    sent = fake.headers_seen[0]
    assert sent["DD-API-KEY"] == fake_keys["DD_API_KEY"] and sent["DD-APPLICATION-KEY"] == fake_keys["DD_APP_KEY"]
    assert_no_key(out, fake_keys)


def test_minutes_sets_the_timeframe(fake):
    assert snapshot(fake, "--minutes", "15")[0] == 0
    assert fake.snapshots[0]["end"] - fake.snapshots[0]["start"] == 900
    assert "past 15 minutes" in fake.events[0]["text"]


def test_the_query_is_the_dashboards_my_metric_graph(assets):
    assert my_metric_graph(assets) == ("my_metric per host", QUERY)
    assets.dashboard["template_variables"][0]["defaults"] = ["web-1"]
    assert my_metric_graph(assets)[1] == "avg:my_metric{host:web-1} by {host}"


def test_a_dashboard_without_the_graph_names_the_file(assets):
    assets.dashboard["widgets"] = []
    with pytest.raises(AssetFileError, match=r"my_metric_overview\.json"):
        my_metric_graph(assets)


@pytest.mark.parametrize(
    "method, path, key", [("GET", "/api/v1/graph/snapshot", "DD_APP_KEY"), ("POST", "/api/v1/events", "DD_API_KEY")]
)
def test_a_403_names_the_key_to_check_and_sends_no_event(fake, fake_keys, method, path, key):
    fake.fail(method, path, 403)
    code, out = snapshot(fake)
    assert code == 3 and "403" in out and key in out and fake.events == []
    assert_no_key(out, fake_keys)


def test_429_is_retried_but_an_event_answered_5xx_is_not_posted_twice(fake):
    fake.fail("GET", "/api/v1/graph/snapshot", 429, headers={"X-RateLimit-Reset": "0"})
    fake.fail("POST", "/api/v1/events", 503, made=True)
    code, out = snapshot(fake)
    assert code == 3 and "503" in out and "post the event" in out
    assert fake.count("GET", "/api/v1/graph/snapshot") == 2 and len(fake.events) == 1


def test_apply_prints_the_dashboard_url_on_the_past_5_minutes(fake):
    code, out = apply(fake)
    assert code == 0, out
    [dashboard_id] = fake.dashboards
    line = next(line for line in out.splitlines() if line.startswith("dashboard (past 5 minutes): "))
    url = urlparse(line.split(": ", 1)[1])
    assert (url.scheme, url.netloc, url.path) == ("https", "app.datadoghq.com", f"/dashboard/{dashboard_id}")
    query = parse_qs(url.query)
    assert int(query["to_ts"][0]) == int(WORKING_HOURS.timestamp() * 1000)
    assert int(query["to_ts"][0]) - int(query["from_ts"][0]) == 5 * 60 * 1000 and query["live"] == ["true"]


@pytest.mark.parametrize(
    "site, host", [("datadoghq.eu", "app.datadoghq.eu"), ("us3.datadoghq.com", "us3.datadoghq.com")]
)
def test_dashboard_url_uses_the_sites_web_host(site, host):
    assert app_host(site) == host
    assert dashboard_url(site, "abc-def-ghi").startswith(f"https://{host}/dashboard/abc-def-ghi?")
