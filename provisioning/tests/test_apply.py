"""apply: writes only what differs from the live org, never creates the same object twice, and names what failed."""

import copy
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from my_metric_provisioning import provision
from my_metric_provisioning.reconcile import RECORD_PREFIX, foreign_lock, lock_tag, records_of

from .common import NOTIFY, WEEKNIGHT, apply, assert_no_key, cli, destroy, managed, reported, writes
from .fake_datadog import PAST_START, FakeDatadog

pytestmark = pytest.mark.usefixtures("fake_keys")


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


@pytest.mark.parametrize("path, objects", [("/api/v1/monitor", 1), ("/api/v1/dashboard", 1), ("/api/v2/downtime", 2)])
def test_a_create_answered_504_after_it_was_made_is_adopted(fake, path, objects):
    fake.fail("POST", path, 504, made=True)
    code, out = apply(fake)
    assert code == 0 and fake.count("POST", path) == objects, out  # the one answered 504 was not sent again
    if path != "/api/v1/monitor":
        assert "adopted" in {action for action, _ in reported(out).values()}
    assert managed(fake) == (1, 1, 2)
    assert apply(fake)[0] == 0 and managed(fake) == (1, 1, 2)
    assert destroy(fake)[0] == 0 and managed(fake) == (0, 0, 0)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_failed_create_is_not_retried_and_a_rerun_completes(fake, status):
    fake.fail("POST", "/api/v2/downtime", status)
    code, out = apply(fake)
    assert code == 3 and str(status) in out
    assert fake.count("POST", "/api/v2/downtime") == 1
    assert fake.count("GET", "/api/v2/downtime") >= 1  # looked for by its marker before giving up
    assert managed(fake) == (1, 1, 0)
    code, out = apply(fake)
    assert code == 0 and managed(fake) == (1, 1, 2), out


@pytest.mark.parametrize(
    "path, kind, permission",
    [("/api/v1/dashboard", "dashboard", "dashboards_read"), ("/api/v2/downtime", "downtime", "monitors_downtime")],
)
def test_a_refused_lookup_after_a_lost_create_names_the_listing(fake, path, kind, permission):
    fake.fail("POST", path, 502)
    fake.fail("GET", path, 403)
    fake.fail(
        "PUT", r"/api/v1/monitor/\d+", 403
    )  # releasing the creating tag fails too: the first error is the one told
    code, out = apply(fake)
    assert code == 3 and f"list the {kind}" in out and permission in out and "update the monitor" not in out


@pytest.mark.parametrize("gone_meanwhile", [False, True])
def test_the_first_apply_of_the_day_cancels_the_catch_up_downtime_of_the_night(fake, clock, gone_meanwhile):
    clock.now = WEEKNIGHT
    assert apply(fake)[0] == 0 and managed(fake) == (1, 1, 3)
    if gone_meanwhile:  # canceled by hand between the reading and the cancel
        fake.fail("DELETE", r"/api/v2/downtime/[\w-]+", 404, made=True)
    clock.now = WEEKNIGHT + timedelta(hours=12)  # Thursday 11:30 in Paris
    code, out = apply(fake)
    assert code == 0 and reported(out)["downtime catch-up"][0] == "canceled", out
    assert managed(fake) == (1, 1, 2) and not any("catch-up" in str(m["tags"]) for m in fake.monitors.values())


def test_a_refused_cancel_of_the_catch_up_downtime_names_it_and_the_permission(fake, fake_keys, clock):
    clock.now = WEEKNIGHT
    assert apply(fake)[0] == 0
    fake.fail("DELETE", r"/api/v2/downtime/[\w-]+", 403, times=3)
    clock.now = WEEKNIGHT + timedelta(hours=12)
    code, out = apply(fake)
    assert code == 3 and all(text in out for text in ["403", "cancel the downtime", "monitors_downtime", fake.url]), out
    assert_no_key(out, fake_keys)
    assert managed(fake) == (1, 1, 3)
    fake.failures.clear()
    assert apply(fake)[0] == 0 and managed(fake) == (1, 1, 2)  # still recorded: the next run cancels it


def test_a_run_that_fails_after_tagging_the_monitor_removes_its_creating_tag(fake):
    assert apply(fake)[0] == 0
    fake.downtimes.clear()
    fake.fail("POST", "/api/v2/downtime", 403)
    assert apply(fake)[0] == 3
    [monitor] = fake.monitors.values()
    assert not any(tag.startswith(f"{RECORD_PREFIX}creating:") for tag in monitor["tags"])  # the next run need not wait


def test_429_is_retried_and_apply_completes(fake):
    fake.fail("POST", "/api/v1/monitor", 429, headers={"X-RateLimit-Reset": "0"})
    code, out = apply(fake)
    assert code == 0 and fake.count("POST", "/api/v1/monitor") == 2 and len(fake.monitors) == 1, out


EDITS = {  # what changes in the org between a first apply and the one that is refused
    "nothing": lambda fake: None,
    "monitor": lambda fake: next(iter(fake.monitors.values())).update(name="edited"),
    "downtime": lambda fake: next(iter(fake.downtimes.values()))["attributes"].update(scope="env:edited"),
    "dashboard": lambda fake: next(iter(fake.dashboards.values())).update(title="edited"),
    "downtimes deleted": lambda fake: fake.downtimes.clear(),  # apply takes the creating tag, then reads it back
}


@pytest.mark.parametrize(
    "method, path, status, edit, named",
    [
        ("POST", "/api/v1/dashboard", 403, None, ["403", "create the dashboard", "DD_APP_KEY", "dashboards_write"]),
        ("POST", "/api/v1/monitor", 429, None, ["429", "create the monitor", "re-run"]),
        ("GET", "/api/v1/monitor", 401, None, ["401", "list the monitor", "DD_API_KEY", "--site"]),
        ("GET", "/api/v1/monitor", 404, None, ["404", "list the monitor", "injected 404"]),
        ("POST", "/api/v2/downtime", 500, None, ["500", "create the downtime"]),
        ("GET", r"/api/v2/downtime/[\w-]+", 403, "nothing", ["403", "read the downtime", "monitors_downtime"]),
        ("GET", r"/api/v1/dashboard/[\w-]+", 403, "nothing", ["403", "read the dashboard", "dashboards_read"]),
        ("PUT", r"/api/v1/monitor/\d+", 403, "monitor", ["403", "update the monitor", "monitors_write"]),
        ("PATCH", r"/api/v2/downtime/[\w-]+", 403, "downtime", ["403", "update the downtime", "monitors_downtime"]),
        ("PUT", r"/api/v1/dashboard/[\w-]+", 403, "dashboard", ["403", "update the dashboard", "dashboards_write"]),
        ("GET", r"/api/v1/monitor/\d+", 403, "downtimes deleted", ["403", "read the monitor", "monitors_read"]),
    ],
)
def test_a_refused_call_names_the_status_the_call_the_host_and_what_to_check(
    fake, fake_keys, method, path, status, edit, named
):
    if edit:
        assert apply(fake)[0] == 0
        EDITS[edit](fake)
    fake.fail(method, path, status, times=3)
    code, out = apply(fake)
    assert code == 3 and all(text in out for text in named) and fake.url in out, out
    assert_no_key(out, fake_keys)


def test_a_downtime_start_refused_as_past_points_at_this_machines_clock(fake_keys, clock):
    # This machine's clock is 8 days behind the server's: the start apply computes is in the server's past.
    with FakeDatadog(now=lambda: clock.now + timedelta(days=8)) as ahead:
        code, out = apply(ahead)
    assert code == 3 and PAST_START in out and "clock" in out  # the server's reason, and what to check
    assert ahead.active_downtimes() == []


@pytest.mark.parametrize(
    "site, host", [("datadoghq.eu", "https://api.datadoghq.eu"), ("us3.datadoghq.com", "https://api.us3.datadoghq.com")]
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


def test_the_monitor_sent_is_the_asset_plus_the_handle_and_the_marker_and_a_new_handle_reaches_it(fake, real_assets):
    assert apply(fake)[0] == 0
    [monitor] = fake.monitors.values()
    own_tags = {tag for tag in monitor["tags"] if not tag.startswith(RECORD_PREFIX)}
    assert own_tags == set(real_assets.monitor["definition"]["tags"]) | {provision.MANAGED_BY}
    assert monitor["message"] == f"{real_assets.monitor['definition']['message'].rstrip()}\n\nNotify: {NOTIFY}"
    assert cli("apply", "--notify", "@night-shift@example.com", "--api-url", fake.url, "--max-retries", "0")[0] == 0
    assert monitor["message"].endswith("Notify: @night-shift@example.com")


def first_downtime(fake):
    return next(iter(fake.downtimes.values()))["attributes"]


LOSSES = {  # how a recorded object stopped being ours
    "downtime canceled": lambda fake: first_downtime(fake).update(status="canceled"),
    "downtime ended": lambda fake: first_downtime(fake).update(status="ended"),
    "downtime moved to another monitor": lambda fake: first_downtime(fake).update(monitor_identifier={"monitor_id": 9}),
    "dashboard deleted": lambda fake: fake.dashboards.clear(),
}


@pytest.mark.parametrize("loss", LOSSES)
def test_a_recorded_object_no_longer_ours_is_made_again_and_the_old_one_left_alone(fake, loss):
    assert apply(fake)[0] == 0
    LOSSES[loss](fake)
    before = copy.deepcopy(fake.downtimes)
    code, out = apply(fake)
    assert code == 0, out
    [(kind, (_, new_id))] = [(kind, done) for kind, done in reported(out).items() if done[0] == "created"]
    [monitor] = [m for m in fake.monitors.values() if provision.MANAGED_BY in m["tags"]]
    assert records_of(monitor["tags"])[kind.replace(" ", "-")] == new_id
    assert all(fake.downtimes[i] == downtime for i, downtime in before.items())  # the old one not updated


def test_records_and_the_creating_tag_are_read_from_their_own_tags_only():
    tags = ["integration:my_metric", f"{RECORD_PREFIX}dashboard:abc-def", f"{RECORD_PREFIX}creating:run1-17"]
    assert records_of(tags) == {"dashboard": "abc-def"}
    assert foreign_lock(tags, "run2") is None  # made at 17 s after 1970: a run that died long ago
    assert (
        foreign_lock([*tags, lock_tag("run-2")], "run1") == "run-2" and foreign_lock([lock_tag("run1")], "run1") is None
    )


def test_the_payloads_carry_the_handle_the_timezone_and_the_marker(real_assets):
    assets = copy.deepcopy(real_assets)
    assets.dashboard.pop("description", None)
    assets.monitor["definition"]["message"] = "Text of the alert.  \n\n"
    settings = provision.Settings(notify="@ops@example.com", timezone=ZoneInfo("Europe/Paris"))
    assert provision.dashboard_payload(assets)["description"] == f"[{provision.MANAGED_BY}]"
    assert provision.monitor_payload(assets, settings)["message"] == "Text of the alert.\n\nNotify: @ops@example.com"
    catch_up = provision.catch_up_payload(assets.downtimes["weekend"], 42, settings, WEEKNIGHT)["data"]["attributes"]
    assert catch_up["display_timezone"] == "Europe/Paris"  # the stored files say another zone
