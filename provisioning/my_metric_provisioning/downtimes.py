"""Expanding the downtime recurrences and proving what they mute.

The required coverage, in the downtime's timezone: every minute outside Monday-Friday
09:00-19:00 is muted, and no minute inside it is.  Datadog's docs do not say whether
`duration` is wall-clock or elapsed time across a clock change, so coverage is checked
under both readings; the stored rules are built to satisfy both (see README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrulestr

WORK_START = time(9, 0)
WORK_END = time(19, 0)
WORK_DAYS = range(0, 5)  # Monday..Friday
READINGS = ("wall-clock", "elapsed")
_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"duration {text!r} is not like '14h', '30m', '2d' or '1w'")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class UnknownTimezone(ValueError):
    """`name` is not an IANA timezone; `suggestion` is the right spelling when only the case differs."""

    def __init__(self, name: str, suggestion: str | None = None):
        self.suggestion = suggestion
        super().__init__(f"{name!r} is not an IANA timezone name")


def zone(name: str) -> ZoneInfo:
    if not name or "/" not in name and name != "UTC":
        raise UnknownTimezone(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        same = [z for z in available_timezones() if z.lower() == name.lower()]
        raise UnknownTimezone(name, same[0] if same else None) from None


@dataclass(frozen=True)
class Recurrence:
    rrule: str
    start: datetime  # naive, local to the downtime's timezone
    duration: timedelta

    @classmethod
    def from_payload(cls, item: dict) -> "Recurrence":
        return cls(item["rrule"], datetime.fromisoformat(item["start"]), parse_duration(item["duration"]))

    def starts(self, until: datetime):
        rule = rrulestr(self.rrule, dtstart=self.start)
        return rule.between(self.start, until, inc=True)


def recurrences_of(payload: dict) -> list[Recurrence]:
    schedule = payload["data"]["attributes"]["schedule"]
    return [Recurrence.from_payload(item) for item in schedule["recurrences"]]


def _localize(naive: datetime, tz: ZoneInfo) -> datetime:
    return naive.replace(tzinfo=tz)


def _minute(moment: datetime, origin: datetime) -> int:
    return int((moment - origin).total_seconds() // 60)


@dataclass(frozen=True)
class CoverageProblem:
    kind: str  # "not muted" or "muted during working hours"
    start: datetime
    end: datetime
    reading: str

    def __str__(self) -> str:
        fmt = "%a %Y-%m-%d %H:%M"
        return (
            f"{self.kind}: {self.start.strftime(fmt)} to {self.end.strftime(fmt)} {self.start.tzinfo} "
            f"(duration read as {self.reading} time)"
        )


def muted_minutes(
    recurrences: list[Recurrence], tz: ZoneInfo, origin: datetime, minutes: int, reading: str
) -> bytearray:
    muted = bytearray(minutes)
    until = (origin + timedelta(minutes=minutes)).astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    for recurrence in recurrences:
        for naive_start in recurrence.starts(until):
            start = _localize(naive_start, tz)
            if reading == "wall-clock":
                end = _localize(naive_start + recurrence.duration, tz)
            else:
                end = (start.astimezone(timezone.utc) + recurrence.duration).astimezone(tz)
            first = max(_minute(start, origin), 0)
            last = min(_minute(end, origin), minutes)
            if first < last:
                muted[first:last] = b"\x01" * (last - first)
    return muted


def expected_minutes(tz: ZoneInfo, origin: datetime, minutes: int, year: int) -> bytearray:
    expected = bytearray(b"\x01") * minutes
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() in WORK_DAYS:
            first = _minute(_localize(datetime.combine(day, WORK_START), tz), origin)
            last = _minute(_localize(datetime.combine(day, WORK_END), tz), origin)
            expected[first:last] = bytes(last - first)
        day += timedelta(days=1)
    return expected


def _differences(muted, expected, origin, tz, reading) -> list[CoverageProblem]:
    problems = []
    if muted == expected:
        return problems
    index, minutes = 0, len(expected)
    while index < minutes:
        if muted[index] == expected[index]:
            index += 1
            continue
        run_start = index
        while index < minutes and muted[index] != expected[index] and muted[index] == muted[run_start]:
            index += 1
        kind = "not muted" if expected[run_start] else "muted during working hours"
        problems.append(
            CoverageProblem(
                kind,
                (origin + timedelta(minutes=run_start)).astimezone(tz),
                (origin + timedelta(minutes=index)).astimezone(tz),
                reading,
            )
        )
    return problems


def coverage_problems(payloads: list[dict], tz: ZoneInfo, year: int) -> list[CoverageProblem]:
    """Compare, minute by minute over `year` in `tz`, what the downtimes mute with what they must mute."""
    recurrences = [r for payload in payloads for r in recurrences_of(payload)]
    origin = _localize(datetime(year, 1, 1), tz)
    minutes = _minute(_localize(datetime(year + 1, 1, 1), tz), origin)
    expected = expected_minutes(tz, origin, minutes, year)
    problems = []
    for reading in READINGS:
        muted = muted_minutes(recurrences, tz, origin, minutes, reading)
        problems += _differences(muted, expected, origin, tz, reading)
    return problems


def start_time_problems(payloads: list[dict], tz: ZoneInfo, year: int) -> list[str]:
    """Start times that do not exist or are ambiguous on some day of `year` because of a clock change."""
    problems = []
    for payload in payloads:
        for recurrence in recurrences_of(payload):
            for naive in recurrence.starts(datetime(year + 1, 1, 1)):
                if naive.year != year:
                    continue
                aware = naive.replace(tzinfo=tz)
                round_trip = aware.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None)
                ambiguous = aware.utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset()
                if round_trip != naive or ambiguous:
                    problems.append(
                        f"start {naive:%a %Y-%m-%d %H:%M} of rule {recurrence.rrule!r} "
                        f"falls in a clock change in {tz.key}"
                    )
    return problems


# A recurrence starting less than this after apply could be in the past when Datadog receives it: its
# window is left to the catch-up downtime instead.
LEAD = timedelta(minutes=1)


def next_start(start: str, rrule: str, after: datetime) -> str:
    """The first occurrence of the rule anchored at `start` at or after `after` (naive, local time)."""
    first = rrulestr(rrule, dtstart=datetime.fromisoformat(start)).after(after, inc=True)
    return first.isoformat(timespec="seconds")


def is_working(moment: datetime) -> bool:
    """Monday-Friday 09:00-19:00 in the moment's own timezone."""
    return moment.weekday() in WORK_DAYS and WORK_START <= moment.time() < WORK_END


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at).replace(tzinfo=tz)


def window_around(moment: datetime) -> tuple[datetime, datetime]:
    """The must-be-muted window (nights and weekends) holding an aware, non-working `moment`: [start, end)."""
    tz = moment.tzinfo
    day = moment.astimezone(tz).date()
    end = next(
        _local(d, WORK_START, tz)
        for d in (day + timedelta(days=n) for n in range(8))
        if d.weekday() in WORK_DAYS and _local(d, WORK_START, tz) > moment
    )
    start = next(
        _local(d, WORK_END, tz)
        for d in (day - timedelta(days=n) for n in range(8))
        if d.weekday() in WORK_DAYS and _local(d, WORK_END, tz) <= moment
    )
    return start, end


def catch_up_window(now: datetime, lead: timedelta = LEAD) -> tuple[datetime | None, datetime] | None:
    """What the recurrences anchored at or after `now + lead` leave unmuted from `now` on, if anything.

    Returns (start, end): start None means "from the moment the downtime is created" (`now` is inside a
    window); a start in the future is the beginning of a window that opens within `lead`.
    """
    for probe in (now, now + lead):
        if not is_working(probe):
            start, end = window_around(probe)
            return (None if start <= now else start), end
    return None
