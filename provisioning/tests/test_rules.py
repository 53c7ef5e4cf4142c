"""Each rule `validate` keeps, broken in turn, is a finding naming the file, the JSON path and a hint; the wording
is the module's business."""

import copy
from zoneinfo import ZoneInfo

import pytest
from my_metric_provisioning.assets import integration_metrics, known_metrics
from my_metric_provisioning.rules import check_dashboard, check_downtime, check_monitor, validate_all

from .common import set_rules

PARIS = ZoneInfo("Europe/Paris")
MONITOR = "assets/monitors/my_metric_high.json"
DASHBOARD = "assets/dashboards/my_metric_overview.json"


@pytest.fixture
def allowed(real_assets):
    return integration_metrics(real_assets.integration_dir) | set(known_metrics())


def named_at(findings, source, paths):
    """Each path holds a finding of `source` with a hint, and no finding is elsewhere."""
    assert {f.path for f in findings} == set(paths), [str(f) for f in findings]
    assert all(f.source == source and f.hint for f in findings), [str(f) for f in findings]


def test_every_known_metric_notes_its_source():
    assert all(source.strip() for source in known_metrics().values())


def definition(assets):
    return assets.monitor["definition"]


def set_query(query, **thresholds):
    def change(assets):
        definition(assets)["query"] = query
        definition(assets)["options"]["thresholds"].update(thresholds)

    return change


def set_option(**options):
    return lambda assets: definition(assets)["options"].update(options)


def replace_in_message(old, new):
    return lambda assets: definition(assets).update(message=definition(assets)["message"].replace(old, new))


OPTIONS = "$.definition.options"
# Each row: a change to the committed monitor, then the JSON paths `validate` names.
MONITOR_FINDINGS = {
    "warning above critical": (
        set_option(thresholds={"critical": 800, "warning": 900}),
        f"{OPTIONS}.thresholds.warning",
    ),
    "warning equal to critical, >=": (
        set_query("avg(last_5m):avg:my_metric{*} by {host} >= 800", warning=800),
        f"{OPTIONS}.thresholds.warning",
    ),
    "warning below critical, <": (
        set_query("avg(last_5m):avg:my_metric{*} by {host} < 100", critical=100, warning=50),
        f"{OPTIONS}.thresholds.warning",
    ),
    "critical differs from the query": (set_option(thresholds={"critical": 700}), f"{OPTIONS}.thresholds.critical"),
    "no critical": (set_option(thresholds={"warning": 500}), f"{OPTIONS}.thresholds.critical"),
    "not grouped by host": (set_query("avg(last_5m):avg:my_metric{*} > 800"), "$.definition.query"),
    "host not named": (replace_in_message("{{host.name}}", "a host"), "$.definition.message"),
    "host IP not named": (replace_in_message("{{host.ip}}", "its address"), "$.definition.message"),
    "no-data notification off": (set_option(notify_no_data=False), f"{OPTIONS}.notify_no_data"),
    "no-data notification unset": (
        lambda a: definition(a)["options"].pop("notify_no_data"),
        f"{OPTIONS}.notify_no_data",
    ),
    "no-data window under twice the evaluation window": (
        set_option(no_data_timeframe=9),
        f"{OPTIONS}.no_data_timeframe",
    ),
    "unreadable query": (set_query("my_metric over 800"), "$.definition.query"),
    "unknown metric": (set_query("avg(last_5m):avg:zzz.qqq{*} by {host} > 800"), "$.definition.query"),
    "a field the model does not have": (set_option(thresold=1), f"{OPTIONS}.thresold"),
    "no definition": (lambda a: a.monitor.pop("definition"), "$.definition"),
}


@pytest.mark.parametrize("name", MONITOR_FINDINGS)
def test_a_broken_monitor_rule_is_named_at_its_path_with_a_hint(assets, allowed, name):
    change, path = MONITOR_FINDINGS[name]
    assert check_monitor(assets.monitor, allowed) == []
    change(assets)
    named_at(check_monitor(assets.monitor, allowed), MONITOR, [path])


@pytest.mark.parametrize(
    "query, thresholds",
    [
        ("avg(last_5m):avg:my_metric{*} by {host} > 900", {"critical": 900, "warning": 600}),
        ("avg(last_5m):avg:my_metric{*} by {host} > 900", {"critical": 900}),
        ("avg(last_10m):max:my_metric{env:prod} by {host,env} <= 20", {"critical": 20, "warning": 35}),
    ],
)
def test_a_users_own_query_and_thresholds_validate(assets, allowed, query, thresholds):
    definition(assets).update(query=query)
    definition(assets)["options"].update(thresholds=thresholds, no_data_timeframe=20)
    assert check_monitor(assets.monitor, allowed) == []


def widget(dashboard, group=1):
    return dashboard["widgets"][group]["definition"]["widgets"][0]["definition"]


def first_query(dashboard, group=1):
    return widget(dashboard, group)["requests"][0]["queries"][0]


WIDGET = "$.widgets[1].definition.widgets[0].definition"
# Each row: a change to the committed dashboard, the JSON path named, and what the hint must name.
DASHBOARD_FINDINGS = {
    "widget type misspelt": (lambda d: widget(d).update(type="timeserie"), f"{WIDGET}.type", "'timeseries'"),
    "metric misspelt": (
        lambda d: first_query(d, 2).update(query="avg:mysql.performance.querys{$host}"),
        "$.widgets[2].definition.widgets[0].definition.requests[0].queries[0].query",
        "'mysql.performance.queries'",
    ),
    "template variable misspelt": (
        lambda d: first_query(d).update(query="avg:my_metric{$hots} by {host}"),
        f"{WIDGET}.requests[0].queries[0].query",
        "'host'",
    ),
    "legacy q request": (
        lambda d: widget(d).update(requests=[{"q": "avg:zzz.qqq{$region}", "display_type": "line"}]),
        f"{WIDGET}.requests[0].q",
        "",
    ),
}


@pytest.mark.parametrize("name", DASHBOARD_FINDINGS)
def test_a_dashboard_mistake_is_named_at_its_path_with_a_hint(assets, allowed, name):
    change, path, named = DASHBOARD_FINDINGS[name]
    change(assets.dashboard)
    found = check_dashboard(assets.dashboard, allowed)
    named_at(found, DASHBOARD, [path])
    assert all(named in f.hint for f in found), [str(f) for f in found]


def test_text_outside_queries_and_formulas_is_not_read_as_a_query(assets, allowed):
    widget(assets.dashboard)["title"] = "latency{p99} by $region"
    widget(assets.dashboard, 0)["content"] = "anomalies(x) of costs{usd} in $currency"
    assert check_dashboard(assets.dashboard, allowed) == []


def test_by_without_a_space_is_not_a_metric(assets, allowed):
    definition(assets)["query"] = "avg(last_5m):avg:my_metric{*} by{host} > 800"
    assert check_monitor(assets.monitor, allowed) == []


RECURRENCES = "$.data.attributes.schedule.recurrences"
DOWNTIME_FINDINGS = {
    "one-time schedule": (
        lambda a: a.update(schedule={"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-02T00:00:00+00:00"}),
        "$.data.attributes.schedule",
    ),
    "start without a date": (lambda a: a["schedule"]["recurrences"][0].update(start="05:00"), f"{RECURRENCES}[0]"),
    "duration unreadable": (lambda a: a["schedule"]["recurrences"][0].update(duration="49 hours"), f"{RECURRENCES}[0]"),
    "attributes not an object": (lambda a: a.clear(), "$.data.attributes.scope"),
}


@pytest.mark.parametrize("name", DOWNTIME_FINDINGS)
def test_a_downtime_mistake_is_named_at_its_path_with_a_hint(assets, name):
    change, path = DOWNTIME_FINDINGS[name]
    change(assets.downtimes["weekend"]["data"]["attributes"])
    found = check_downtime(assets.downtimes["weekend"], "downtimes/weekend.json")
    assert path in {f.path for f in found} and all(f.hint for f in found), [str(f) for f in found]
    assert {f.source for f in found} == {"downtimes/weekend.json"}


def test_checking_a_downtime_leaves_its_payload_as_it_was(assets):
    before = copy.deepcopy(assets.downtimes["weekend"])
    assert check_downtime(assets.downtimes["weekend"], "downtimes/weekend.json") == []
    assert assets.downtimes["weekend"] == before


def test_validate_all_reports_the_findings_of_every_file(assets):
    definition(assets)["options"]["notify_no_data"] = False
    assets.dashboard["layout_type"] = "grid"
    assets.downtimes["weekend"]["data"]["attributes"]["schedule"]["recurrences"][0]["duration"] = "49 hours"
    assert {f.source for f in validate_all(assets, PARIS, 2026)} == {MONITOR, DASHBOARD, "downtimes/weekend.json"}


def test_coverage_is_judged_only_when_every_downtime_file_can_be_read(assets):
    late = [{"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start": "2025-01-06T20:00:00", "duration": "13h"}]
    assets.downtimes["weeknights"] = set_rules(assets.downtimes["weeknights"], late)  # 19:00-20:00 unmuted
    [source] = {f.source for f in validate_all(assets, PARIS, 2026)}
    assert "weeknights" in source and "weekend" in source
    assets.downtimes["weekend"]["data"]["attributes"]["schedule"]["recurrences"][0]["duration"] = "49 hours"
    assert {f.source for f in validate_all(assets, PARIS, 2026)} == {"downtimes/weekend.json"}


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Australia/Sydney"])
def test_coverage_is_judged_in_the_zone_given(assets, zone):
    # the weekend ends Monday 05:00 instead of 09:00: a gap, named in the zone the week is read in
    rules = [{"rrule": "FREQ=WEEKLY;BYDAY=SA", "start": "2025-01-11T05:00:00", "duration": "48h"}]
    assets.downtimes["weekend"] = set_rules(assets.downtimes["weekend"], rules)
    found = validate_all(assets, ZoneInfo(zone), 2026)
    assert found and all(f.path == RECURRENCES and f.hint for f in found)
    assert zone in found[0].message and "2026-01-05 05:00" in found[0].message


def test_a_start_in_a_clock_change_is_a_finding_naming_the_day(assets):
    skipped = {"rrule": "FREQ=WEEKLY;BYDAY=SU", "start": "2025-01-12T02:30:00", "duration": "1h"}
    weekend = assets.downtimes["weekend"]
    assets.downtimes["weekend"] = set_rules(
        weekend, weekend["data"]["attributes"]["schedule"]["recurrences"] + [skipped]
    )
    found = validate_all(assets, ZoneInfo("America/New_York"), 2026)
    assert [f.path for f in found if "2026-03-08 02:30" in f.message] == [RECURRENCES]
