"""Strict model checks: each problem the client would let through is printed with its JSON path and a fix."""

import copy

import pytest
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest
from my_metric_provisioning.strict import check_payload

WRONG_TYPE_FIX = "Hint: fix the value's type."

# Each row: a change to the real monitor definition, then the finding as `validate` prints it.
MONITOR_FINDINGS = {
    "null": (
        lambda d: d.update(name=None),
        "$.definition.name: null is not allowed here. Hint: remove the key or give it a value.",
    ),
    "string for a boolean": (
        lambda d: d["options"].update(notify_no_data="yes"),
        f"$.definition.options.notify_no_data: 'yes' has the wrong type; expected true or false. {WRONG_TYPE_FIX}",
    ),
    "string for an integer": (
        lambda d: d["options"].update(no_data_timeframe="10"),
        f"$.definition.options.no_data_timeframe: '10' has the wrong type; expected an integer. {WRONG_TYPE_FIX}",
    ),
    "boolean for an integer": (
        lambda d: d["options"].update(no_data_timeframe=True),
        f"$.definition.options.no_data_timeframe: True has the wrong type; expected an integer. {WRONG_TYPE_FIX}",
    ),
    "fraction for an integer": (
        lambda d: d.update(priority=1.5),
        f"$.definition.priority: 1.5 has the wrong type; expected an integer. {WRONG_TYPE_FIX}",
    ),
    "string for a number": (
        lambda d: d["options"]["thresholds"].update(critical="800"),
        f"$.definition.options.thresholds.critical: '800' has the wrong type; expected a number. {WRONG_TYPE_FIX}",
    ),
    "list for an object": (
        lambda d: d.update(options=[1]),
        f"$.definition.options: [1] has the wrong type; expected a MonitorOptions. {WRONG_TYPE_FIX}",
    ),
    "object for a string": (
        lambda d: d.update(name={"text": "x"}),
        f"$.definition.name: {{'text': 'x'}} has the wrong type; expected a string. {WRONG_TYPE_FIX}",
    ),
    "string for a list": (
        lambda d: d.update(tags="a"),
        f"$.definition.tags: 'a' has the wrong type; expected a list. {WRONG_TYPE_FIX}",
    ),
    "string for a map": (
        lambda d: d["options"].update(silenced="x"),
        f"$.definition.options.silenced: 'x' has the wrong type; expected an object. {WRONG_TYPE_FIX}",
    ),
    "string for a number in a map": (
        lambda d: d["options"].update(silenced={"*": "soon"}),
        f"$.definition.options.silenced.*: 'soon' has the wrong type; expected an integer. {WRONG_TYPE_FIX}",
    ),
    "number in a list of strings": (
        lambda d: d.update(tags=[1]),
        f"$.definition.tags[0]: 1 has the wrong type; expected a string. {WRONG_TYPE_FIX}",
    ),
    "missing required key": (
        lambda d: d.pop("query"),
        "$.definition.query: missing required key 'query' (Monitor). Hint: add 'query' (a string).",
    ),
    "missing required enum": (
        lambda d: d.pop("type"),
        "$.definition.type: missing required key 'type' (Monitor). Hint: add 'type' (a MonitorType).",
    ),
    "misspelled key": (
        lambda d: d.update(mesage="x"),
        "$.definition.mesage: unknown key 'mesage' in Monitor. Hint: did you mean 'message'?",
    ),
    "read-only key": (
        lambda d: d.update(creator={"name": "x"}),
        "$.definition.creator: 'creator' is read-only in Monitor. "
        "Hint: remove it: Datadog sets it and rejects or ignores it on create.",
    ),
}


@pytest.mark.parametrize("name", MONITOR_FINDINGS)
def test_monitor_problem_is_printed_with_path_and_fix(real_assets, name):
    change, expected = MONITOR_FINDINGS[name]
    definition = copy.deepcopy(real_assets.monitor["definition"])
    change(definition)
    found = check_payload(definition, Monitor, "monitor.json", prefix=["definition"])
    assert [str(f) for f in found] == [f"monitor.json: {expected}"]


def test_unknown_key_far_from_any_lists_the_accepted_keys(real_assets):
    definition = dict(real_assets.monitor["definition"], zzzqqq=1)
    [finding] = check_payload(definition, Monitor, "monitor.json")
    assert (finding.path, finding.message) == ("$.zzzqqq", "unknown key 'zzzqqq' in Monitor.")
    assert finding.hint.startswith("Monitor accepts: assets, created, creator, ") and finding.hint.endswith(", type.")


def dashboard_widget(dashboard):
    return dashboard["widgets"][1]["definition"]["widgets"][0]


@pytest.mark.parametrize(
    "change, expected",
    [
        pytest.param(
            lambda d: d.update(layout_type="zzz"),
            "$.layout_type: 'zzz' is not a valid DashboardLayoutType. Hint: use one of free, ordered.",
            id="enum value far from any",
        ),
        pytest.param(
            lambda d: dashboard_widget(d)["definition"]["requests"][0].update(display_type="zzzz"),
            "$.widgets[1].definition.widgets[0].definition.requests[0].display_type: 'zzzz' is not a valid "
            "WidgetDisplayType. Hint: use one of area, bars, line, overlay.",
            id="nested enum value far from any",
        ),
        pytest.param(
            lambda d: d["widgets"][1]["definition"]["widgets"].__setitem__(0, "x"),
            f"$.widgets[1].definition.widgets[0]: 'x' has the wrong type; expected a Widget. {WRONG_TYPE_FIX}",
            id="string for a widget",
        ),
        pytest.param(
            lambda d: dashboard_widget(d).update(definition="timeseries"),
            "$.widgets[1].definition.widgets[0].definition: 'timeseries' has the wrong type; expected a "
            f"WidgetDefinition. {WRONG_TYPE_FIX}",
            id="string for a widget definition, one of many models",
        ),
        pytest.param(
            lambda d: d.update(tabs=[{"id": "overview", "name": "Overview", "widget_ids": []}]),
            "$.tabs[0].id: the client cannot deserialise it: Failed to parse 'overview' as UUID at ['payload']"
            "['tabs'][0]['id'] Hint: fix the value at that path.",
            id="a string the client cannot read as a UUID",
        ),
        pytest.param(
            lambda d: d.update(tabs=[{"id": 5, "name": "Overview", "widget_ids": []}]),
            f"$.tabs[0].id: 5 has the wrong type; expected UUID. {WRONG_TYPE_FIX}",
            id="number for a UUID",
        ),
        pytest.param(
            lambda d: d["widgets"][0].update(
                definition={"type": "embedded_app", "app_id": "x", "inputs": [{"name": "region"}]}
            ),
            "$.widgets[0].definition.inputs[0].value: missing required key 'value' (EmbeddedAppWidgetInput). "
            "Hint: add 'value' (true or false or date or datetime or dict or a number or an integer or list "
            "or a string or UUID).",
            id="missing key that takes any type",
        ),
    ],
)
def test_dashboard_problem_is_printed_with_path_and_fix(real_assets, change, expected):
    dashboard = copy.deepcopy(real_assets.dashboard)
    change(dashboard)
    assert [str(f) for f in check_payload(dashboard, Dashboard, "dashboard.json")] == [f"dashboard.json: {expected}"]


def test_unknown_widget_type_far_from_any_lists_the_types(real_assets):
    dashboard = copy.deepcopy(real_assets.dashboard)
    dashboard_widget(dashboard)["definition"]["type"] = "zzzzz"
    [finding] = check_payload(dashboard, Dashboard, "dashboard.json")
    assert finding.path == "$.widgets[1].definition.widgets[0].definition.type"
    assert finding.message == "unknown WidgetDefinition type 'zzzzz'."
    assert finding.hint.startswith("use one of alert_graph, alert_value, ") and ", timeseries, " in finding.hint
    assert finding.hint.endswith(", wildcard.")


@pytest.mark.parametrize("key", ["start", "end"])
def test_downtime_time_of_the_wrong_type_names_the_expected_type(real_assets, key):
    downtime = copy.deepcopy(real_assets.downtimes["weekend"])
    downtime["data"]["attributes"]["monitor_identifier"] = {"monitor_id": 1}
    downtime["data"]["attributes"]["schedule"] = {"start": "2026-06-01T00:00:00Z", "end": None} | {key: 5}
    assert [str(f) for f in check_payload(downtime, DowntimeCreateRequest, "weekend.json")] == [
        f"weekend.json: $.data.attributes.schedule.{key}: 5 has the wrong type; expected datetime. {WRONG_TYPE_FIX}"
    ]


def test_a_payload_that_is_not_an_object_is_one_finding_without_a_hint():
    [finding] = check_payload(["widgets"], Dashboard, "dashboard.json")
    assert (finding.path, finding.message, finding.hint) == ("$", "expected an object (Dashboard).", "")
    assert str(finding) == "dashboard.json: $: expected an object (Dashboard)."


@pytest.mark.parametrize("schedule", [{"start": "tomorrow"}, {"end": "2026-01-01"}])
def test_a_date_the_client_cannot_read_is_reported_as_unparsed(real_assets, schedule):
    downtime = copy.deepcopy(real_assets.downtimes["weekend"])
    downtime["data"]["attributes"]["monitor_identifier"] = {"monitor_id": 1}
    downtime["data"]["attributes"]["schedule"] = schedule
    assert [str(f) for f in check_payload(downtime, DowntimeCreateRequest, "weekend.json", prefix=["file"])] == [
        "weekend.json: $.file: DowntimeCreateRequest has an unparsed part. Hint: compare with the API reference."
    ]
