from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from my_metric_provisioning import downtimes

from .common import payloads_in, set_rules

ZONES = ["America/New_York", "Europe/Paris", "Australia/Sydney", "UTC", "Asia/Tokyo", "America/Sao_Paulo"]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("year", [2026, 2027])
def test_stored_downtimes_mute_exactly_nights_and_weekends(real_assets, zone, year):
    assert downtimes.coverage_problems(payloads_in(real_assets, zone), ZoneInfo(zone), year) == []
    assert downtimes.start_time_problems(payloads_in(real_assets, zone), ZoneInfo(zone), year) == []


def test_coverage_is_checked_minute_by_minute(real_assets):
    tz = downtimes.zone("Europe/Paris")
    origin = datetime(2026, 1, 1, tzinfo=tz)
    minutes = downtimes._minute(datetime(2027, 1, 1, tzinfo=tz), origin)
    recurrences = [r for p in payloads_in(real_assets, "Europe/Paris") for r in downtimes.recurrences_of(p)]
    muted = downtimes.muted_minutes(recurrences, tz, origin, minutes, "elapsed")

    # Monday 2026-03-30, the day after the spring clock change: 08:59 muted, 09:00 not; 18:59 not, 19:00 muted.
    def at(h, m):
        return downtimes._minute(datetime(2026, 3, 30, h, m, tzinfo=tz), origin)

    assert (muted[at(8, 59)], muted[at(9, 0)], muted[at(18, 59)], muted[at(19, 0)]) == (1, 0, 0, 1)
    assert minutes == 365 * 24 * 60  # the local year, whatever its clock changes


def test_monday_morning_gap_is_reported(real_assets):
    weeknights, weekend = payloads_in(real_assets, "America/New_York")
    naive = [
        set_rules(
            weeknights,
            [{"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start": "2025-01-06T19:00:00", "duration": "14h"}],
        ),
        set_rules(weekend, [{"rrule": "FREQ=WEEKLY;BYDAY=SA", "start": "2025-01-11T00:00:00", "duration": "48h"}]),
    ]
    problems = [str(p) for p in downtimes.coverage_problems(naive, ZoneInfo("America/New_York"), 2026)]
    assert (
        problems[0]
        == "not muted: Mon 2026-01-05 00:00 to Mon 2026-01-05 09:00 America/New_York (duration read as wall-clock time)"
    )


def test_absolute_weekend_duration_leaves_an_hour_at_the_autumn_clock_change(real_assets):
    weeknights, weekend = payloads_in(real_assets, "Europe/Paris")
    # Friday 19:00 for 62h reaches Monday 09:00 only when no clock change falls in between.
    fixed = set_rules(weekend, [{"rrule": "FREQ=WEEKLY;BYDAY=FR", "start": "2025-01-10T19:00:00", "duration": "62h"}])
    problems = [str(p) for p in downtimes.coverage_problems([weeknights, fixed], ZoneInfo("Europe/Paris"), 2026)]
    assert (
        "not muted: Mon 2026-10-26 08:00 to Mon 2026-10-26 09:00 Europe/Paris (duration read as elapsed time)"
        in problems
    )
    assert (
        "muted during working hours: Mon 2026-03-30 09:00 to Mon 2026-03-30 10:00 Europe/Paris "
        "(duration read as elapsed time)" in problems
    )
    # On the wall clock the weekend always ends at Monday 09:00: only the elapsed reading finds these.
    assert len(problems) == 2


def test_without_downtimes_the_whole_year_is_reported_from_its_first_to_its_last_minute():
    problems = [str(p) for p in downtimes.coverage_problems([], ZoneInfo("UTC"), 2026)]
    assert problems[0] == (
        "not muted: Thu 2026-01-01 00:00 to Thu 2026-01-01 09:00 UTC (duration read as wall-clock time)"
    )
    assert problems[-1] == "not muted: Thu 2026-12-31 19:00 to Fri 2027-01-01 00:00 UTC (duration read as elapsed time)"


def test_working_hours_overlap_is_reported(real_assets):
    weeknights, weekend = payloads_in(real_assets, "UTC")
    long_nights = set_rules(
        weeknights, [{"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start": "2025-01-06T18:00:00", "duration": "15h"}]
    )
    problems = [str(p) for p in downtimes.coverage_problems([long_nights, weekend], ZoneInfo("UTC"), 2026)]
    assert any(
        p.startswith("muted during working hours: Mon 2026-01-05 18:00 to Mon 2026-01-05 19:00") for p in problems
    )


def test_start_in_a_clock_change_is_reported(real_assets):
    weeknights, weekend = payloads_in(real_assets, "America/New_York")
    odd = set_rules(
        weekend,
        weekend["data"]["attributes"]["schedule"]["recurrences"]
        + [
            {"rrule": "FREQ=WEEKLY;BYDAY=SU", "start": "2025-01-12T02:30:00", "duration": "1h"},
            {"rrule": "FREQ=WEEKLY;BYDAY=SU", "start": "2025-01-12T01:30:00", "duration": "1h"},
        ],
    )
    problems = downtimes.start_time_problems([weeknights, odd], ZoneInfo("America/New_York"), 2026)
    assert any("Sun 2026-03-08 02:30" in p for p in problems)  # skipped by the spring change
    assert any("Sun 2026-11-01 01:30" in p for p in problems)  # happens twice in the autumn
    assert len(problems) == 2


def test_next_start_is_the_first_occurrence_at_or_after_the_moment():
    weekdays = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    next_start = downtimes.next_start
    assert next_start("2025-01-06T19:00:00", weekdays, datetime(2026, 5, 20, 12, 0)) == "2026-05-20T19:00:00"
    assert next_start("2025-01-06T19:00:00", weekdays, datetime(2026, 5, 20, 19, 0)) == "2026-05-20T19:00:00"
    assert (
        downtimes.next_start("2025-01-06T19:00:00", weekdays, datetime(2026, 5, 20, 19, 0, 1)) == "2026-05-21T19:00:00"
    )
    assert next_start("2025-01-06T19:00:00", weekdays, datetime(2026, 5, 22, 20, 0)) == "2026-05-25T19:00:00"
    assert (
        downtimes.next_start("2025-01-11T05:00:00", "FREQ=WEEKLY;BYDAY=SA", datetime(2026, 5, 20))
        == "2026-05-23T05:00:00"
    )


def test_unknown_timezone_is_reported_with_its_name():
    with pytest.raises(downtimes.UnknownTimezone, match="Europe/Pariss"):
        downtimes.zone("Europe/Pariss")
    with pytest.raises(downtimes.UnknownTimezone) as raised:
        downtimes.zone("europe/paris")
    assert raised.value.suggestion == "Europe/Paris"


@pytest.mark.parametrize("name", ["Paris", "Japan", "EST", ""])
def test_a_name_without_area_other_than_utc_is_refused(name):
    # "Japan" and "EST" are old aliases in the tz database: refused like a misspelling.
    with pytest.raises(downtimes.UnknownTimezone) as raised:
        downtimes.zone(name)
    assert str(raised.value) == f"{name!r} is not an IANA timezone name"
