"""The downtime week as data and as a picture (`my-metric-provision calendar`).

A week is a Monday-to-Sunday grid of local wall-clock time in the downtimes' timezone. Every real
minute of the week is placed at its wall-clock minute of the day: on the day clocks go forward the
skipped hour has no minute, on the day they go back the repeated hour holds two (fold 0, then fold 1).
Muted or live comes from `downtimes.muted_minutes` applied to the payloads `apply` would send.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from my_metric_provisioning import downtimes
from my_metric_provisioning.assets import Assets
from my_metric_provisioning.cli import UsageError
from my_metric_provisioning.provision import Settings, downtime_payload

LIVE, MUTED, DIFFERS = 0, 1, 2  # DIFFERS: muted under one reading of `duration` only
STATE_NAMES = {LIVE: "live", MUTED: "muted", DIFFERS: "muted under one reading of duration only"}
FIGURE_FORMATS = (".png", ".svg")


@dataclass(frozen=True)
class Day:
    day: date
    # One entry per real minute of the local day, in order: (wall-clock minute of day, fold, state).
    minutes: tuple[tuple[int, int, int], ...]

    def repeated(self) -> set[int]:
        """Wall-clock minutes of the day that happen twice (the hour the clocks go back)."""
        return {minute for minute, fold, _ in self.minutes if fold}

    def runs(self) -> list[tuple[int, int, int, int]]:
        """(first wall-clock minute, minutes, fold, state) for each stretch of equal fold and state.

        A stretch also ends where repeated wall-clock time begins or ends, so it is drawn in one width.
        """
        repeated = self.repeated()
        result = []
        for minute, fold, state in self.minutes:
            if (
                result
                and result[-1][2:] == (fold, state)
                and result[-1][0] + result[-1][1] == minute
                and (minute in repeated) == (result[-1][0] in repeated)
            ):
                first, length, _, _ = result[-1]
                result[-1] = (first, length + 1, fold, state)
            else:
                result.append((minute, 1, fold, state))
        return result


@dataclass(frozen=True)
class Week:
    label: str  # "ordinary week", "clocks go forward", "clocks go back"
    monday: date
    change: str  # how the clock changes that week, "" for an ordinary week
    days: tuple[Day, ...]


def sent_payloads(assets: Assets, tz: ZoneInfo, year: int) -> list[dict]:
    """The downtime payloads apply would send, their anchors rebased as if sent on 1 December of the year before."""
    settings = Settings(notify="@calendar", timezone=tz)
    sent_on = datetime(year - 1, 12, 1)
    return [
        downtime_payload(name, template, 0, settings, now=sent_on)
        for name, template in sorted(assets.downtimes.items())
    ]


def clock_changes(tz: ZoneInfo, year: int) -> list[tuple[datetime, timedelta]]:
    """(local moment just after the change, offset change) for each change of UTC offset during `year`."""
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    changes = []
    moment = start
    offset = moment.astimezone(tz).utcoffset()
    while moment < end:
        following = moment + timedelta(minutes=15)
        new_offset = following.astimezone(tz).utcoffset()
        if new_offset != offset:
            changes.append((following.astimezone(tz), new_offset - offset))
            offset = new_offset
        moment = following
    return changes


def _describe(local_after: datetime, delta: timedelta) -> tuple[str, str]:
    minutes = int(delta.total_seconds() // 60)
    before = (local_after.replace(tzinfo=None) - delta).strftime("%H:%M")
    after = local_after.strftime("%H:%M")
    day = local_after.strftime("%a %Y-%m-%d")
    if minutes > 0:
        return "clocks go forward", f"{day}: {before} -> {after}, {minutes} min skipped"
    return "clocks go back", f"{day}: {before} -> {after}, {-minutes} min repeated"


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def real_muted_minutes(recurrences, tz: ZoneInfo, origin_utc: datetime, minutes: int, reading: str) -> bytearray:
    """Like `downtimes.muted_minutes`, but indexed by elapsed minutes since `origin_utc`.

    `muted_minutes` subtracts datetimes that share a tzinfo, which Python does in wall-clock time, so its
    index is the wall-clock minute: the repeated hour of an autumn night is a single cell there. The
    calendar needs both passes of that hour, so it places the same occurrences on a UTC time line.
    """
    muted = bytearray(minutes)
    until = (origin_utc + timedelta(minutes=minutes)).astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    for recurrence in recurrences:
        for naive_start in recurrence.starts(until):
            start = naive_start.replace(tzinfo=tz).astimezone(UTC)
            if reading == "wall-clock":
                end = (naive_start + recurrence.duration).replace(tzinfo=tz).astimezone(UTC)
            else:
                end = start + recurrence.duration
            first = max(int((start - origin_utc).total_seconds() // 60), 0)
            last = min(int((end - origin_utc).total_seconds() // 60), minutes)
            if first < last:
                muted[first:last] = b"\x01" * (last - first)
    return muted


def week_grid(recurrences, tz: ZoneInfo, monday: date, label: str = "", change: str = "") -> Week:
    origin = datetime.combine(monday, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    total = int((end - origin).total_seconds() // 60)
    readings = [real_muted_minutes(recurrences, tz, origin, total, reading) for reading in downtimes.READINGS]
    days: list[list] = [[] for _ in range(7)]
    for index in range(total):
        local = (origin + timedelta(minutes=index)).astimezone(tz)
        states = {reading[index] for reading in readings}
        state = DIFFERS if len(states) > 1 else (MUTED if states == {1} else LIVE)
        days[(local.date() - monday).days].append((local.hour * 60 + local.minute, local.fold, state))
    return Week(label, monday, change, tuple(Day(monday + timedelta(days=i), tuple(m)) for i, m in enumerate(days)))


def ordinary_monday(tz: ZoneInfo, year: int) -> date:
    """The first Monday from 1 June of `year` whose week holds no clock change."""
    day = date(year, 6, 1)
    day += timedelta(days=(7 - day.weekday()) % 7)
    changed_days = {local.date() for local, _ in clock_changes(tz, year)}
    while any(day + timedelta(days=i) in changed_days for i in range(7)):
        day += timedelta(days=7)
    return day


def calendar_weeks(assets: Assets, tz: ZoneInfo, year: int) -> list[Week]:
    recurrences = [r for payload in sent_payloads(assets, tz, year) for r in downtimes.recurrences_of(payload)]
    weeks = [week_grid(recurrences, tz, ordinary_monday(tz, year), "ordinary week")]
    for local_after, delta in clock_changes(tz, year):
        label, change = _describe(local_after, delta)
        weeks.append(week_grid(recurrences, tz, _monday(local_after.date()), label, change))
    return weeks


def grid_data(weeks: list[Week], tz: ZoneInfo, year: int) -> dict:
    """The data behind the picture, as runs of wall-clock time ("HH:MM" to "HH:MM", fold, state)."""

    def hhmm(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    return {
        "timezone": tz.key,
        "year": year,
        "clock_changes": [w.change for w in weeks if w.change] or ["none"],
        "weeks": [
            {
                "label": week.label,
                "monday": week.monday.isoformat(),
                "change": week.change,
                "days": {
                    day.day.strftime("%a %Y-%m-%d"): [
                        [hhmm(first), hhmm(first + length), fold, STATE_NAMES[state]]
                        for first, length, fold, state in day.runs()
                    ]
                    for day in week.days
                },
            }
            for week in weeks
        ],
    }


def _check_output(output: str) -> Path:
    path = Path(output)
    if path.suffix.lower() not in FIGURE_FORMATS:
        raise UsageError(f"--output {output}: the picture format comes from the extension; use .png or .svg.")
    if not path.parent.is_dir():
        raise UsageError(f"--output {output}: folder {path.parent} does not exist; create it or choose another path.")
    return path


def save_figure(figure, output: str) -> Path:
    """Save with fixed metadata so the same data give the same file (no date, fixed SVG ids)."""
    import matplotlib

    path = _check_output(output)
    matplotlib.rcParams["svg.hashsalt"] = "my-metric-provision"
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, and no font outlines to vary
    metadata = {"Date": None} if path.suffix.lower() == ".svg" else {"Software": None}
    try:
        figure.savefig(path, dpi=110, metadata=metadata)
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot write ({exc.strerror}); choose a writable path.") from None
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return path


COLOURS = {LIVE: "#7fc97f", MUTED: "#9e9e9e", DIFFERS: "#e6550d"}


def draw(weeks: list[Week], tz: ZoneInfo, year: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    figure, axes = plt.subplots(1, len(weeks), figsize=(4.6 * len(weeks) + 0.6, 6.4), squeeze=False)
    for ax, week in zip(axes[0], weeks, strict=True):
        for column, day in enumerate(week.days):
            doubled = day.repeated()
            present = {minute for minute, _, _ in day.minutes}
            for first, length, fold, state in day.runs():
                # A repeated hour is drawn as two half-width cells: first pass left, second pass right.
                if first in doubled:
                    x, width = column + (0.5 if fold else 0.0), 0.5
                else:
                    x, width = column, 1.0
                ax.add_patch(Rectangle((x, first / 60), width, length / 60, color=COLOURS[state], linewidth=0))
            missing = [m for m in range(24 * 60) if m not in present]
            if missing:
                ax.add_patch(
                    Rectangle(
                        (column, missing[0] / 60),
                        1,
                        len(missing) / 60,
                        facecolor="white",
                        edgecolor="#d62728",
                        hatch="xxx",
                        linewidth=1,
                    )
                )
            if doubled:
                low, high = min(doubled), max(doubled) + 1
                ax.add_patch(Rectangle((column, low / 60), 1, (high - low) / 60, fill=False, edgecolor="#1f77b4", lw=2))
                ax.plot([column + 0.5] * 2, [low / 60, high / 60], color="#1f77b4", lw=1.5)
            if column in downtimes.WORK_DAYS:
                start = downtimes.WORK_START.hour + downtimes.WORK_START.minute / 60
                end = downtimes.WORK_END.hour + downtimes.WORK_END.minute / 60
                ax.add_patch(Rectangle((column, start), 1, end - start, fill=False, edgecolor="black", ls="--", lw=0.8))
        ax.set_xlim(0, 7)
        ax.set_ylim(24, 0)
        ax.set_xticks([i + 0.5 for i in range(7)])
        ax.set_xticklabels([d.day.strftime("%a\n%d %b") for d in week.days], fontsize=8)
        ax.set_yticks(range(0, 25, 2))
        ax.set_yticklabels([f"{h:02d}:00" for h in range(0, 25, 2)], fontsize=8)
        ax.set_xticks(range(8), minor=True)
        ax.grid(which="minor", axis="x", color="white", lw=1.5)
        title = f"{week.label}, from {week.monday:%Y-%m-%d}"
        ax.set_title(title + (f"\n{week.change}" if week.change else "\nno clock change"), fontsize=9)
    legend = [
        Patch(color=COLOURS[MUTED], label="muted"),
        Patch(color=COLOURS[LIVE], label="live (monitor notifies)"),
        Patch(facecolor="white", edgecolor="black", ls="--", label="required live: Mon-Fri 09:00-19:00"),
        Patch(facecolor="white", edgecolor="#d62728", hatch="xxx", label="hour that does not exist"),
        Patch(facecolor="white", edgecolor="#1f77b4", lw=2, label="hour that happens twice (left: 1st, right: 2nd)"),
    ]
    if any(state == DIFFERS for w in weeks for d in w.days for _, _, state in d.minutes):
        legend.append(Patch(color=COLOURS[DIFFERS], label=STATE_NAMES[DIFFERS]))
    note = "" if len(weeks) > 1 else f" - {tz.key} has no clock change in {year}"
    figure.suptitle(f"my_metric downtimes, local time in {tz.key}, {year}{note}", fontsize=11)
    figure.legend(handles=legend, loc="lower center", ncol=3, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.09, 1, 0.95))
    return figure


def write_calendar(assets: Assets, tz: ZoneInfo, year: int, output: str, data_output: str | None = None) -> list[Week]:
    _check_output(output)
    if data_output and not Path(data_output).parent.is_dir():  # checked before anything is written
        folder = Path(data_output).parent
        raise UsageError(f"--data {data_output}: folder {folder} does not exist; create it or choose another path.")
    weeks = calendar_weeks(assets, tz, year)
    save_figure(draw(weeks, tz, year), output)
    if data_output:
        try:
            Path(data_output).write_text(json.dumps(grid_data(weeks, tz, year), indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--data {data_output}: cannot write ({exc.strerror}); choose a writable path.") from None
    return weeks
