import io
from datetime import date
from zoneinfo import ZoneInfo

from my_metric_provisioning.cli import run

from .common import integration_copy


def test_validate_passes_on_the_repository_assets():
    out = io.StringIO()
    assert run(["validate"], out=out) == 0, out.getvalue()
    assert out.getvalue().startswith("OK:")
    assert f"over {date.today().year}, minute by minute" in out.getvalue()


def test_validate_reports_a_broken_dashboard_with_its_path(tmp_path):
    copy = integration_copy(tmp_path)
    path = copy / "assets/dashboards/my_metric_overview.json"
    path.write_text(path.read_text().replace('"type": "timeseries"', '"type": "timeserie"', 1))
    out = io.StringIO()
    assert run(["--assets-dir", str(copy), "validate"], out=out) == 1
    assert "unknown WidgetDefinition type 'timeserie'. Hint: did you mean 'timeseries'" in out.getvalue()
    assert "$.widgets[1].definition.widgets[0].definition.type" in out.getvalue()


def test_coverage_is_proven_over_the_current_year_in_the_timezone(monkeypatch):
    from my_metric_provisioning import cli

    monkeypatch.setattr(cli, "this_year", lambda timezone: 2031)
    out = io.StringIO()
    assert run(["validate"], out=out) == 0, out.getvalue()
    assert "over 2031, minute by minute" in out.getvalue()


def test_the_default_year_is_this_year_in_the_timezone():
    from my_metric_provisioning.cli import this_year

    assert this_year(ZoneInfo("Pacific/Kiritimati")) in (date.today().year, date.today().year + 1)
