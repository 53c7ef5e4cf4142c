"""Strict model checks: what the client would let through is a finding at its JSON path, with a hint naming the
fix (the close key or value, the type expected, the values accepted); never an exception."""

import copy

import pytest
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest
from my_metric_provisioning.strict import check_payload

# Each row: a change to the committed monitor definition, the path named, and what the hint names.
MONITOR_FINDINGS = {
    "null": (lambda d: d.update(name=None), "$.name", "str"),
    "string for a boolean": (lambda d: d["options"].update(notify_no_data="yes"), "$.options.notify_no_data", "bool"),
    "string for an integer": (
        lambda d: d["options"].update(no_data_timeframe="10"),
        "$.options.no_data_timeframe",
        "int",
    ),
    "boolean for an integer": (
        lambda d: d["options"].update(no_data_timeframe=True),
        "$.options.no_data_timeframe",
        "int",
    ),
    "fraction for an integer": (lambda d: d.update(priority=1.5), "$.priority", "int"),
    "string for a number": (
        lambda d: d["options"]["thresholds"].update(critical="800"),
        "$.options.thresholds.critical",
        "float",
    ),
    "list for an object": (lambda d: d.update(options=[1]), "$.options", "MonitorOptions"),
    "string for a list": (lambda d: d.update(tags="a"), "$.tags", "list"),
    "string for a map": (lambda d: d["options"].update(silenced="x"), "$.options.silenced", "dict"),
    "string for a number in a map": (
        lambda d: d["options"].update(silenced={"*": "soon"}),
        "$.options.silenced.*",
        "int",
    ),
    "number in a list of strings": (lambda d: d.update(tags=[1]), "$.tags[0]", "str"),
    "misspelt key": (lambda d: d.update(mesage="x"), "$.mesage", "'message'"),
    "key far from any": (lambda d: d.update(zzzqqq=1), "$.zzzqqq", "message,"),
    "misspelt enum value": (lambda d: d.update(type="query alrt"), "$.type", "'query alert'"),
    "read-only key": (lambda d: d.update(creator={"name": "x"}), "$.creator", ""),
    "out of the model's range": (lambda d: d["options"].update(min_failure_duration=9000), "$", "min_failure_duration"),
}


@pytest.mark.parametrize("name", MONITOR_FINDINGS)
def test_a_monitor_problem_is_named_at_its_path_with_the_fix(real_assets, name):
    change, path, named = MONITOR_FINDINGS[name]
    definition = copy.deepcopy(real_assets.monitor["definition"])
    change(definition)
    [finding] = check_payload(definition, Monitor, "monitor.json")
    assert (finding.source, finding.path) == ("monitor.json", path) and finding.hint, str(finding)
    assert named in finding.hint or named in finding.message, str(finding)


def widget(dashboard):
    return dashboard["widgets"][1]["definition"]["widgets"][0]


WIDGET = "$.widgets[1].definition.widgets[0]"
DASHBOARD_FINDINGS = {
    "enum value far from any": (lambda d: d.update(layout_type="zzz"), "$.layout_type", "free, ordered"),
    "widget type far from any": (
        lambda d: widget(d)["definition"].update(type="zzzzz"),
        f"{WIDGET}.definition.type",
        "timeseries",
    ),
    "string for a widget": (lambda d: d["widgets"][1]["definition"]["widgets"].__setitem__(0, "x"), WIDGET, "Widget"),
    "string for a widget definition": (
        lambda d: widget(d).update(definition="timeseries"),
        f"{WIDGET}.definition",
        "WidgetDefinition",
    ),
    "string that is not a UUID": (
        lambda d: d.update(tabs=[{"id": "overview", "name": "O", "widget_ids": []}]),
        "$.tabs[0].id",
        "UUID",
    ),
    "missing key of a nested oneOf": (
        lambda d: d["widgets"][0].update(definition={"type": "embedded_app", "app_id": "x", "inputs": [{"name": "r"}]}),
        "$.widgets[0].definition.inputs[0].value",
        "'value'",
    ),
}


@pytest.mark.parametrize("name", DASHBOARD_FINDINGS)
def test_a_dashboard_problem_is_named_at_its_path_with_the_fix(real_assets, name):
    change, path, named = DASHBOARD_FINDINGS[name]
    dashboard = copy.deepcopy(real_assets.dashboard)
    change(dashboard)
    found = [f for f in check_payload(dashboard, Dashboard, "dashboard.json") if f.path == path]
    assert found and all(named in f.hint for f in found), [str(f) for f in found]


@pytest.mark.parametrize(
    "schedule, path",
    [
        ({"start": "tomorrow"}, "$.file.data.attributes.schedule.start"),
        ({"end": "2026-01-01"}, "$.file.data.attributes.schedule.end"),
        ({"start": 5}, "$.file.data.attributes.schedule.start"),
    ],
)
def test_a_time_the_client_cannot_read_is_named_with_the_type_expected(real_assets, schedule, path):
    downtime = copy.deepcopy(real_assets.downtimes["weekend"])
    downtime["data"]["attributes"]["monitor_identifier"] = {"monitor_id": 1}
    downtime["data"]["attributes"]["schedule"] = schedule
    [finding] = check_payload(downtime, DowntimeCreateRequest, "weekend.json", prefix=["file"])
    assert finding.path == path and "datetime" in finding.hint, str(finding)


def test_a_payload_that_is_not_an_object_is_one_finding_at_the_root():
    [finding] = check_payload(["widgets"], Dashboard, "dashboard.json")
    assert finding.path == "$" and "Dashboard" in finding.hint
