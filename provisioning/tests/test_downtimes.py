from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from my_metric_provisioning import downtimes

from .common import payloads_in, set_rules

ZONES = ["America/New_York", "Europe/Paris", "Australia/Sydney", "UTC", "Asia/Tokyo", "America/Sao_Paulo"]
WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("year", [2026, 2027])
def test_stored_downtimes_mute_exactly_nights_and_weekends(real_assets, zone, year):
    assert downtimes.coverage_problems(payloads_in(real_assets, zone), ZoneInfo(zone), year) == []
    assert downtimes.start_time_problems(payloads_in(real_assets, zone), ZoneInfo(zone), year) == []


def rules(weeknights, weekend):
    return [
        {"rrule": WEEKDAYS, "start": f"2025-01-06T{weeknights[0]}:00", "duration": weeknights[1]},
        {"rrule": f"FREQ=WEEKLY;BYDAY={weekend[0]}", "start": f"2025-01-{weekend[1]}:00", "duration": weekend[2]},
    ]


# Designs that fail, and a span each is reported for: (zone, rules, kind, start, end, reading).
FAILING_DESIGNS = {
    "the naive pair leaves Monday morning": (
        "America/New_York",
        rules(("19:00", "14h"), ("SA", "11T00:00", "48h")),
        ("not muted", datetime(2026, 1, 5, 0, 0), datetime(2026, 1, 5, 9, 0), "wall-clock"),
    ),
    "nights from 18:00 mute an hour of work": (
        "UTC",
        rules(("18:00", "15h"), ("FR", "10T19:00", "62h")),
        ("muted during working hours", datetime(2026, 1, 5, 18, 0), datetime(2026, 1, 5, 19, 0), "wall-clock"),
    ),
    "no downtime at all leaves the year's last night": (
        "UTC",
        [],
        ("not muted", datetime(2026, 12, 31, 19, 0), datetime(2027, 1, 1, 0, 0), "elapsed"),
    ),
}


@pytest.mark.parametrize("name", FAILING_DESIGNS)
def test_a_failing_design_is_reported_for_its_span(real_assets, name):
    zone, recurrences, (kind, start, end, reading) = FAILING_DESIGNS[name]
    weeknights, weekend = payloads_in(real_assets, zone)
    payloads = [set_rules(weeknights, recurrences), set_rules(weekend, [])]
    problems = downtimes.coverage_problems(payloads, ZoneInfo(zone), 2026)
    spans = [(p.kind, p.start.replace(tzinfo=None), p.end.replace(tzinfo=None), p.reading) for p in problems]
    assert (kind, start, end, reading) in spans
    assert all(p.start.tzinfo == ZoneInfo(zone) for p in problems)


def test_friday_19_00_for_62h_is_an_hour_off_at_each_clock_change_read_as_elapsed_time(real_assets):
    weeknights, weekend = payloads_in(real_assets, "Europe/Paris")
    fixed = set_rules(weekend, [{"rrule": "FREQ=WEEKLY;BYDAY=FR", "start": "2025-01-10T19:00:00", "duration": "62h"}])
    problems = downtimes.coverage_problems([weeknights, fixed], ZoneInfo("Europe/Paris"), 2026)
    assert [(p.kind, p.start.replace(tzinfo=None), p.end.replace(tzinfo=None), p.reading) for p in problems] == [
        ("muted during working hours", datetime(2026, 3, 30, 9), datetime(2026, 3, 30, 10), "elapsed"),
        ("not muted", datetime(2026, 10, 26, 8), datetime(2026, 10, 26, 9), "elapsed"),
    ]


def test_a_start_skipped_or_repeated_by_a_clock_change_is_reported(real_assets):
    weeknights, weekend = payloads_in(real_assets, "America/New_York")
    skipped = {"rrule": "FREQ=WEEKLY;BYDAY=SU", "start": "2025-01-12T02:30:00", "duration": "1h"}
    repeated = dict(skipped, start="2025-01-12T01:30:00")
    odd = set_rules(weekend, weekend["data"]["attributes"]["schedule"]["recurrences"] + [skipped, repeated])
    problems = downtimes.start_time_problems([weeknights, odd], ZoneInfo("America/New_York"), 2026)
    assert len(problems) == 2
    assert any("2026-03-08 02:30" in p for p in problems) and any("2026-11-01 01:30" in p for p in problems)


@pytest.mark.parametrize(
    "start, rrule, after, first",
    [
        ("2025-01-06T19:00:00", WEEKDAYS, datetime(2026, 5, 20, 12, 0), "2026-05-20T19:00:00"),
        ("2025-01-06T19:00:00", WEEKDAYS, datetime(2026, 5, 20, 19, 0), "2026-05-20T19:00:00"),
        ("2025-01-06T19:00:00", WEEKDAYS, datetime(2026, 5, 20, 19, 0, 1), "2026-05-21T19:00:00"),
        ("2025-01-06T19:00:00", WEEKDAYS, datetime(2026, 5, 22, 20, 0), "2026-05-25T19:00:00"),
        ("2025-01-11T05:00:00", "FREQ=WEEKLY;BYDAY=SA", datetime(2026, 5, 20), "2026-05-23T05:00:00"),
    ],
)
def test_next_start_is_the_first_occurrence_at_or_after_the_moment(start, rrule, after, first):
    assert downtimes.next_start(start, rrule, after) == first
