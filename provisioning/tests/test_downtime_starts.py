"""Every recurrence starts at or after apply, the window apply runs in is covered by a one-time catch-up
downtime, and from apply on the muted minutes are exactly nights and weekends."""

import copy
import os
import secrets
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.downtimes_api import DowntimesApi
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
from my_metric_provisioning.strict import check_payload, to_model

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


def apply_moment(zone, local, fold=0):
    return local.replace(tzinfo=downtimes.zone(zone), fold=fold)


def payloads_at(assets, zone, now):
    return [downtime_payload(name, t, 1, settings(zone), now) for name, t in assets.downtimes.items()]


def one_time_of(payload, now):
    if payload is None:
        return []
    schedule = payload["data"]["attributes"]["schedule"]
    start = datetime.fromisoformat(schedule["start"]) if "start" in schedule else now
    return [(start, datetime.fromisoformat(schedule["end"]))]


@pytest.mark.parametrize("zone, local, what", MOMENTS, ids=[f"{z}-{w}" for z, _, w in MOMENTS])
def test_from_apply_on_exactly_nights_and_weekends_are_muted(real_assets, zone, local, what):
    now = apply_moment(zone, local, fold=1 if "repeated" in what else 0)
    payloads = payloads_at(real_assets, zone, now)
    for payload in payloads:
        for item in payload["data"]["attributes"]["schedule"]["recurrences"]:
            start = datetime.fromisoformat(item["start"]).replace(tzinfo=now.tzinfo)
            assert start >= now + downtimes.LEAD and start - now <= timedelta(days=7)
    catch_up = catch_up_payload(real_assets.downtimes["weekend"], 1, settings(zone), now)
    assert (catch_up is None) == (what in IN_WORKING_HOURS)
    assert coverage_from(payloads, zone, now, 21, one_time_of(catch_up, now)) == []


@pytest.mark.parametrize("zone, local", [("Europe/Paris", datetime(2026, 5, 20, 23, 30))])
def test_without_the_catch_up_the_current_night_would_alert(real_assets, zone, local):
    now = apply_moment(zone, local)
    problems = [str(p) for p in coverage_from(payloads_at(real_assets, zone, now), zone, now, 21, [])]
    assert problems[0].startswith("not muted: Wed 2026-05-20 23:30 to Thu 2026-05-21 05:00 Europe/Paris")


def test_catch_up_ends_at_the_next_working_morning_across_a_clock_change():
    tz = downtimes.zone("Europe/Paris")
    start, end = downtimes.catch_up_window(datetime(2026, 3, 28, 22, 0, tzinfo=tz))
    assert start is None and end == datetime(2026, 3, 30, 9, 0, tzinfo=tz)
    elapsed = end.astimezone(timezone.utc) - datetime(2026, 3, 28, 22, 0, tzinfo=tz).astimezone(timezone.utc)
    assert elapsed == timedelta(hours=34)  # the spring change takes an hour out of the weekend
    start, end = downtimes.catch_up_window(datetime(2026, 5, 22, 18, 59, 30, tzinfo=tz))
    assert start == datetime(2026, 5, 22, 19, 0, tzinfo=tz) and end == datetime(2026, 5, 25, 9, 0, tzinfo=tz)
    assert downtimes.catch_up_window(datetime(2026, 5, 22, 18, 58, tzinfo=tz)) is None


def test_catch_up_at_the_exact_edges_of_working_hours():
    tz = downtimes.zone("Europe/Paris")
    # Monday 09:00 sharp is working time: nothing to catch up.
    assert downtimes.catch_up_window(datetime(2026, 5, 25, 9, 0, tzinfo=tz)) is None
    # Wednesday 19:00 sharp: the night has begun, so the catch-up mutes it from its creation.
    assert downtimes.catch_up_window(datetime(2026, 5, 20, 19, 0, tzinfo=tz)) == (
        None,
        datetime(2026, 5, 21, 9, 0, tzinfo=tz),
    )


def provisioner(assets, fake, zone, when):
    config = Settings(
        notify=NOTIFY,
        timezone=ZoneInfo(zone),
        api_url=fake.url,
        max_retries=0,
        api_key=secrets.token_hex(16),
        app_key=secrets.token_hex(20),
    )
    return Reconciler(Provisioner(config, log=lambda text: None), assets, now=lambda: when)


def actions(changes) -> dict:
    return {change.kind: change.action for change in changes}


def managed_downtimes(fake):
    return {
        name: d
        for d in fake.active_downtimes()
        for name in ("weeknights", "weekend", CATCH_UP)
        if downtime_marker(name) in d["attributes"]["message"]
    }


def test_apply_inside_a_night_creates_a_marked_catch_up_that_later_runs_find(assets, fake, clock):
    night = apply_moment("Europe/Paris", datetime(2026, 5, 20, 23, 30))
    clock.now = night
    changes = provisioner(assets, fake, "Europe/Paris", night).apply()
    assert actions(changes)[f"downtime {CATCH_UP}"] == "create"
    catch_up = managed_downtimes(fake)[CATCH_UP]["attributes"]
    assert catch_up["schedule"] == {"end": "2026-05-21T09:00:00+02:00"}
    assert catch_up["monitor_identifier"] == {"monitor_id": next(iter(fake.monitors))}
    assert NOTIFY in catch_up["message"]
    stored = assets.downtimes["weeknights"]["data"]["attributes"]  # the first stored downtime is the template
    for key in ("scope", "notify_end_states", "notify_end_types", "mute_first_recovery_notification"):
        assert catch_up[key] == stored[key]

    later = night + timedelta(hours=2)  # same night: the catch-up is kept, not duplicated
    clock.now = later
    changes = provisioner(assets, fake, "Europe/Paris", later).apply()
    assert actions(changes)[f"downtime {CATCH_UP}"] == "unchanged" and len(managed_downtimes(fake)) == 3
    assert len(fake.recurring_downtimes()) == 2

    morning = apply_moment("Europe/Paris", datetime(2026, 5, 21, 10, 0))  # working hours: no longer needed
    clock.now = morning
    changes = provisioner(assets, fake, "Europe/Paris", morning).apply()
    assert actions(changes)[f"downtime {CATCH_UP}"] == "cancel" and set(managed_downtimes(fake)) == {
        "weeknights",
        "weekend",
    }

    clock.now = night + timedelta(days=1)
    provisioner(assets, fake, "Europe/Paris", clock.now).apply()
    assert len(managed_downtimes(fake)) == 3
    provisioner(assets, fake, "Europe/Paris", clock.now).destroy()
    assert managed_downtimes(fake) == {}


def test_a_refused_cancel_of_the_catch_up_names_the_downtime_and_the_action(assets, fake, clock):
    night = apply_moment("Europe/Paris", datetime(2026, 5, 20, 23, 30))
    clock.now = night
    provisioner(assets, fake, "Europe/Paris", night).apply()
    morning = apply_moment("Europe/Paris", datetime(2026, 5, 21, 10, 0))
    clock.now = morning
    fake.fail("DELETE", r"/api/v2/downtime/.+", 403)
    with pytest.raises(provision.ProvisioningError) as refused:
        provisioner(assets, fake, "Europe/Paris", morning).apply()
    assert str(refused.value).startswith(f"403 Forbidden while trying to cancel the downtime at {fake.url}. ")
    assert CATCH_UP in managed_downtimes(fake)


def catch_up_tags(fake):
    [monitor] = fake.monitors.values()
    return sorted(t for t in monitor["tags"] if f"downtime-{CATCH_UP}" in t)


def test_a_canceled_catch_up_is_no_longer_recorded_on_the_monitor(assets, fake, clock):
    clock.now = apply_moment("Europe/Paris", datetime(2026, 5, 20, 23, 30))
    provisioner(assets, fake, "Europe/Paris", clock.now).apply()
    catch_up_id = next(i for i, d in fake.downtimes.items() if downtime_marker(CATCH_UP) in d["attributes"]["message"])
    assert catch_up_tags(fake) == [f"my-metric-provision-downtime-{CATCH_UP}:{catch_up_id}"]
    clock.now = apply_moment("Europe/Paris", datetime(2026, 5, 21, 10, 0))
    provisioner(assets, fake, "Europe/Paris", clock.now).apply()
    assert catch_up_tags(fake) == []


def test_a_catch_up_left_pending_by_a_failed_night_run_is_settled_in_the_morning(assets, fake, clock):
    clock.now = apply_moment("Europe/Paris", datetime(2026, 5, 20, 23, 30))
    fake.fail("POST", "/api/v2/downtime", 500, after=2)  # the weeknights and weekend go through, not the catch-up
    with pytest.raises(provision.ProvisioningError):
        provisioner(assets, fake, "Europe/Paris", clock.now).apply()
    assert catch_up_tags(fake) == []
    clock.now = apply_moment("Europe/Paris", datetime(2026, 5, 21, 10, 0))
    provisioner(assets, fake, "Europe/Paris", clock.now).apply()
    assert catch_up_tags(fake) == [] and set(managed_downtimes(fake)) == {"weeknights", "weekend"}


def test_every_start_sent_is_at_or_after_apply(assets, fake, clock):
    saturday = apply_moment("America/New_York", datetime(2026, 3, 7, 23, 0))  # the spring-change weekend
    clock.now = saturday
    provisioner(assets, fake, "America/New_York", saturday).apply()
    starts = [
        datetime.fromisoformat(r["start"]).replace(tzinfo=saturday.tzinfo)
        for d in managed_downtimes(fake).values()
        for r in d["attributes"]["schedule"].get("recurrences", [])
    ]
    assert len(starts) == 4 and min(starts) >= saturday


def test_the_local_api_refuses_a_past_anchor_as_datadog_may(real_assets, fake, clock):
    payload = downtime_payload("weekend", real_assets.downtimes["weekend"], 1, settings("Europe/Paris"), clock.now)
    payload["data"]["attributes"]["schedule"]["recurrences"][0]["start"] = "2026-05-16T05:00:00"  # last Saturday
    config = Configuration(host=fake.url)
    config.api_key["apiKeyAuth"], config.api_key["appKeyAuth"] = secrets.token_hex(16), secrets.token_hex(20)
    with ApiClient(config) as client, pytest.raises(ApiException) as error:
        DowntimesApi(client).create_downtime(to_model(payload, DowntimeCreateRequest))
    assert error.value.status == 400
    assert PAST_START in error.value.body["errors"][0]  # Datadog's error body: {"errors": ["..."]}


def test_apply_with_past_anchors_fails_against_the_local_api(assets, fake, clock, monkeypatch):
    monkeypatch.setattr(provision, "next_start", lambda start, rrule, after: start)  # the stored 2025 anchors

    code, out = apply(fake)
    assert code == 3 and "HTTP 400" in out
    assert PAST_START in out and "Re-run the same command" not in out  # the server's reason, not a retry hint
    assert fake.active_downtimes() == []


def test_coverage_is_judged_inside_the_window_only():
    # One day from Tuesday 18:59 (an odd minute) without any downtime: that night is reported from its first
    # minute, and not the next evening.
    origin = datetime(2026, 5, 19, 18, 59, tzinfo=downtimes.zone("UTC"))
    assert [str(p) for p in coverage_from([], "UTC", origin, 1, [])] == [
        f"not muted: Tue 2026-05-19 19:00 to Wed 2026-05-20 09:00 UTC (duration read as {reading})"
        for reading in ("wall-clock time", "elapsed time")
    ]


def test_a_one_time_downtime_mutes_exactly_its_own_minutes():
    # From Friday 18:00 UTC, a one-time downtime 19:00-06:00: the rest of Saturday morning is reported.
    utc = downtimes.zone("UTC")
    origin = datetime(2026, 5, 22, 18, 0, tzinfo=utc)
    one_time = [(datetime(2026, 5, 22, 19, 0, tzinfo=utc), datetime(2026, 5, 23, 6, 0, tzinfo=utc))]
    assert [str(p) for p in coverage_from([], "UTC", origin, 1, one_time)] == [
        f"not muted: Sat 2026-05-23 06:00 to Sat 2026-05-23 18:00 UTC (duration read as {reading})"
        for reading in ("wall-clock time", "elapsed time")
    ]


def test_a_downtime_one_minute_into_working_hours_is_reported_for_that_minute():
    # From Tuesday 18:00 UTC, a one-time downtime from 18:59 to Wednesday 09:00.
    utc = downtimes.zone("UTC")
    origin = datetime(2026, 5, 19, 18, 0, tzinfo=utc)
    one_time = [(datetime(2026, 5, 19, 18, 59, tzinfo=utc), datetime(2026, 5, 20, 9, 0, tzinfo=utc))]
    assert [str(p) for p in coverage_from([], "UTC", origin, 1, one_time)] == [
        f"muted during working hours: Tue 2026-05-19 18:59 to Tue 2026-05-19 19:00 UTC (duration read as {reading})"
        for reading in ("wall-clock time", "elapsed time")
    ]


@pytest.fixture
def machine_timezone():
    """Sets the timezone of the machine running the checks (the TZ variable) for one test."""
    before = os.environ.get("TZ")

    def set_to(name):
        os.environ["TZ"] = name
        time.tzset()

    yield set_to
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_coverage_does_not_depend_on_the_machine_timezone(machine_timezone):
    # The machine 26 hours behind the downtimes' timezone (UTC-12 and UTC+14): the weeknight starting an hour
    # before the end of the window still counts.
    machine_timezone("Etc/GMT+12")
    kiritimati = downtimes.zone("Pacific/Kiritimati")
    weeknights = {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start": "2026-05-18T19:00:00", "duration": "14h"}
    payload = {"data": {"attributes": {"schedule": {"recurrences": [weeknights]}}}}
    origin = datetime(2026, 5, 19, 20, 0, tzinfo=kiritimati)
    assert coverage_from([payload], "Pacific/Kiritimati", origin, 1, []) == []


def test_coverage_judges_each_reading_of_the_duration_on_its_own():
    # Friday 19:00 for 62 h ends at Monday 09:00 on the wall clock; across the spring change, 62 elapsed
    # hours end at 10:00: only the elapsed reading mutes an hour of Monday's work.
    paris = downtimes.zone("Europe/Paris")
    weekend = {"rrule": "FREQ=WEEKLY;BYDAY=FR", "start": "2026-03-27T19:00:00", "duration": "62h"}
    payload = {"data": {"attributes": {"schedule": {"recurrences": [weekend]}}}}
    origin = datetime(2026, 3, 27, 19, 0, tzinfo=paris)
    problems = coverage_from([payload], "Europe/Paris", origin, 3, [])
    assert [str(p) for p in problems if p.kind == "muted during working hours"] == [
        "muted during working hours: Mon 2026-03-30 09:00 to Mon 2026-03-30 10:00 Europe/Paris "
        "(duration read as elapsed time)"
    ]


def test_apply_reads_the_clock_in_the_downtimes_timezone():
    before = datetime.now(timezone.utc)
    now = current_time(ZoneInfo("Australia/Sydney"))
    after = datetime.now(timezone.utc)
    assert before <= now <= after and now.tzinfo == downtimes.zone("Australia/Sydney")


def test_the_catch_up_payload_is_a_valid_downtime_request(real_assets):
    night = apply_moment("Europe/Paris", datetime(2026, 5, 20, 23, 30))
    payload = catch_up_payload(real_assets.downtimes["weekend"], 1, settings("Europe/Paris"), night)
    assert check_payload(payload, DowntimeCreateRequest, "catch-up") == []


def test_the_downtime_message_is_the_stored_text_then_the_handle_and_the_marker(real_assets):
    template = real_assets.downtimes["weeknights"]
    stored = template["data"]["attributes"]["message"]
    now = apply_moment("Europe/Paris", datetime(2026, 5, 20, 12, 0))
    sent = downtime_payload("weeknights", template, 1, settings("Europe/Paris"), now)["data"]["attributes"]
    assert sent["message"] == f"{stored} {NOTIFY} [managed-by:my-metric-provision:weeknights]"
    without_text = copy.deepcopy(template)
    del without_text["data"]["attributes"]["message"]
    sent = downtime_payload("weeknights", without_text, 1, settings("Europe/Paris"), now)["data"]["attributes"]
    assert sent["message"] == f"{NOTIFY} [managed-by:my-metric-provision:weeknights]"


@pytest.mark.parametrize(
    "local, first",
    [(datetime(2026, 5, 20, 18, 50), "2026-05-20T19:00:00"), (datetime(2026, 5, 20, 19, 50), "2026-05-21T19:00:00")],
    ids=["before the night", "inside the night"],
)
def test_the_moment_of_apply_may_be_given_in_any_zone_or_as_local_time(real_assets, local, first):
    # A Wednesday in Paris: the weeknights' next 19:00 start is that evening's, or the next day's once it began.
    template = real_assets.downtimes["weeknights"]
    paris = local.replace(tzinfo=downtimes.zone("Europe/Paris"))

    def first_start(now):
        payload = downtime_payload("weeknights", template, 1, settings("Europe/Paris"), now)
        return payload["data"]["attributes"]["schedule"]["recurrences"][0]["start"]

    assert first_start(paris) == first
    assert first_start(paris.astimezone(timezone.utc)) == first
    assert first_start(local) == first  # naive: local time in the zone


def coverage_from(
    payloads: list[dict], tz_name: str, origin: datetime, days: int, one_time: list[tuple[datetime, datetime]]
) -> list[downtimes.CoverageProblem]:
    """Compare, minute by minute from the aware `origin` for `days`, what the downtimes mute with what they must
    (for the moments apply may run at; the package proves whole years, `downtimes.coverage_problems`)."""
    tz = downtimes.zone(tz_name)
    origin = origin.astimezone(tz)
    recurrences = [r for payload in payloads for r in downtimes.recurrences_of(payload)]
    minutes = days * 24 * 60
    expected = bytearray(b"\x01") * minutes
    day = origin.date() - timedelta(days=1)
    while day <= origin.date() + timedelta(days=days + 1):
        if day.weekday() in downtimes.WORK_DAYS:
            first = max(downtimes._minute(downtimes._local(day, downtimes.WORK_START, tz), origin), 0)
            last = min(downtimes._minute(downtimes._local(day, downtimes.WORK_END, tz), origin), minutes)
            if first < last:
                expected[first:last] = bytes(last - first)
        day += timedelta(days=1)
    problems = []
    for reading in downtimes.READINGS:
        muted = downtimes.muted_minutes(recurrences, tz, origin, minutes, reading)
        for start, end in one_time:  # minutes count local wall-clock time, like muted_minutes
            first = max(downtimes._minute(start.astimezone(tz), origin), 0)
            last = min(downtimes._minute(end.astimezone(tz), origin), minutes)
            if first < last:
                muted[first:last] = b"\x01" * (last - first)
        problems += downtimes._differences(muted, expected, origin, tz, reading)
    return problems
