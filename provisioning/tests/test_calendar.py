"""calendar: the drawn week is, minute by minute, what `validate` proves, clock-change weeks included; the files it
writes; bad paths refused before anything is written; the pictures extra stays out of the other commands."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import matplotlib.image
import pytest
from my_metric_provisioning import downtime_calendar as cal
from my_metric_provisioning import downtimes

from .common import cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "zone, skipped_day, repeated_day, repeated_hour",
    [("America/New_York", "2026-03-08", "2026-11-01", 1), ("Australia/Sydney", "2026-10-04", "2026-04-05", 2)],
)
def test_every_minute_drawn_is_what_validate_proves(real_assets, zone, skipped_day, repeated_day, repeated_hour):
    tz, year = ZoneInfo(zone), 2026
    weeks = cal.calendar_weeks(real_assets, tz, year)
    assert weeks[0].change is None and len(weeks) == 3  # an ordinary week, then the two clock-change weeks
    # What validate computes: muted minutes of the year counted in wall-clock time, per reading, and the requirement.
    recurrences = [r for p in real_assets.downtimes.values() for r in downtimes.recurrences_of(p)]
    origin = datetime(year, 1, 1, tzinfo=tz)
    length = downtimes._minute(datetime(year + 1, 1, 1, tzinfo=tz), origin)
    muted = [downtimes.muted_minutes(recurrences, tz, origin, length, reading) for reading in downtimes.READINGS]
    required = downtimes.expected_minutes(tz, origin, length, year)
    minutes = [minute for week in weeks for minute in week.minutes]
    for local, state in minutes:
        index = downtimes._minute(local, origin)  # wall-clock: both passes of a repeated hour share an index
        assert [reading[index] for reading in muted] == [state] * 2 and required[index] == state, local
    per_day = Counter(str(local.date()) for local, _ in minutes)
    assert (per_day[skipped_day], per_day[repeated_day], len(minutes)) == (23 * 60, 25 * 60, 3 * 7 * 24 * 60)
    assert {(str(local.date()), local.hour) for local, _ in minutes if local.fold} == {(repeated_day, repeated_hour)}


def test_a_broken_rule_shows_in_the_grid(assets):
    schedule = assets.downtimes["weekend"]["data"]["attributes"]["schedule"]
    schedule["recurrences"] = [{"rrule": "FREQ=WEEKLY;BYDAY=SA", "start": "2025-01-11T00:00:00", "duration": "48h"}]
    ordinary = cal.calendar_weeks(assets, ZoneInfo("America/New_York"), 2026)[0]
    live = [local for local, state in ordinary.minutes if state == cal.LIVE and local.weekday() == 0 and local.hour < 9]
    assert len(live) == 9 * 60  # the naive weekend rule leaves Monday 00:00-09:00 live


@pytest.mark.parametrize(
    "zone, changes",
    [("America/New_York", ["2026-03-08: 02:00 -> 03:00", "2026-11-01: 02:00 -> 01:00"]), ("Asia/Tokyo", [])],
)
def test_png_and_svg_show_the_clock_changes_of_the_year_and_the_svg_is_reproducible(tmp_path, zone, changes):
    png, first, second = tmp_path / "week.png", tmp_path / "a.svg", tmp_path / "b.svg"
    for path in (png, first, second):
        code, out = cli("--timezone", zone, "calendar", "--year", "2026", "--output", str(path))
        assert code == 0, out
    assert png.read_bytes().startswith(PNG_MAGIC) and matplotlib.image.imread(png).size
    assert first.read_bytes() == second.read_bytes()
    root = ET.parse(first).getroot()
    assert sum(element.get("id", "").startswith("axes_") for element in root.iter()) == 1 + len(changes)
    text = "\n".join(root.itertext())
    assert zone in text and all(change in text for change in changes)


@pytest.mark.parametrize("output", ["x.pdf", "missing/x.png", "folder.png"])
def test_bad_calendar_paths_exit_2_naming_the_option_and_write_nothing(tmp_path, output):
    (tmp_path / "folder.png").mkdir()
    code, out = cli("calendar", "--output", str(tmp_path / output))
    assert code == 2 and "--output" in out and "Traceback" not in out and not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("command", [["forecast"], ["calendar", "--output"]])
def test_without_the_pictures_extra_the_command_says_how_to_install_it(monkeypatch, tmp_path, command):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None if name == "matplotlib" else object())
    output = tmp_path / "x.png"  # written only if the check were gone
    code, out = cli(*command, *([str(output)] if command[-1] == "--output" else []))
    assert code == 2 and "[pictures]" in out and "matplotlib" in out and not output.exists()


def test_validate_does_not_import_matplotlib_or_numpy():
    code = "import io, sys; from my_metric_provisioning.cli import run; run(['validate'], out=io.StringIO()); "
    code += "print(sorted({'numpy', 'matplotlib'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
