"""apply: writes only what differs from the live org, never creates the same object twice, and names what failed."""

import contextlib
import copy
import json
import secrets
import socket
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from datadog_api_client.exceptions import ApiException
from my_metric_provisioning import provision
from my_metric_provisioning.reconcile import RECORD_PREFIX, Reconciler, records_of

from .common import FAST, NOTIFY, WEEKNIGHT, apply, assert_no_key, cli, destroy, integration_copy, reported, writes
from .fake_datadog import PAST_START, FakeDatadog

pytestmark = pytest.mark.usefixtures("fake_keys")


def managed(fake):
    """How many dashboards, monitors and active downtimes carry the marker."""
    dashboards = [d for d in fake.dashboards.values() if provision.MANAGED_BY in d.get("description", "")]
    monitors = [m for m in fake.monitors.values() if provision.MANAGED_BY in m.get("tags", [])]
    downtimes = [d for d in fake.active_downtimes() if provision.MANAGED_BY in d["attributes"]["message"]]
    return len(dashboards), len(monitors), len(downtimes)


def test_a_second_apply_with_nothing_changed_writes_nothing(fake, fake_keys):
    code, first = apply(fake)
    assert code == 0, first
    assert {action for action, _ in reported(first).values()} == {"created"} and len(reported(first)) == 4
    before = writes(fake)
    code, second = apply(fake)
    assert code == 0, second
    assert writes(fake) == before
    assert managed(fake) == (1, 1, 2)
    monitor_id = next(iter(fake.monitors))
    assert {d["attributes"]["monitor_identifier"]["monitor_id"] for d in fake.active_downtimes()} == {monitor_id}
    assert all(d["attributes"]["schedule"]["timezone"] == "Europe/Paris" for d in fake.active_downtimes())
    assert all(NOTIFY in d["attributes"]["message"] for d in fake.active_downtimes())
    sent = fake.headers_seen[0]
    assert sent["DD-API-KEY"] == fake_keys["DD_API_KEY"] and sent["DD-APPLICATION-KEY"] == fake_keys["DD_APP_KEY"]
    assert_no_key(first + second, fake_keys)


def test_a_ui_edit_is_shown_with_its_diff_then_restored(fake):
    assert apply(fake)[0] == 0
    [monitor] = fake.monitors.values()
    monitor["options"]["thresholds"] = {"critical": 950, "warning": 700}
    code, out = apply(fake)
    assert code == 0, out
    assert "$.options.thresholds.critical: 950 -> 800" in out and "$.options.thresholds.warning: 700 -> 500" in out
    assert reported(out)["monitor"][0] == "updated" and "dashboard" not in reported(out)
    assert monitor["options"]["thresholds"] == {"critical": 800, "warning": 500}
    assert fake.count("PUT", r"/api/v1/monitor/\d+") == 2  # the first apply's records, then this restore


def test_a_monitor_renamed_in_the_ui_is_updated_not_duplicated(fake):
    assert apply(fake)[0] == 0
    [(monitor_id, monitor)] = fake.monitors.items()
    monitor["name"] = "renamed by a colleague"
    code, out = apply(fake)
    assert code == 0, out
    assert reported(out)["monitor"] == ("updated", str(monitor_id)) and '"renamed by a colleague" ->' in out
    assert managed(fake) == (1, 1, 2) and monitor["name"] != "renamed by a colleague"


def test_destroy_removes_only_what_apply_made(fake, fake_keys):
    fake.dashboards["other-000-aaa"] = {"title": "my_metric - Overview", "description": "hand made", "widgets": []}
    fake.monitors[999] = {"id": 999, "name": "someone else's", "query": "avg(last_5m):avg:x{*} > 1", "tags": []}
    assert apply(fake)[0] == 0
    code, out = destroy(fake)
    assert code == 0, out
    assert list(fake.dashboards) == ["other-000-aaa"] and list(fake.monitors) == [999]
    assert fake.active_downtimes() == []
    assert [action for action, _ in reported(out).values()] == ["canceled", "canceled", "deleted", "deleted"]
    assert_no_key(out, fake_keys)


def test_destroy_never_refuses_because_the_bundled_files_changed(fake, tmp_path):
    assert apply(fake)[0] == 0
    changed = integration_copy(tmp_path)
    (changed / "assets" / "monitors" / "my_metric_high.json").write_text("{ not json")
    code, out = cli("--assets-dir", str(changed), "destroy", "--api-url", fake.url, *FAST)
    assert code == 0, out
    assert managed(fake) == (0, 0, 0)


@pytest.mark.parametrize("path, objects", [("/api/v1/monitor", 1), ("/api/v1/dashboard", 1), ("/api/v2/downtime", 2)])
def test_a_create_answered_504_after_it_was_made_is_adopted(fake, path, objects):
    fake.fail("POST", path, 504, made=True)
    code, out = apply(fake)
    assert code == 0, out
    assert fake.count("POST", path) == objects  # the one answered 504 was not sent again
    if path != "/api/v1/monitor":
        assert "adopted" in {action for action, _ in reported(out).values()}
    assert managed(fake) == (1, 1, 2)
    assert apply(fake)[0] == 0 and managed(fake) == (1, 1, 2)
    assert destroy(fake)[0] == 0 and managed(fake) == (0, 0, 0)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_failed_create_is_not_retried_and_a_rerun_completes(fake, status):
    fake.fail("POST", "/api/v2/downtime", status)
    code, out = apply(fake)
    assert code == 3 and f"HTTP {status}" in out
    assert fake.count("POST", "/api/v2/downtime") == 1
    assert fake.count("GET", "/api/v2/downtime") >= 1  # looked for by its marker before giving up
    assert managed(fake) == (1, 1, 0)
    code, out = apply(fake)
    assert code == 0, out
    assert managed(fake) == (1, 1, 2)


def test_a_refused_lookup_after_a_lost_create_names_the_listing(fake):
    fake.fail("POST", "/api/v1/dashboard", 502)
    fake.fail("GET", "/api/v1/dashboard", 403)
    code, out = apply(fake)
    assert code == 3 and "list the dashboard" in out and "dashboards_read" in out


def test_403_names_the_key_and_permission_to_check(fake, fake_keys):
    fake.fail("POST", "/api/v1/dashboard", 403)
    code, out = apply(fake)
    assert code == 3
    assert "403" in out and "DD_APP_KEY" in out and "dashboards_write" in out
    assert fake.dashboards == {}
    assert_no_key(out, fake_keys)


def test_429_is_retried_and_apply_completes(fake):
    fake.fail("POST", "/api/v1/monitor", 429, headers={"X-RateLimit-Reset": "0"})
    code, out = apply(fake)
    assert code == 0, out
    assert fake.count("POST", "/api/v1/monitor") == 2 and len(fake.monitors) == 1


def test_429_after_all_retries_says_to_wait_and_rerun(fake, fake_keys):
    fake.fail("POST", "/api/v1/monitor", 429, times=3, headers={"X-RateLimit-Reset": "0"})
    code, out = apply(fake)
    assert code == 3 and "429" in out and "create the monitor" in out and "re-run" in out
    assert_no_key(out, fake_keys)


def test_401_says_to_check_the_keys_and_site(fake):
    fake.fail("GET", "/api/v1/monitor", 401)
    code, out = apply(fake)
    assert code == 3 and "401" in out and fake.url in out
    assert "DD_API_KEY" in out and "--site" in out and fake.monitors == {}


def test_a_server_error_names_status_action_and_host(fake):
    fake.fail("POST", "/api/v2/downtime", 500)
    code, out = apply(fake)
    assert code == 3
    assert "HTTP 500" in out and "create the downtime" in out and fake.url in out


@pytest.mark.parametrize("status", [400, 402, 404, 409])
def test_a_refused_request_names_status_and_the_servers_errors(fake, status):
    fake.fail("GET", "/api/v1/monitor", status)
    code, out = apply(fake)
    assert code == 3
    assert f"HTTP {status}" in out and "list the monitor" in out and f"injected {status}" in out


def test_a_downtime_start_refused_as_past_points_at_this_machines_clock(fake_keys, clock):
    # This machine's clock is 8 days behind the server's: the start apply computes is in the server's past.
    with FakeDatadog(now=lambda: clock.now + timedelta(days=8)) as ahead:
        code, out = apply(ahead)
    assert code == 3 and PAST_START in out and "clock" in out
    assert ahead.active_downtimes() == []


def test_dry_run_needs_no_keys_and_touches_no_network(monkeypatch):
    connections = []

    def refuse(*args, **kwargs):
        connections.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    argv = ["apply", "--notify", "@a@example.com", "--api-url", "http://127.0.0.1:9", "--max-retries", "0"]
    with contextlib.suppress(Exception):  # the guard sees the connection a real apply opens...
        cli(*argv)
    assert connections
    connections.clear()
    monkeypatch.delenv("DD_API_KEY")
    monkeypatch.delenv("DD_APP_KEY")
    code, out = cli(*argv, "--dry-run")  # ...and none from the dry run, which needs no keys
    assert code == 0, out
    assert connections == []
    assert "== dashboard ==" in out and "== downtime weekend ==" in out and "@a@example.com" in out


def test_destroy_dry_run_describes_the_real_order(monkeypatch):
    monkeypatch.delenv("DD_API_KEY", raising=False)
    code, out = cli("destroy", "--dry-run", "--api-url", "http://127.0.0.1:9")
    assert code == 0, out
    steps = [out.index(step) for step in ("cancel the downtimes", "delete the dashboard", "delete the monitor last")]
    assert steps == sorted(steps)


def test_missing_keys_are_named(monkeypatch):
    monkeypatch.delenv("DD_API_KEY", raising=False)
    monkeypatch.setenv("DD_APP_KEY", "x")
    code, out = cli("apply", "--notify", "@a@example.com")
    assert code == 2 and "DD_API_KEY" in out and "DD_APP_KEY" not in out.split("DD_API_KEY")[0]


def settings_for(fake, **overrides):
    return provision.Settings(
        notify=NOTIFY, timezone=ZoneInfo("Europe/Paris"), api_url=fake.url, retry_backoff=0, **overrides
    )


def test_every_request_carries_the_keys_of_the_settings(fake, real_assets, monkeypatch):
    # Other values in the environment, where the client also looks: the settings' keys must win.
    monkeypatch.setenv("DD_API_KEY", secrets.token_hex(16))
    monkeypatch.setenv("DD_APP_KEY", secrets.token_hex(20))
    settings = settings_for(fake, api_key=secrets.token_hex(16), app_key=secrets.token_hex(20))
    Reconciler(provision.Provisioner(settings, log=lambda _: None), real_assets).apply()
    assert {(h["DD-API-KEY"], h["DD-APPLICATION-KEY"]) for h in fake.headers_seen} == {
        (settings.api_key, settings.app_key)
    }


@pytest.mark.parametrize(
    "site, host",
    [
        ("datadoghq.com", "https://api.datadoghq.com"),
        ("datadoghq.eu", "https://api.datadoghq.eu"),
        ("us3.datadoghq.com", "https://api.us3.datadoghq.com"),
        ("ddog-gov.com", "https://api.ddog-gov.com"),
    ],
)
def test_site_chooses_the_api_host(monkeypatch, site, host):
    monkeypatch.setenv("DD_SITE", "ap1.datadoghq.com")  # read by the client itself; the setting must win
    assert provision.configuration(provision.Settings(notify="@a", timezone=ZoneInfo("UTC"), site=site)).host == host
    with_url = provision.Settings(notify="@a", timezone=ZoneInfo("UTC"), api_url=host + ":8443")
    assert provision.configuration(with_url).host == host + ":8443"


def test_retries_follow_the_settings_and_never_resend_a_create_after_a_5xx():
    settings = provision.Settings(
        notify="@a", timezone=ZoneInfo("UTC"), max_retries=5, retry_backoff=0.5, read_timeout=7
    )
    config = provision.configuration(settings)
    policy = config.retry_policy
    assert (policy.total, policy.backoff_factor, config.request_timeout) == (5, 0.5, (10, 7))
    assert policy.is_retry("PUT", 502) and policy.is_retry("GET", 429)
    assert policy.is_retry("POST", 429) and not policy.is_retry("POST", 502) and not policy.is_retry("POST", 504)
    assert "POST" not in policy.allowed_methods  # nor after a connection cut while waiting for the answer


def test_the_monitor_sent_is_the_asset_plus_the_handle_and_the_marker(fake, real_assets):
    assert apply(fake)[0] == 0
    [monitor] = fake.monitors.values()
    own_tags = {tag for tag in monitor["tags"] if not tag.startswith(RECORD_PREFIX)}
    assert own_tags == set(real_assets.monitor["definition"]["tags"]) | {provision.MANAGED_BY}
    assert monitor["message"] == f"{real_assets.monitor['definition']['message'].rstrip()}\n\nNotify: {NOTIFY}"


@pytest.mark.parametrize("status", ["canceled", "ended"])
def test_a_canceled_or_ended_downtime_is_made_again_not_updated(fake, status):
    assert apply(fake)[0] == 0
    old_id, old = next(iter(fake.downtimes.items()))
    old["attributes"]["status"] = status
    before = dict(old["attributes"])
    code, out = apply(fake)
    assert code == 0, out
    assert fake.downtimes[old_id]["attributes"] == before
    assert [action for action, _ in reported(out).values()].count("created") == 1 and managed(fake) == (1, 1, 2)


def test_apply_after_destroy_makes_everything_anew(fake):
    assert apply(fake)[0] == 0 and destroy(fake)[0] == 0
    code, out = apply(fake)
    assert code == 0, out
    assert [action for action, _ in reported(out).values()] == ["created"] * 4 and managed(fake) == (1, 1, 2)


def test_a_recorded_downtime_moved_to_another_monitor_is_not_adopted(fake):
    assert apply(fake)[0] == 0
    moved_id, moved = next(iter(fake.downtimes.items()))
    moved["attributes"]["monitor_identifier"] = {"monitor_id": 999}
    code, out = apply(fake)
    assert code == 0, out
    assert fake.count("PATCH", f"/api/v2/downtime/{moved_id}") == 0
    assert moved["attributes"]["monitor_identifier"] == {"monitor_id": 999}
    assert [action for action, _ in reported(out).values()].count("created") == 1


def test_a_recorded_dashboard_deleted_by_hand_is_made_again(fake):
    assert apply(fake)[0] == 0
    fake.dashboards.clear()
    code, out = apply(fake)
    assert code == 0, out
    [dashboard_id] = fake.dashboards
    assert reported(out)["dashboard"] == ("created", dashboard_id)
    [monitor] = fake.monitors.values()
    assert records_of(monitor["tags"])["dashboard"] == dashboard_id


@pytest.mark.parametrize(
    "method, path, edit, doing, permission",
    [
        ("GET", r"/api/v2/downtime/[\w-]+", None, "read the downtime", "monitors_downtime"),
        ("GET", r"/api/v1/dashboard/[\w-]+", None, "read the dashboard", "dashboards_read"),
        ("PUT", r"/api/v1/monitor/\d+", "monitor", "update the monitor", "monitors_write"),
        ("PATCH", r"/api/v2/downtime/[\w-]+", "downtime", "update the downtime", "monitors_downtime"),
        ("PUT", r"/api/v1/dashboard/[\w-]+", "dashboard", "update the dashboard", "dashboards_write"),
    ],
)
def test_a_refused_request_of_a_second_apply_names_what_it_was_doing(fake, method, path, edit, doing, permission):
    assert apply(fake)[0] == 0
    if edit == "monitor":
        next(iter(fake.monitors.values()))["name"] = "edited"
    elif edit == "downtime":
        next(iter(fake.downtimes.values()))["attributes"]["scope"] = "env:edited"
    elif edit == "dashboard":
        next(iter(fake.dashboards.values()))["title"] = "edited"
    fake.fail(method, path, 403)
    code, out = apply(fake)
    assert code == 3, out
    assert "403" in out and doing in out and permission in out and fake.url in out


def test_a_new_notify_handle_reaches_the_existing_monitor(fake):
    assert apply(fake)[0] == 0
    assert cli("apply", "--notify", "@night-shift@example.com", "--api-url", fake.url, "--max-retries", "0")[0] == 0
    [monitor] = fake.monitors.values()
    assert monitor["message"].endswith("Notify: @night-shift@example.com")


def test_records_are_read_from_their_own_tags_only():
    tags = ["integration:my_metric", f"{RECORD_PREFIX}dashboard:abc-def", f"{RECORD_PREFIX}creating:run1-17"]
    assert records_of(tags) == {"dashboard": "abc-def"}


def test_the_catch_up_downtime_is_displayed_in_the_chosen_timezone(real_assets):
    settings = provision.Settings(notify="@a@example.com", timezone=ZoneInfo("Europe/Paris"))
    template = real_assets.downtimes["weekend"]
    assert template["data"]["attributes"]["display_timezone"] != "Europe/Paris"
    payload = provision.catch_up_payload(template, 42, settings, WEEKNIGHT)
    assert payload["data"]["attributes"]["display_timezone"] == "Europe/Paris"


def test_a_dashboard_without_a_description_is_described_by_the_marker_alone(real_assets):
    assets = copy.deepcopy(real_assets)
    assets.dashboard.pop("description", None)
    assert provision.dashboard_payload(assets)["description"] == f"[{provision.MANAGED_BY}]"


def test_the_monitor_message_is_the_stored_text_then_the_handle(real_assets):
    assets = copy.deepcopy(real_assets)
    assets.monitor["definition"]["message"] = "Text of the alert.  \n\n"
    payload = provision.monitor_payload(assets, provision.Settings(notify="@ops@example.com", timezone=ZoneInfo("UTC")))
    assert payload["message"] == "Text of the alert.\n\nNotify: @ops@example.com"


def test_a_long_error_body_is_cut_to_300_characters():
    error = ApiException(status=400, reason="Bad Request")
    error.body = json.dumps({"errors": ["x" * 400]})
    assert provision._server_errors(error) == "x" * 297 + "..."
    error.body = json.dumps({"errors": ["x" * 300]})
    assert provision._server_errors(error) == "x" * 300


def test_a_deadline_passed_before_the_first_request_says_so():
    settings = provision.Settings(notify="@ops@example.com", timezone=ZoneInfo("UTC"), deadline=0.5)
    text = str(provision.Provisioner(settings, log=lambda _: None)._deadline_error())
    assert "deadline of 0.5 s" in text and "api.datadoghq.com" in text
