import contextlib
import copy
import json
import secrets
import socket
from datetime import timedelta

import pytest
from common import FAST, WEEKNIGHT, apply, assert_no_key, cli, destroy, requests_of
from datadog_api_client.exceptions import ApiException
from fake_datadog import PAST_START, FakeDatadog
from my_metric_provisioning import provision


def test_two_applies_make_one_of_each_and_second_only_updates(fake, fake_keys):
    code, first = apply(fake)
    assert code == 0, first
    code, second = apply(fake)
    assert code == 0, second
    assert len(fake.dashboards) == 1 and len(fake.monitors) == 1 and len(fake.active_downtimes()) == 2
    assert "created" not in second and second.count("updated") == 4
    monitor_id = next(iter(fake.monitors))
    assert {d["attributes"]["monitor_identifier"]["monitor_id"] for d in fake.active_downtimes()} == {monitor_id}
    assert all(d["attributes"]["schedule"]["timezone"] == "Europe/Paris" for d in fake.active_downtimes())
    assert all("@ops-team@example.com" in d["attributes"]["message"] for d in fake.active_downtimes())
    assert fake.monitors[monitor_id]["message"].endswith("Notify: @ops-team@example.com")
    sent = fake.headers_seen[0]
    assert sent["DD-API-KEY"] == fake_keys["DD_API_KEY"] and sent["DD-APPLICATION-KEY"] == fake_keys["DD_APP_KEY"]
    assert_no_key(first + second, fake_keys)


def test_destroy_removes_only_what_apply_made(fake, fake_keys):
    fake.dashboards["other-000-aaa"] = {
        "title": "my_metric - Overview",
        "description": "hand made",
        "layout_type": "ordered",
        "widgets": [],
    }
    fake.monitors[999] = {
        "id": 999,
        "name": "someone else's",
        "type": "query alert",
        "query": "avg(last_5m):avg:x{*} > 1",
        "tags": ["integration:my_metric"],
    }
    assert apply(fake)[0] == 0
    code, out = destroy(fake)
    assert code == 0, out
    assert list(fake.dashboards) == ["other-000-aaa"]
    assert list(fake.monitors) == [999]
    assert fake.active_downtimes() == []
    assert_no_key(out, fake_keys)


def test_403_names_the_key_and_permission_to_check(fake, fake_keys):
    fake.fail("POST", "/api/v1/dashboard", 403)
    code, out = apply(fake)
    assert code == 3
    assert "403 Forbidden" in out and "DD_APP_KEY" in out and "dashboards_write" in out
    assert fake.dashboards == {}
    assert_no_key(out, fake_keys)


def test_429_is_retried_and_apply_completes(fake, fake_keys):
    fake.fail("POST", "/api/v1/monitor", 429, headers={"X-RateLimit-Reset": "0"})
    code, out = apply(fake)
    assert code == 0, out
    assert fake.count("POST", "/api/v1/monitor") == 2
    assert len(fake.monitors) == 1


def test_429_after_all_retries_says_to_wait_and_rerun(fake, fake_keys):
    fake.fail("POST", "/api/v1/monitor", 429, times=3, headers={"X-RateLimit-Reset": "0"})
    code, out = apply(fake)
    assert code == 3 and "429" in out and "re-run" in out
    assert out.splitlines()[-1] == (
        "error: 429 Too Many Requests while trying to create the monitor, still rate limited after 2 retries. "
        "Wait a minute and re-run apply: it resumes where it stopped."
    )
    assert_no_key(out, fake_keys)


def test_500_midway_then_rerun_converges(fake, fake_keys):
    fake.fail("POST", "/api/v2/downtime", 500, times=3)
    code, out = apply(fake)
    assert code == 3 and "HTTP 500" in out and "Re-run" in out
    assert len(fake.dashboards) == 1 and len(fake.monitors) == 1 and fake.active_downtimes() == []
    code, out = apply(fake)
    assert code == 0, out
    assert len(fake.dashboards) == 1 and len(fake.monitors) == 1 and len(fake.active_downtimes()) == 2
    assert_no_key(out, fake_keys)


def test_dry_run_needs_no_keys_and_touches_no_network(monkeypatch, fake_keys):
    connections = []

    def refuse(*args, **kwargs):
        connections.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    argv = ["apply", "--notify", "@a@example.com", "--api-url", "http://127.0.0.1:9", "--max-retries", "0"]
    # The guard sees the connection a real apply opens (how that apply fails is other tests' business)...
    with contextlib.suppress(Exception):
        cli(*argv)
    assert connections
    connections.clear()
    monkeypatch.delenv("DD_API_KEY")
    monkeypatch.delenv("DD_APP_KEY")
    # ...and none from the dry run, which needs no keys.
    code, out = cli(*argv, "--dry-run")
    assert code == 0, out
    assert connections == []
    assert "== create or update dashboard ==" in out and "== create or update downtime weekend ==" in out
    assert '"monitor_id": "<id of the monitor above>"' in out


def test_destroy_dry_run_describes_the_real_order(monkeypatch):
    monkeypatch.delenv("DD_API_KEY", raising=False)
    code, out = cli("destroy", "--dry-run", "--api-url", "http://127.0.0.1:9")
    assert code == 0, out
    steps = [out.index(step) for step in ("cancel the downtimes", "delete the dashboard", "delete the monitor last")]
    assert steps == sorted(steps) and "holds those records" in out


def test_missing_keys_are_named(monkeypatch):
    monkeypatch.delenv("DD_API_KEY", raising=False)
    monkeypatch.setenv("DD_APP_KEY", "x")
    code, out = cli("apply", "--notify", "@a@example.com")
    assert code == 2 and "DD_API_KEY not set" in out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            ["apply", "--dry-run", "--notify", "ops@example.com"],
            "--notify 'ops@example.com': give one handle starting with @",
        ),
        (["--timezone", "Paris", "apply", "--dry-run"], "--timezone 'Paris': use an IANA timezone name"),
        (["--timezone", "europe/paris", "validate"], "did you mean Europe/Paris?"),
        (
            ["apply", "--dry-run", "--site", "https://app.datadoghq.com"],
            "--site 'https://app.datadoghq.com': not a Datadog site (did you mean 'datadoghq.com'?)",
        ),
        (["--assets-dir", "/nonexistent", "validate"], "--assets-dir: no manifest.json in /nonexistent"),
    ],
)
def test_bad_input_names_the_field_and_fix(argv, expected):
    code, out = cli(*argv)
    assert code == 2
    assert expected in out


def settings_for(fake, **overrides):
    return provision.Settings(
        notify="@ops-team@example.com", timezone="Europe/Paris", api_url=fake.url, retry_backoff=0, **overrides
    )


def test_every_request_carries_the_keys_of_the_settings(fake, real_assets, monkeypatch):
    # Other values in the environment, where the client also looks: the settings' keys must win.
    monkeypatch.setenv("DD_API_KEY", secrets.token_hex(16))
    monkeypatch.setenv("DD_APP_KEY", secrets.token_hex(20))
    settings = settings_for(fake, api_key=secrets.token_hex(16), app_key=secrets.token_hex(20))
    provision.Provisioner(real_assets, settings, log=lambda _: None).apply()
    assert fake.headers_seen
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
    config = provision.configuration(provision.Settings(notify="@a", timezone="UTC", site=site))
    assert config.host == host
    assert provision.configuration(provision.Settings(notify="@a", timezone="UTC", api_url=host + ":8443")).host == (
        host + ":8443"
    )


def test_retries_follow_the_settings():
    policy = provision.configuration(
        provision.Settings(notify="@a", timezone="UTC", max_retries=5, retry_backoff=0.5)
    ).retry_policy
    assert (policy.total, policy.backoff_factor) == (5, 0.5)
    timeouts = provision.configuration(
        provision.Settings(notify="@a", timezone="UTC", connect_timeout=3, read_timeout=7)
    )
    assert timeouts.request_timeout == (3, 7)
    assert 429 in policy.RETRY_AFTER_STATUS_CODES


def test_monitor_is_sent_with_the_asset_message_and_tags_plus_notify_and_managed_tag(fake, fake_keys, real_assets):
    assert apply(fake)[0] == 0
    [monitor] = fake.monitors.values()
    own_tags = {tag for tag in monitor["tags"] if not tag.startswith(provision.RECORD_PREFIX)}
    assert own_tags == set(real_assets.monitor["definition"]["tags"]) | {provision.MANAGED_BY}
    asset_message = real_assets.monitor["definition"]["message"].rstrip()
    assert monitor["message"] == f"{asset_message}\n\nNotify: @ops-team@example.com"


def test_401_says_to_check_the_keys_and_site(fake, fake_keys):
    fake.fail("GET", "/api/v1/monitor", 401)
    code, out = apply(fake)
    assert code == 3
    assert (
        f"401 Unauthorized while trying to list the monitor at {fake.url}. "
        "Check DD_API_KEY and DD_APP_KEY, and --site / DD_SITE." in out
    )
    assert fake.monitors == {}


@pytest.mark.parametrize("status", ["canceled", "ended"])
def test_apply_never_updates_a_canceled_or_ended_downtime(fake, fake_keys, status):
    assert apply(fake)[0] == 0
    old_id, old = next(iter(fake.downtimes.items()))
    old["attributes"]["status"] = status
    before = dict(old["attributes"])
    code, out = apply(fake)
    assert code == 0, out
    assert fake.downtimes[old_id]["attributes"] == before
    assert fake.count("PATCH", f"/api/v2/downtime/{old_id}") == 0
    assert len(fake.active_downtimes()) == 2 and out.count("created") == 1


def test_apply_after_destroy_makes_everything_anew(fake, fake_keys):
    assert apply(fake)[0] == 0
    first_downtimes = set(fake.downtimes)
    assert cli("destroy", "--api-url", fake.url, *FAST)[0] == 0
    code, out = apply(fake)
    assert code == 0, out
    assert out.count("created") == 4 and "updated" not in out
    assert all(fake.downtimes[d]["attributes"]["status"] == "canceled" for d in first_downtimes)
    assert len(fake.active_downtimes()) == 2 and len(fake.monitors) == 1 and len(fake.dashboards) == 1


def test_two_managed_monitors_are_named_in_a_warning(fake, fake_keys):
    assert apply(fake)[0] == 0
    [(first_id, monitor)] = fake.monitors.items()
    fake.monitors[first_id + 100] = dict(monitor, id=first_id + 100)
    code, out = apply(fake)
    assert code == 0, out
    assert (
        f"warning: 2 monitor objects carry the provisioning marker; kept {first_id}, left {first_id + 100} "
        "(remove them with destroy --full-scan, then apply)." in out
    )


def test_a_full_scan_names_marked_copies_of_the_dashboard_and_a_downtime(fake, fake_keys):
    assert apply(fake)[0] == 0
    [(dashboard_id, dashboard)] = fake.dashboards.items()
    fake.dashboards["copy-000-xyz"] = dict(dashboard, id="copy-000-xyz")
    weeknights_id = next(i for i, d in fake.downtimes.items() if "weeknights" in d["attributes"]["message"])
    copy_id = "00000000-0000-0000-0000-999999999999"
    fake.downtimes[copy_id] = copy.deepcopy(dict(fake.downtimes[weeknights_id], id=copy_id))
    code, out = apply(fake, "--full-scan")
    assert code == 0, out
    assert (
        f"warning: 2 dashboard objects carry the provisioning marker; kept {dashboard_id}, left copy-000-xyz "
        "(remove them with destroy --full-scan, then apply)." in out
    )
    assert (
        f"warning: 2 downtime weeknights objects carry the provisioning marker; kept {weeknights_id}, left {copy_id} "
        "(remove them with destroy --full-scan, then apply)." in out
    )
    assert out.count("warning:") == 2


def test_server_error_names_status_reason_action_and_host(fake, fake_keys):
    fake.fail("POST", "/api/v2/downtime", 500, times=3)
    code, out = apply(fake)
    assert code == 3
    assert f"HTTP 500 Internal Server Error while trying to create the downtime at {fake.url}. " in out
    assert out.splitlines()[-1] == (
        f"error: HTTP 500 Internal Server Error while trying to create the downtime at {fake.url}. "
        "Re-run the same command: objects already made are found and updated, not duplicated."
    )


@pytest.mark.parametrize(
    "status, reason", [(400, "Bad Request"), (402, "Payment Required"), (404, "Not Found"), (409, "Conflict")]
)
def test_a_refused_request_names_status_reason_and_the_servers_errors(fake, fake_keys, status, reason):
    fake.fail("GET", "/api/v1/monitor", status)
    code, out = apply(fake)
    assert code == 3
    assert out.splitlines()[-1] == (
        f"error: HTTP {status} {reason} while trying to list the monitor at {fake.url}: injected {status}. "
        "Datadog refused the request itself, so sending it again unchanged gets the same answer."
    )


def test_a_downtime_start_refused_as_past_points_at_this_machines_clock(fake_keys, clock):
    # This machine's clock is 8 days behind the server's: the start apply computes is in the server's past.
    with FakeDatadog(now=lambda: clock.now + timedelta(days=8)) as ahead:
        code, out = apply(ahead)
    assert code == 3
    assert out.splitlines()[-1] == (
        f"error: HTTP 400 Bad Request while trying to create the downtime at {ahead.url}: {PAST_START}: "
        "recurrence start 2026-05-23T05:00:00 Europe/Paris. Datadog refused the request itself, so sending it "
        "again unchanged gets the same answer. Check this machine's clock: downtimes are anchored a minute after "
        "its current time."
    )
    assert ahead.active_downtimes() == []


def test_a_refused_scan_names_the_downtime_permission(fake, fake_keys):
    assert apply(fake)[0] == 0
    fake.fail("GET", "/api/v2/downtime", 403)
    code, out = apply(fake, "--full-scan")
    assert code == 3
    assert "403 Forbidden while trying to list the downtime at" in out and "monitors_downtime" in out


def test_a_long_error_body_is_cut_to_300_characters():
    error = ApiException(status=400, reason="Bad Request")
    error.body = json.dumps({"errors": ["x" * 400]})
    assert provision._server_errors(error) == "x" * 297 + "..."


def test_an_error_body_of_300_characters_is_kept_whole():
    error = ApiException(status=400, reason="Bad Request")
    error.body = json.dumps({"errors": ["x" * 300]})
    assert provision._server_errors(error) == "x" * 300


def test_second_apply_reports_each_object_updated_by_id(fake, fake_keys):
    assert apply(fake)[0] == 0
    code, out = apply(fake)
    assert code == 0, out
    [monitor_id] = fake.monitors
    [dashboard_id] = fake.dashboards
    assert f"updated  monitor (id {monitor_id})" in out.splitlines()
    assert f"updated  dashboard (id {dashboard_id})" in out.splitlines()


@pytest.mark.parametrize("extra", [[], ["--full-scan"]], ids=["records", "full-scan"])
def test_a_recorded_downtime_moved_to_another_monitor_is_not_adopted(fake, fake_keys, extra):
    assert apply(fake)[0] == 0
    moved_id, moved = next(iter(fake.downtimes.items()))
    moved["attributes"]["monitor_identifier"] = {"monitor_id": 999}
    code, out = apply(fake, *extra)
    assert code == 0, out
    assert fake.count("PATCH", f"/api/v2/downtime/{moved_id}") == 0
    assert moved["attributes"]["monitor_identifier"] == {"monitor_id": 999}
    assert out.count("created") == 1


def test_the_catch_up_downtime_is_displayed_in_the_chosen_timezone(real_assets):
    settings = provision.Settings(notify="@a@example.com", timezone="Europe/Paris")
    template = real_assets.downtimes["weekend"]
    assert template["data"]["attributes"]["display_timezone"] != "Europe/Paris"
    payload = provision.catch_up_payload(template, 42, settings, WEEKNIGHT)
    assert payload["data"]["attributes"]["display_timezone"] == "Europe/Paris"


def test_records_are_read_from_their_own_tags_only():
    prefix = provision.RECORD_PREFIX
    tags = ["integration:my_metric", provision.RECORDS_TAG, f"{prefix}dashboard:abc-def", f"{prefix}pending:downtime-x"]
    records = provision.Records.from_tags(tags)
    assert (records.ids, records.pending, records.legacy) == ({"dashboard": "abc-def"}, {"downtime-x"}, False)
    assert records.tags() == [provision.RECORDS_TAG, f"{prefix}dashboard:abc-def", f"{prefix}pending:downtime-x"]


def test_an_apply_that_changes_no_record_updates_the_monitor_once(fake, fake_keys):
    assert apply(fake)[0] == 0
    second = requests_of(fake, lambda: apply(fake))
    assert second[("PUT", "/api/v1/monitor/{id}")] == 1  # its definition; the records it holds are unchanged


def test_three_managed_monitors_name_both_that_are_left(fake, fake_keys):
    assert apply(fake)[0] == 0
    [(first_id, monitor)] = fake.monitors.items()
    for extra in (100, 200):
        fake.monitors[first_id + extra] = dict(monitor, id=first_id + extra)
    code, out = apply(fake)
    assert code == 0, out
    assert f"kept {first_id}, left {first_id + 100}, {first_id + 200} (remove them" in out


@pytest.mark.parametrize(
    "method, path, doing, permission",
    [
        ("GET", r"/api/v2/downtime/[\w-]+", "read the downtime", "monitors_downtime"),
        ("GET", r"/api/v1/dashboard/[\w-]+", "read the dashboard", "dashboards_read and dashboards_write"),
        ("PUT", r"/api/v1/monitor/\d+", "update the monitor", "monitors_read and monitors_write"),
        ("PATCH", r"/api/v2/downtime/[\w-]+", "update the downtime", "monitors_downtime"),
    ],
    ids=["read a recorded downtime", "read the recorded dashboard", "update the monitor", "update a downtime"],
)
def test_a_refused_request_of_a_second_apply_names_what_it_was_doing(fake, fake_keys, method, path, doing, permission):
    assert apply(fake)[0] == 0
    fake.fail(method, path, 403)
    code, out = apply(fake)
    assert code == 3, out
    assert f"error: 403 Forbidden while trying to {doing} at {fake.url}. " in out
    assert f"allow {permission}," in out


def test_a_dashboard_without_a_description_is_described_by_the_marker_alone(real_assets):
    assets = copy.deepcopy(real_assets)
    assets.dashboard.pop("description", None)
    assert provision.dashboard_payload(assets)["description"] == f"[{provision.MANAGED_BY}]"


def test_a_recorded_dashboard_deleted_by_hand_is_made_again(fake, fake_keys):
    assert apply(fake)[0] == 0
    fake.dashboards.clear()
    code, out = apply(fake)
    assert code == 0, out
    [dashboard_id] = fake.dashboards
    assert f"created  dashboard (id {dashboard_id})" in out.splitlines()


def test_a_refused_save_of_the_records_names_the_monitor_update(fake, fake_keys):
    fake.fail("PUT", r"/api/v1/monitor/\d+", 403)  # the first PUT: records that the dashboard is being made
    code, out = apply(fake)
    assert code == 3, out
    assert f"error: 403 Forbidden while trying to update the monitor at {fake.url}. " in out
    # The monitor was created before: it carries the marker and the records tag, so a re-run adopts it.
    [monitor] = fake.monitors.values()
    assert {provision.MANAGED_BY, provision.RECORDS_TAG} <= set(monitor["tags"])


def test_full_scan_after_the_monitor_was_deleted_adopts_the_marked_dashboard(fake, fake_keys):
    assert apply(fake)[0] == 0
    [dashboard_id] = fake.dashboards
    fake.monitors.clear()
    code, out = apply(fake, "--full-scan")
    assert code == 0, out
    assert f"updated  dashboard (id {dashboard_id})" in out.splitlines() and len(fake.dashboards) == 1


def test_a_new_notify_handle_reaches_the_existing_monitor(fake, fake_keys):
    assert apply(fake)[0] == 0
    assert cli("apply", "--notify", "@night-shift@example.com", "--api-url", fake.url, "--max-retries", "0")[0] == 0
    [monitor] = fake.monitors.values()
    assert monitor["message"].endswith("Notify: @night-shift@example.com")


def test_a_first_apply_prints_the_created_monitor_by_id(fake, fake_keys):
    code, out = apply(fake)
    assert code == 0, out
    [monitor_id] = fake.monitors
    assert f"created  monitor (id {monitor_id})" in out.splitlines()


@pytest.mark.parametrize(
    "method, path, made_before, doing",
    [
        pytest.param("PUT", r"/api/v1/dashboard/[\w-]+", True, "update the dashboard", id="update"),
        pytest.param("POST", "/api/v1/dashboard", False, "create the dashboard", id="create"),
    ],
)
def test_a_refused_dashboard_call_names_it(fake, fake_keys, method, path, made_before, doing):
    if made_before:
        assert apply(fake)[0] == 0
    fake.fail(method, path, 403)
    code, out = apply(fake)
    assert code == 3, out
    assert f"error: 403 Forbidden while trying to {doing} at {fake.url}. " in out


def test_the_monitor_message_is_the_stored_text_then_the_handle(real_assets):
    assets = copy.deepcopy(real_assets)
    assets.monitor["definition"]["message"] = "Text of the alert.  \n\n"
    payload = provision.monitor_payload(assets, provision.Settings(notify="@ops@example.com", timezone="UTC"))
    assert payload["message"] == "Text of the alert.\n\nNotify: @ops@example.com"
    assert real_assets.monitor["definition"]["message"] != payload["message"]


def test_a_provisioner_reads_its_records_and_lists_nothing_unless_told_to_scan(fake, real_assets, fake_keys):
    assert apply(fake)[0] == 0
    settings = settings_for(fake, api_key=fake_keys["DD_API_KEY"], app_key=fake_keys["DD_APP_KEY"])
    before = fake.routes.copy()
    provision.Provisioner(real_assets, settings, log=lambda _: None).apply()
    made = fake.routes - before
    assert made[("GET", "/api/v1/dashboard")] == 0 and made[("GET", "/api/v2/downtime")] == 0
    assert made[("GET", "/api/v1/monitor")] == 1


def test_a_deadline_passed_before_the_first_request_says_so(real_assets):
    settings = provision.Settings(notify="@ops@example.com", timezone="UTC", deadline=0.5)
    provisioner = provision.Provisioner(real_assets, settings, log=lambda _: None)
    assert str(provisioner._deadline_error()) == (
        "gave up after the deadline of 0.5 s while trying to start the Datadog call at api.datadoghq.com (each "
        "attempt: connect timeout 10 s, read timeout 60 s). Re-run when api.datadoghq.com answers: nothing is "
        "duplicated."
    )
