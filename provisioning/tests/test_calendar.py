import copy
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from my_metric_provisioning import downtime_calendar as cal
from my_metric_provisioning import downtimes
from my_metric_provisioning.cli import run

DOCS = Path(__file__).resolve().parents[1] / "docs"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def validator_coverage(assets, zone_name, year):
    """What `validate` computes: muted wall-clock minutes of the year, per reading, from the stored files."""
    tz = downtimes.zone(zone_name)
    recurrences = [r for p in assets.downtimes.values() for r in downtimes.recurrences_of(p)]
    origin = datetime(year, 1, 1, tzinfo=tz)
    minutes = downtimes._minute(datetime(year + 1, 1, 1, tzinfo=tz), origin)
    muted = {
        reading: downtimes.muted_minutes(recurrences, tz, origin, minutes, reading) for reading in downtimes.READINGS
    }
    return tz, origin, muted, downtimes.expected_minutes(tz, origin, minutes, year)


@pytest.mark.parametrize(
    "zone, skipped, repeated",
    [
        ("America/New_York", ("2026-03-08", "02:00"), ("2026-11-01", "01:00")),
        ("Australia/Sydney", ("2026-10-04", "02:00"), ("2026-04-05", "02:00")),
    ],
)
def test_grid_equals_the_validators_minute_coverage_including_clock_change_weeks(real_assets, zone, skipped, repeated):
    year = 2026
    weeks = cal.calendar_weeks(real_assets, ZoneInfo(zone), year)
    assert [w.label for w in weeks][0] == "ordinary week"
    assert sorted(w.label for w in weeks[1:]) == ["clocks go back", "clocks go forward"]
    tz, origin, muted, expected = validator_coverage(real_assets, zone, year)
    compared = 0
    for week in weeks:
        for day in week.days:
            for minute, _fold, state in day.minutes:
                local = datetime.combine(day.day, time(minute // 60, minute % 60), tzinfo=tz)
                index = downtimes._minute(local, origin)
                assert state in (cal.MUTED, cal.LIVE), (day.day, minute)
                for reading in downtimes.READINGS:
                    assert muted[reading][index] == (state == cal.MUTED), (day.day, minute, reading)
                assert expected[index] == (state == cal.MUTED)
                compared += 1
    assert compared == 3 * 7 * 24 * 60  # one hour lost and one doubled: three weeks hold 3 x 10080 real minutes

    by_day = {d.day.isoformat(): d for w in weeks for d in w.days}
    spring = by_day[skipped[0]]
    hour = int(skipped[1][:2]) * 60
    assert len(spring.minutes) == 23 * 60
    assert not {m for m, _, _ in spring.minutes} & set(range(hour, hour + 60))
    autumn = by_day[repeated[0]]
    hour = int(repeated[1][:2]) * 60
    assert len(autumn.minutes) == 25 * 60
    assert autumn.repeated() == set(range(hour, hour + 60))
    second_pass = [m for m, fold, _ in autumn.minutes if fold]
    assert second_pass == list(range(hour, hour + 60))


def test_a_broken_rule_shows_in_the_grid(real_assets):
    assets = copy.deepcopy(real_assets)
    schedule = assets.downtimes["weekend"]["data"]["attributes"]["schedule"]
    schedule["recurrences"] = [{"rrule": "FREQ=WEEKLY;BYDAY=SA", "start": "2025-01-11T00:00:00", "duration": "48h"}]
    ordinary = cal.calendar_weeks(assets, ZoneInfo("America/New_York"), 2026)[0]
    monday = ordinary.days[0]
    live_before_nine = [m for m, _, state in monday.minutes if state == cal.LIVE and m < 9 * 60]
    assert live_before_nine == list(range(0, 9 * 60))  # the naive weekend rule leaves Monday 00:00-09:00 live


def test_zone_without_clock_change_draws_one_week_and_says_so(real_assets, tmp_path):
    out = io.StringIO()
    svg = tmp_path / "tokyo.svg"
    assert run(["--timezone", "Asia/Tokyo", "calendar", "--year", "2026", "--output", str(svg)], out=out) == 0
    assert "no clock change in 2026" in out.getvalue()
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "Asia/Tokyo has no clock change in 2026" in "".join(root.itertext())


def test_png_and_svg_are_valid_and_the_svg_is_reproducible(tmp_path):
    png, first, second = tmp_path / "week.png", tmp_path / "a.svg", tmp_path / "b.svg"
    for path in (png, first, second):
        assert run(["calendar", "--year", "2026", "--output", str(path)], out=io.StringIO()) == 0
    assert png.read_bytes().startswith(PNG_MAGIC)
    import matplotlib.image

    height, width, _ = matplotlib.image.imread(png).shape
    assert width > 2 * height > 0
    assert first.read_bytes() == second.read_bytes()
    text = "\n".join(ET.parse(first).getroot().itertext())
    assert "Sun 2026-03-08: 02:00 -> 03:00, 60 min skipped" in text
    assert "Sun 2026-11-01: 02:00 -> 01:00, 60 min repeated" in text


def test_committed_picture_data_is_what_the_command_makes_today(real_assets, tmp_path):
    """The README's picture: its grid data must match today's payloads (see README for why data, not pixels)."""
    committed = json.loads((DOCS / "downtime-calendar.json").read_text())
    weeks = cal.calendar_weeks(real_assets, ZoneInfo(committed["timezone"]), committed["year"])
    assert cal.grid_data(weeks, ZoneInfo(committed["timezone"]), committed["year"]) == committed
    assert (DOCS / "downtime-calendar.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--timezone", "Europe/Pariss", "calendar", "--output", "{tmp}/x.png"], "--timezone 'Europe/Pariss'"),
        (["calendar", "--output", "{tmp}/x.pdf"], "use .png or .svg"),
        (["calendar", "--output", "{tmp}/missing/x.png"], "does not exist; create it"),
        (["calendar", "--output", "{tmp}/adir.png"], "cannot write"),
        (["calendar", "--output", "{tmp}/x.png", "--data", "{tmp}/adir.png"], "--data"),
    ],
)
def test_bad_calendar_input_is_a_clear_error(tmp_path, argv, expected):
    (tmp_path / "adir.png").mkdir()
    out = io.StringIO()
    assert run([a.replace("{tmp}", str(tmp_path)) for a in argv], out=out) == 2
    assert expected in out.getvalue()
    assert "Traceback" not in out.getvalue()


def test_data_into_a_missing_folder_is_refused_before_anything_is_written(tmp_path):
    picture = tmp_path / "week.png"
    out = io.StringIO()
    code = run(["calendar", "--output", str(picture), "--data", str(tmp_path / "missing" / "grid.json")], out=out)
    assert code == 2 and "--data" in out.getvalue()
    assert not picture.exists()


def test_validate_does_not_import_matplotlib():
    code = (
        "import io, sys\n"
        "from my_metric_provisioning.cli import run\n"
        "assert run(['validate'], out=io.StringIO()) == 0\n"
        "print('matplotlib' in sys.modules, 'numpy' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
