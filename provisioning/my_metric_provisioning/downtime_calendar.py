"""The downtime week as a picture (`my-metric-provision calendar`). A week is every real minute from Monday 00:00 to
the next Monday 00:00 in the downtimes' timezone, each at its local wall-clock time: the hour skipped when clocks go
forward has no minute, the hour repeated when they go back has two (fold 0, then fold 1). Muted or live is what
`downtimes.muted_minutes` finds in the payloads apply would send."""

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from my_metric_provisioning import downtimes
from my_metric_provisioning.assets import Assets
from my_metric_provisioning.cli import UsageError
from my_metric_provisioning.provision import Settings, downtime_payload

LIVE, MUTED, MISSING = 0, 1, 2  # MISSING: the hour that does not exist
COLOURS = ("#7fc97f", "#9e9e9e", "#d62728")  # by state


@dataclass(frozen=True)
class Week:
    monday: date
    change: str | None  # the week's clock change, e.g. "Sun 2026-03-08: 02:00 -> 03:00, 60 min skipped"
    minutes: tuple[tuple[datetime, int], ...]  # each real minute, in order: local time (fold set) and state


def describe_change(before: datetime, after: datetime) -> str:
    """The clock change between two consecutive real minutes."""
    shift = int((after.utcoffset() - before.utcoffset()).total_seconds()) // 60
    jump = f"{before + timedelta(minutes=1):%H:%M} -> {after:%H:%M}"  # aware + timedelta is wall-clock arithmetic
    return f"{after:%a %Y-%m-%d}: {jump}, {abs(shift)} min {'skipped' if shift > 0 else 'repeated'}"


def week_of(recurrences, tz: ZoneInfo, monday: date) -> Week:
    origin = datetime.combine(monday, time(), tz).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(), tz)
    length = int((end - origin).total_seconds()) // 60
    # From a UTC origin muted_minutes counts elapsed minutes, so both passes of a repeated hour have their own. A
    # minute counts as muted if it is under both readings of `duration` (validate reports any that differ).
    readings = [downtimes.muted_minutes(recurrences, tz, origin, length, reading) for reading in downtimes.READINGS]
    minutes = tuple(
        ((origin + timedelta(minutes=index)).astimezone(tz), min(muted))
        for index, muted in enumerate(zip(*readings, strict=True))
    )
    change = next(((a, b) for (a, _), (b, _) in itertools.pairwise(minutes) if a.utcoffset() != b.utcoffset()), None)
    return Week(monday, change and describe_change(*change), minutes)


def calendar_weeks(assets: Assets, tz: ZoneInfo, year: int) -> list[Week]:
    """An ordinary week (the first from June without a clock change), then each week of `year` with a clock change.

    The downtimes are those apply would send, anchored as if sent on 1 December of the year before: all the year is
    covered."""
    settings, sent_on = Settings(notify="@calendar", timezone=tz), datetime(year - 1, 12, 1)
    payloads = [downtime_payload(name, d, 0, settings, now=sent_on) for name, d in sorted(assets.downtimes.items())]
    recurrences = [r for payload in payloads for r in downtimes.recurrences_of(payload)]
    first = date(year, 1, 1)
    mondays = [first + timedelta(days=day) for day in range(-first.weekday(), 366, 7)]

    def offset(day: date) -> timedelta:
        return datetime.combine(day, time(), tz).utcoffset()

    changed = [monday for monday in mondays if offset(monday) != offset(monday + timedelta(days=7))]
    ordinary = next(m for m in mondays if m >= date(year, 6, 1) and m not in changed)
    return [week_of(recurrences, tz, monday) for monday in (ordinary, *changed)]


def draw(weeks: list[Week], tz: ZoneInfo, year: int) -> Figure:
    work_start, work_end = (t.hour + t.minute / 60 for t in (downtimes.WORK_START, downtimes.WORK_END))
    figure = Figure(figsize=(4.6 * len(weeks) + 0.6, 6.4))
    for ax, week in zip(figure.subplots(1, len(weeks), squeeze=False)[0], weeks, strict=True):
        # A row per wall-clock minute, two columns per day: a repeated hour's second pass fills the right one only.
        image = np.full((24 * 60, 14), MISSING)
        for local, state in week.minutes:
            column = 2 * (local.date() - week.monday).days
            image[local.hour * 60 + local.minute, column + local.fold : column + 2] = state
        ax.imshow(
            image, ListedColormap(COLOURS), vmin=0, vmax=2, aspect="auto", extent=(0, 7, 24, 0), interpolation="nearest"
        )
        repeated = [local for local, _ in week.minutes if local.fold]
        if repeated:
            day, start = (repeated[0].date() - week.monday).days, repeated[0].hour + repeated[0].minute / 60
            ax.add_patch(Rectangle((day, start), 1, len(repeated) / 60, fill=False, edgecolor="#1f77b4", lw=2))
            ax.plot([day + 0.5] * 2, [start, start + len(repeated) / 60], color="#1f77b4", lw=1.5)
        ax.hlines([work_start, work_end], 0, len(downtimes.WORK_DAYS), colors="black", ls="--", lw=0.8)
        days = [week.monday + timedelta(days=day) for day in range(7)]
        ax.set_xticks([day + 0.5 for day in range(7)], [day.strftime("%a\n%d %b") for day in days], fontsize=8)
        ax.set_yticks(range(0, 25, 2), [f"{hour:02d}:00" for hour in range(0, 25, 2)], fontsize=8)
        ax.set_xticks(range(8), minor=True)
        ax.grid(which="minor", axis="x", color="white", lw=1.5)
        ax.set_title(f"week from {week.monday}\n{week.change or 'no clock change'}", fontsize=9)
    legend = [
        Patch(color=COLOURS[MUTED], label="muted"),
        Patch(color=COLOURS[LIVE], label="live (monitor notifies)"),
        Patch(
            fill=False, ls="--", label=f"required live: Mon-Fri {downtimes.WORK_START:%H:%M}-{downtimes.WORK_END:%H:%M}"
        ),
        Patch(color=COLOURS[MISSING], label="hour that does not exist"),
        Patch(fill=False, edgecolor="#1f77b4", lw=2, label="hour that happens twice (left: 1st, right: 2nd)"),
    ]
    figure.suptitle(f"my_metric downtimes, local time in {tz.key}, {year}", fontsize=11)
    figure.legend(handles=legend, loc="lower center", ncol=3, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.09, 1, 0.95))
    return figure


def check_output(output: str) -> Path:
    """Refuse, before any work, a path whose suffix or folder will not do."""
    path = Path(output)
    if path.suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"--output {output}: the format comes from the extension; use .png or .svg.")
    if not path.parent.is_dir():
        raise UsageError(f"--output {output}: folder {path.parent} does not exist; create it or choose another path.")
    return path


def save_figure(figure: Figure, output: str) -> None:
    """Save with fixed metadata, so that the same data give the same SVG (no date, fixed ids, text kept as text)."""
    path = check_output(output)
    metadata = {"Date": None} if path.suffix.lower() == ".svg" else {"Software": None}
    try:
        with matplotlib.rc_context({"svg.hashsalt": "my-metric-provision", "svg.fonttype": "none"}):
            figure.savefig(path, dpi=110, metadata=metadata)
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot write ({exc.strerror}); choose a writable path.") from None


def write_calendar(assets: Assets, tz: ZoneInfo, year: int, output: str) -> list[Week]:
    check_output(output)
    weeks = calendar_weeks(assets, tz, year)
    save_figure(draw(weeks, tz, year), output)
    return weeks
