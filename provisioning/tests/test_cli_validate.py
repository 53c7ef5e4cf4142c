from datetime import date
from zoneinfo import ZoneInfo

from my_metric_provisioning import rules
from my_metric_provisioning.cli import this_year

from .common import cli, integration_copy


def test_validate_passes_on_the_repository_assets():
    code, out = cli("validate")
    assert code == 0, out


def test_a_broken_dashboard_exits_1_naming_the_file_the_path_and_the_fix(tmp_path):
    copy = integration_copy(tmp_path)
    path = copy / "assets/dashboards/my_metric_overview.json"
    path.write_text(path.read_text().replace('"type": "timeseries"', '"type": "timeserie"', 1))
    code, out = cli("--assets-dir", str(copy), "validate")
    [line] = [line for line in out.splitlines() if "my_metric_overview.json" in line]
    assert code == 1 and "$.widgets[1].definition.widgets[0].definition.type" in line and "'timeseries'" in line


def test_coverage_is_proven_over_the_year_in_the_timezone_given(monkeypatch):
    judged = []
    validate_all = rules.validate_all
    monkeypatch.setattr(rules, "validate_all", lambda *args: judged.append(args[1:]) or validate_all(*args))
    code, out = cli("--timezone", "Australia/Sydney", "validate", "--year", "2031")
    assert code == 0 and judged == [(ZoneInfo("Australia/Sydney"), 2031)], out
    cli("--timezone", "Asia/Tokyo", "validate")
    assert judged[1] == (ZoneInfo("Asia/Tokyo"), this_year(ZoneInfo("Asia/Tokyo")))


def test_the_default_year_is_this_year_in_the_timezone():
    assert this_year(ZoneInfo("Pacific/Kiritimati")) in (date.today().year, date.today().year + 1)
