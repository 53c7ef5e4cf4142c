"""Every recurrence starts at or after apply, the window apply runs in is covered by a one-time catch-up
downtime, and from apply on the muted minutes are exactly nights and weekends."""

import copy
import secrets
from datetime import datetime, time, timedelta, timezone
from time import tzset
from zoneinfo import ZoneInfo

import pytest
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest
from my_metric_provisioning import downtimes, provision
from my_metric_provisioning.provision import (
    CATCH_UP,
    Provisioner,
    Settings,
    catch_up_payload,
    current_time,  # bound before the autouse `clock` fixture replaces it in the module for every test
    downtime_marker,
    downtime_payload,
)
from my_metric_provisioning.reconcile import Reconciler
from my_metric_provisioning.strict import check_payload

from .common import NOTIFY, apply
from .fake_datadog import PAST_START

pytestmark = pytest.mark.usefixtures("fake_keys")

# (zone, local moment of apply, what it is); clock-change weekends of 2026: Paris 03-29 / 10-25,
# New York 03-08 / 11-01, Sydney 04-05 (ends) / 10-04 (starts).
MOMENTS = [
    ("Europe/Paris", datetime(2026, 5, 20, 23, 30), "weekday night"),
    ("Europe/Paris", datetime(2026, 5, 20, 1, 0), "early weekday morning"),
    ("Europe/Paris", datetime(2026, 5, 23, 14, 0), "Saturday"),
    ("Europe/Paris", datetime(2026, 5, 20, 11, 0), "working hours"),
    ("Europe/Paris", datetime(2026, 5, 22, 18, 59, 30), "30 s before the weekend opens"),
    ("Europe/Paris", datetime(2026, 5, 22, 18, 59), "the weekend opens exactly a lead later"),
    ("Europe/Paris", datetime(2026, 5, 25, 8, 59, 45), "15 s before Monday's work starts"),
    ("Europe/Paris", datetime(2026, 3, 28, 22, 0), "weekend of the spring change"),
    ("Europe/Paris", datetime(2026, 3, 29, 3, 30), "just after the spring change"),
    ("Europe/Paris", datetime(2026, 10, 25, 2, 30), "in the repeated autumn hour"),
    ("Europe/Paris", datetime(2026, 10, 23, 12, 0), "Friday before the autumn change"),
    ("America/New_York", datetime(2026, 5, 20, 23, 30), "weekday night"),
    ("America/New_York", datetime(2026, 5, 24, 9, 0), "Sunday morning"),
    ("America/New_York", datetime(2026, 5, 20, 11, 0), "working hours"),
    ("America/New_York", datetime(2026, 3, 8, 1, 30), "before the spring change"),
    ("America/New_York", datetime(2026, 11, 1, 1, 30), "in the repeated autumn hour"),
    ("America/New_York", datetime(2026, 10, 30, 20, 0), "Friday night before the autumn change"),
    ("Australia/Sydney", datetime(2026, 4, 4, 23, 0), "night before the autumn change"),
    ("Australia/Sydney", datetime(2026, 10, 3, 12, 0), "Saturday before the spring change"),
    ("Australia/Sydney", datetime(2026, 10, 5, 10, 0), "Monday after the spring change"),
]
IN_WORKING_HOURS = {"working hours", "Friday before the autumn change", "Monday after the spring change"}


def settings(zone):
    return Settings(notify=NOTIFY, timezone=ZoneInfo(zone))


def at(zone, local, fold=0):
    return local.replace(tzinfo=ZoneInfo(zone), fold=fold)


def payloads_at(assets, zone, now):
    return [downtime_payload(name, t, 1, settings(zone), now) for name, t in assets.downtimes.items()]


def one_time_of(payload, now):
    """The catch-up's (start, end): from when it is made unless it says otherwise."""
    if payload is None:
        return []
    schedule = payload["data"]["attributes"]["schedule"]
    start = datetime.fromisoformat(schedule["start"]) if "start" in schedule else now
    return [(start, datetime.fromisoformat(schedule["end"]))]


def coverage_from(payloads, zone, origin, days, one_time):
    """What the downtimes plus the one-time ones mute, minute by minute from the aware `origin` for `days`,
    against nights and weekends (the package proves whole years: `downtimes.coverage_problems`)."""
    tz, minutes = ZoneInfo(zone), days * 24 * 60
    origin = origin.astimezone(tz).replace(second=0, microsecond=0)
    # whole minutes counted on the wall clock from origin, as downtimes.muted_minutes counts them
    moments = (origin + timedelta(minutes=m) for m in range(minutes))
    expected = bytearray(not (m.weekday() < 5 and time(9) <= m.time() < time(19)) for m in moments)
    recurrences = [r for payload in payloads for r in downtimes.recurrences_of(payload)]
    problems = []
    for reading in downtimes.READINGS:
        muted = downtimes.muted_minutes(recurrences, tz, origin, minutes, reading)
        for start, end in one_time:
            first, last = (min(max(downtimes._minute(t.astimezone(tz), origin), 0), minutes) for t in (start, end))
            muted[first:last] = b"\x01" * max(last - first, 0)
        problems += downtimes._differences(muted, expected, origin, tz, reading)
    return problems


@pytest.mark.parametrize("zone, local, what", MOMENTS, ids=[f"{z}-{w}" for z, _, w in MOMENTS])
def test_from_apply_on_exactly_nights_and_weekends_are_muted(real_assets, zone, local, what):
    now = at(zone, local, fold=1 if "repeated" in what else 0)
    payloads = payloads_at(real_assets, zone, now)
    for item in (i for p in payloads for i in p["data"]["attributes"]["schedule"]["recurrences"]):
        start = datetime.fromisoformat(item["start"]).replace(tzinfo=now.tzinfo)
        assert now + downtimes.LEAD <= start <= now + timedelta(days=7)
    catch_up = catch_up_payload(real_assets.downtimes["weekend"], 1, settings(zone), now)
    assert (catch_up is None) == (what in IN_WORKING_HOURS)
    assert coverage_from(payloads, zone, now, 21, one_time_of(catch_up, now)) == []


def test_without_the_catch_up_the_current_night_would_alert(real_assets):
    now = at("Europe/Paris", datetime(2026, 5, 20, 23, 30))
    first = coverage_from(payloads_at(real_assets, "Europe/Paris", now), "Europe/Paris", now, 21, [])[0]
    assert (first.kind, first.start, first.end) == ("not muted", now, at("Europe/Paris", datetime(2026, 5, 21, 5, 0)))


def utc(*fields):
    return datetime(*fields, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "origin, one_time, problem",
    [
        pytest.param(
            utc(2026, 5, 22, 18),
            [(utc(2026, 5, 22, 19), utc(2026, 5, 23, 6))],
            ("not muted", utc(2026, 5, 23, 6), utc(2026, 5, 23, 18)),
            id="a one-time downtime mutes its own minutes",
        ),
        pytest.param(
            utc(2026, 5, 19, 18),
            [(utc(2026, 5, 19, 18, 59), utc(2026, 5, 20, 9))],
            ("muted during working hours", utc(2026, 5, 19, 18, 59), utc(2026, 5, 19, 19)),
            id="one minute into working hours",
        ),
    ],
)
def test_the_coverage_helper_finds_what_it_must(origin, one_time, problem):
    problems = coverage_from([], "UTC", origin, 1, one_time)
    assert [(p.kind, p.start, p.end) for p in problems] == [problem, problem]  # under each reading


def test_coverage_does_not_depend_on_the_machine_timezone(monkeypatch):
    # The machine 26 hours behind the downtimes' timezone (UTC-12 and UTC+14): the weeknight starting an hour
    # before the end of the window still counts.
    monkeypatch.setenv("TZ", "Etc/GMT+12")
    tzset()
    weeknights = {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start": "2026-05-18T19:00:00", "duration": "14h"}
    payload = {"data": {"attributes": {"schedule": {"recurrences": [weeknights]}}}}
    try:
        assert (
            coverage_from([payload], "Pacific/Kiritimati", at("Pacific/Kiritimati", datetime(2026, 5, 19, 20)), 1, [])
            == []
        )
    finally:
        monkeypatch.undo()
        tzset()


PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    "now, window",
    [
        pytest.param(datetime(2026, 3, 28, 22), (None, datetime(2026, 3, 30, 9)), id="across the spring change"),
        pytest.param(
            datetime(2026, 5, 22, 18, 59, 30),
            (datetime(2026, 5, 22, 19), datetime(2026, 5, 25, 9)),
            id="opens within the lead",
        ),
        pytest.param(datetime(2026, 5, 22, 18, 58), None, id="opens after the lead"),
        pytest.param(datetime(2026, 5, 25, 9), None, id="Monday 09:00 sharp"),
        pytest.param(datetime(2026, 5, 20, 19), (None, datetime(2026, 5, 21, 9)), id="19:00 sharp"),
    ],
)
def test_the_catch_up_window_runs_to_the_next_working_morning(now, window):
    local = None if window is None else tuple(t and t.replace(tzinfo=PARIS) for t in window)
    assert downtimes.catch_up_window(now.replace(tzinfo=PARIS)) == local


def provisioner(assets, fake):
    keys = {"api_key": secrets.token_hex(16), "app_key": secrets.token_hex(20)}
    config = Settings(notify=NOTIFY, timezone=PARIS, api_url=fake.url, max_retries=0, **keys)
    return Reconciler(Provisioner(config, log=lambda text: None), assets)


def run_at(assets, fake, clock, local):
    """Apply at `local` time in Paris: {kind: action} of the changes made."""
    clock.now = at("Europe/Paris", local)
    return {change.kind: change.action for change in provisioner(assets, fake).apply()}


def managed_downtimes(fake):
    names = ("weeknights", "weekend", CATCH_UP)
    return {
        name: d
        for d in fake.active_downtimes()
        for name in names
        if downtime_marker(name) in d["attributes"]["message"]
    }


def catch_up_tags(fake):
    [monitor] = fake.monitors.values()
    return [t for t in monitor["tags"] if f"downtime-{CATCH_UP}" in t]


NIGHT, LATER, MORNING = datetime(2026, 5, 20, 23, 30), datetime(2026, 5, 21, 1, 30), datetime(2026, 5, 21, 10)


def test_a_catch_up_made_at_night_is_kept_that_night_canceled_in_the_morning(assets, fake, clock):
    assert run_at(assets, fake, clock, NIGHT)[f"downtime {CATCH_UP}"] == "create"
    catch_up = managed_downtimes(fake)[CATCH_UP]["attributes"]
    assert catch_up["schedule"] == {"end": "2026-05-21T09:00:00+02:00"} and NOTIFY in catch_up["message"]
    assert catch_up["monitor_identifier"] == {"monitor_id": next(iter(fake.monitors))}
    stored = assets.downtimes["weeknights"]["data"]["attributes"]  # the first stored downtime is the template
    for key in ("scope", "notify_end_states", "notify_end_types", "mute_first_recovery_notification"):
        assert catch_up[key] == stored[key]
    catch_up_id = next(i for i, d in fake.downtimes.items() if downtime_marker(CATCH_UP) in d["attributes"]["message"])
    assert catch_up_tags(fake) == [f"my-metric-provision-downtime-{CATCH_UP}:{catch_up_id}"]

    assert run_at(assets, fake, clock, LATER)[f"downtime {CATCH_UP}"] == "unchanged"
    downtimes = managed_downtimes(fake)  # three, and the catch-up happens once
    assert len(downtimes) == 3 and "recurrences" not in downtimes[CATCH_UP]["attributes"]["schedule"]
    assert run_at(assets, fake, clock, MORNING)[f"downtime {CATCH_UP}"] == "cancel"
    assert set(managed_downtimes(fake)) == {"weeknights", "weekend"} and catch_up_tags(fake) == []

    run_at(assets, fake, clock, NIGHT + timedelta(days=1))
    assert len(managed_downtimes(fake)) == 3
    provisioner(assets, fake).destroy()
    assert managed_downtimes(fake) == {}


def test_a_refused_cancel_of_the_catch_up_names_the_downtime_and_the_action(assets, fake, clock):
    run_at(assets, fake, clock, NIGHT)
    fake.fail("DELETE", r"/api/v2/downtime/.+", 403)
    with pytest.raises(provision.ProvisioningError) as refused:
        run_at(assets, fake, clock, MORNING)
    assert "403" in str(refused.value) and "cancel the downtime" in str(refused.value)
    assert CATCH_UP in managed_downtimes(fake)


def test_a_catch_up_left_pending_by_a_failed_night_run_is_settled_in_the_morning(assets, fake, clock):
    fake.fail("POST", "/api/v2/downtime", 500, after=2)  # the weeknights and weekend go through, not the catch-up
    with pytest.raises(provision.ProvisioningError):
        run_at(assets, fake, clock, NIGHT)
    assert catch_up_tags(fake) == []
    run_at(assets, fake, clock, MORNING)
    assert catch_up_tags(fake) == [] and set(managed_downtimes(fake)) == {"weeknights", "weekend"}


def test_apply_with_past_anchors_fails_against_the_local_api(fake, monkeypatch):
    monkeypatch.setattr(provision, "next_start", lambda start, rrule, after: start)  # the stored 2025 anchors
    code, out = apply(fake)
    assert code == 3 and "400" in out and PAST_START in out  # the server's reason
    assert fake.active_downtimes() == []


def test_apply_reads_the_clock_in_the_downtimes_timezone():
    before = datetime.now(timezone.utc)
    now = current_time(ZoneInfo("Australia/Sydney"))
    assert before <= now <= datetime.now(timezone.utc) and now.tzinfo == ZoneInfo("Australia/Sydney")


def test_the_catch_up_payload_is_a_valid_downtime_request(real_assets):
    payload = catch_up_payload(real_assets.downtimes["weekend"], 1, settings("Europe/Paris"), at("Europe/Paris", NIGHT))
    assert check_payload(payload, DowntimeCreateRequest, "catch-up") == []


def test_the_downtime_message_is_the_stored_text_then_the_handle_and_the_marker(real_assets):
    template = copy.deepcopy(real_assets.downtimes["weeknights"])
    stored = template["data"]["attributes"]["message"]

    def sent():
        payload = downtime_payload("weeknights", template, 1, settings("Europe/Paris"), at("Europe/Paris", NIGHT))
        return payload["data"]["attributes"]["message"]

    assert sent() == f"{stored} {NOTIFY} {downtime_marker('weeknights')}"
    del template["data"]["attributes"]["message"]
    assert sent() == f"{NOTIFY} {downtime_marker('weeknights')}"


@pytest.mark.parametrize(
    "local, first",
    [(datetime(2026, 5, 20, 18, 50), "2026-05-20T19:00:00"), (datetime(2026, 5, 20, 19, 50), "2026-05-21T19:00:00")],
    ids=["before the night", "inside the night"],
)
def test_the_moment_of_apply_may_be_given_in_any_zone_or_as_local_time(real_assets, local, first):
    # A Wednesday in Paris: the weeknights' next 19:00 start is that evening's, or the next day's once it began.
    for now in (local.replace(tzinfo=PARIS), local.replace(tzinfo=PARIS).astimezone(timezone.utc), local):
        payload = downtime_payload("weeknights", real_assets.downtimes["weeknights"], 1, settings("Europe/Paris"), now)
        assert payload["data"]["attributes"]["schedule"]["recurrences"][0]["start"] == first
