"""Expanding the downtime recurrences and proving what they mute: in the downtimes' timezone, every minute outside
Monday-Friday 09:00-19:00 and none inside it. Datadog's docs do not say whether `duration` is wall-clock or elapsed
time across a clock change, so coverage is proven under both readings; the stored rules satisfy both (README)."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import groupby
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

WORK_START = time(9, 0)
WORK_END = time(19, 0)
WORK_DAYS = range(0, 5)  # Monday..Friday
READINGS = ("wall-clock", "elapsed")
_DURATION = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# A recurrence starting less than this after apply could be in the past when Datadog receives it: its
# window is left to the catch-up downtime instead.
LEAD = timedelta(minutes=1)


@dataclass(frozen=True)
class Recurrence:
    rrule: str
    start: datetime  # naive, local to the downtime's timezone
    duration: timedelta

    @classmethod
    def from_payload(cls, item: dict) -> "Recurrence":
        duration = _DURATION.fullmatch(item["duration"] or "")
        if not duration:
            raise ValueError(f"duration {item['duration']!r} is not like '14h', '30m', '2d' or '1w'")
        length = timedelta(**{_UNITS[duration.group(2)]: int(duration.group(1))})
        return cls(item["rrule"], datetime.fromisoformat(item["start"]), length)

    def starts(self, until: datetime):
        return rrulestr(self.rrule, dtstart=self.start).between(self.start, until, inc=True)


def recurrences_of(payload: dict) -> list[Recurrence]:
    return [Recurrence.from_payload(item) for item in payload["data"]["attributes"]["schedule"]["recurrences"]]


def _minute(moment: datetime, origin: datetime) -> int:
    return int((moment - origin).total_seconds() // 60)


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


@dataclass(frozen=True)
class CoverageProblem:
    kind: str  # "not muted" or "muted during working hours"
    start: datetime
    end: datetime
    reading: str

    def __str__(self) -> str:
        span = f"{self.start:%a %Y-%m-%d %H:%M} to {self.end:%a %Y-%m-%d %H:%M} {self.start.tzinfo}"
        return f"{self.kind}: {span} (duration read as {self.reading} time)"


def muted_minutes(recurrences: list[Recurrence], tz: ZoneInfo, origin: datetime, minutes: int, reading: str):
    muted = bytearray(minutes)
    until = (origin + timedelta(minutes=minutes)).astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    for recurrence in recurrences:
        for naive_start in recurrence.starts(until):
            start = naive_start.replace(tzinfo=tz)
            if reading == "wall-clock":
                end = (naive_start + recurrence.duration).replace(tzinfo=tz)
            else:
                end = (start.astimezone(timezone.utc) + recurrence.duration).astimezone(tz)
            first, last = max(_minute(start, origin), 0), min(_minute(end, origin), minutes)
            if first < last:
                muted[first:last] = b"\x01" * (last - first)
    return muted


def expected_minutes(tz: ZoneInfo, origin: datetime, minutes: int, year: int) -> bytearray:
    expected = bytearray(b"\x01") * minutes
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() in WORK_DAYS:
            first, last = _minute(_local(day, WORK_START, tz), origin), _minute(_local(day, WORK_END, tz), origin)
            expected[first:last] = bytes(last - first)
        day += timedelta(days=1)
    return expected


def _differences(muted, expected, origin, tz, reading) -> list[CoverageProblem]:
    """Each run of minutes muted when they must not be, or the reverse."""
    if muted == expected:
        return []
    problems, minute, pairs = [], 0, zip(muted, expected, strict=True)
    for (differs, is_muted), run in groupby(pairs, key=lambda pair: (pair[0] != pair[1], pair[0])):
        length = sum(1 for _ in run)
        if differs:
            start, end = (origin + timedelta(minutes=m) for m in (minute, minute + length))
            kind = "muted during working hours" if is_muted else "not muted"
            problems.append(CoverageProblem(kind, start.astimezone(tz), end.astimezone(tz), reading))
        minute += length
    return problems


def coverage_problems(payloads: list[dict], tz: ZoneInfo, year: int) -> list[CoverageProblem]:
    """Compare, minute by minute over `year` in `tz`, what the downtimes mute with what they must mute."""
    recurrences = [r for payload in payloads for r in recurrences_of(payload)]
    origin = datetime(year, 1, 1, tzinfo=tz)
    minutes = _minute(datetime(year + 1, 1, 1, tzinfo=tz), origin)
    expected, problems = expected_minutes(tz, origin, minutes, year), []
    for reading in READINGS:
        problems += _differences(
            muted_minutes(recurrences, tz, origin, minutes, reading), expected, origin, tz, reading
        )
    return problems


def start_time_problems(payloads: list[dict], tz: ZoneInfo, year: int) -> list[str]:
    """Start times of `year` that a clock change skips or repeats."""
    problems = []
    for recurrence in (r for payload in payloads for r in recurrences_of(payload)):
        for naive in recurrence.starts(datetime(year + 1, 1, 1)):
            skipped = naive.replace(tzinfo=tz).astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != naive
            repeated = naive.replace(tzinfo=tz).utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset()
            if naive.year == year and (skipped or repeated):
                problems.append(f"start {naive:%a %Y-%m-%d %H:%M} of {recurrence.rrule!r} is in a clock change in {tz}")
    return problems


def next_start(start: str, rrule: str, after: datetime) -> str:
    """The first occurrence of the rule anchored at `start` at or after `after` (naive, local time)."""
    return rrulestr(rrule, dtstart=datetime.fromisoformat(start)).after(after, inc=True).isoformat(timespec="seconds")


def is_working(moment: datetime) -> bool:
    """Monday-Friday 09:00-19:00 in the moment's own timezone."""
    return moment.weekday() in WORK_DAYS and WORK_START <= moment.time() < WORK_END


def catch_up_window(now: datetime, lead: timedelta = LEAD) -> tuple[datetime | None, datetime] | None:
    """(start, end) of what the recurrences anchored at or after `now + lead` leave unmuted from `now` on, or None.
    A None start is "from the moment the downtime is created"; a future one, a window that opens within `lead`."""
    for probe in (now, now + lead):
        if not is_working(probe):
            work_days = [d for n in range(-7, 8) if (d := probe.date() + timedelta(days=n)).weekday() in WORK_DAYS]
            start = max(_local(d, WORK_END, now.tzinfo) for d in work_days if _local(d, WORK_END, now.tzinfo) <= probe)
            end = min(_local(d, WORK_START, now.tzinfo) for d in work_days if _local(d, WORK_START, now.tzinfo) > probe)
            return (None if start <= now else start), end
    return None
