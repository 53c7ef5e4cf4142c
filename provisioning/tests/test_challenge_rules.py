"""Each requirement the hiring challenge states for the monitor and the timeboard is a rule: breaking it
in the real assets fails validation at the right place, with a hint."""

import copy

import pytest
from my_metric_provisioning.assets import integration_metrics, known_metrics
from my_metric_provisioning.provision import Settings, monitor_payload
from my_metric_provisioning.rules import (
    check_challenge_monitor,
    check_dashboard,
    check_monitor,
    check_monitor_notifies,
)

pytestmark = pytest.mark.usefixtures("assets")


def definition(assets):
    return assets.monitor["definition"]


def options(assets):
    return definition(assets)["options"]


def replace_in_message(old, new):
    def change(assets):
        assert old in definition(assets)["message"]
        definition(assets)["message"] = definition(assets)["message"].replace(old, new)

    return change


def set_key(getter, key, value):
    def change(assets):
        getter(assets)[key] = value

    return change


def delete_key(getter, key):
    def change(assets):
        del getter(assets)[key]

    return change


def set_threshold(level, value):
    def change(assets):
        options(assets)["thresholds"][level] = value

    return change


ALERT_BLOCK = (
    "{{#is_alert}}\n**ALERT**: my_metric on {{host.name}} (IP {{host.ip}}) averaged {{value}} over the last 5 "
    "minutes, above the alert threshold of {{threshold}}.\n{{/is_alert}}\n"
)

MONITOR_BREAKS = {
    "alert text without the host ip": (
        replace_in_message("(IP {{host.ip}}) ", ""),
        "$.definition.message",
        "does not include the host IP",
    ),
    "alert text without the value": (
        replace_in_message("averaged {{value}} over the last 5 minutes, above the alert", "is above the alert"),
        "$.definition.message",
        "does not include the metric value",
    ),
    "no alert block": (replace_in_message(ALERT_BLOCK, ""), "$.definition.message", "no {{#is_alert}} text"),
    "no warning block": (
        replace_in_message("{{#is_warning}}", "{{#is_recovery}}"),
        "$.definition.message",
        "no {{#is_warning}} text",
    ),
    "no no-data block": (
        replace_in_message("{{#is_no_data}}", "{{#is_recovery}}"),
        "$.definition.message",
        "no {{#is_no_data}} text",
    ),
    "same text for alert and warning": (
        lambda assets: definition(assets).update(
            message="{{#is_alert}}my_metric {{value}} on {{host.ip}}{{/is_alert}}"
            "{{#is_warning}}my_metric {{value}} on {{host.ip}}{{/is_warning}}{{#is_no_data}}no data{{/is_no_data}}"
        ),
        "$.definition.message",
        "the alert text is the same as another state's text",
    ),
    "same text for warning and no data": (
        lambda assets: definition(assets).update(
            message="{{#is_alert}}my_metric {{value}} on {{host.ip}}{{/is_alert}}"
            "{{#is_warning}}check it{{/is_warning}}{{#is_no_data}}check it{{/is_no_data}}"
        ),
        "$.definition.message",
        "the warning and no-data texts are the same",
    ),
    "warning threshold not 500": (set_threshold("warning", 600), "$.definition.options.thresholds.warning", "500"),
    "no warning threshold": (
        lambda assets: options(assets)["thresholds"].pop("warning"),
        "$.definition.options.thresholds.warning",
        "warning threshold of 500",
    ),
    "critical threshold not 800": (
        lambda assets: (
            set_threshold("critical", 900)(assets),
            definition(assets).update(query="avg(last_5m):avg:my_metric{*} by {host} > 900"),
        ),
        "$.definition.options.thresholds.critical",
        "critical threshold of 800",
    ),
    "alert not above 800": (
        lambda assets: definition(assets).update(query="avg(last_5m):avg:my_metric{*} by {host} > 900"),
        "$.definition.query",
        "alerts above 800",
    ),
    "alert below instead of above": (
        lambda assets: (
            definition(assets).update(query="avg(last_5m):avg:my_metric{*} by {host} < 800"),
            options(assets)["thresholds"].update(warning=900),
        ),
        "$.definition.query",
        "alerts above 800",
    ),
    "window not 5 minutes": (
        set_key(definition, "query", "avg(last_10m):avg:my_metric{*} by {host} > 800"),
        "$.definition.query",
        "over the past 5 minutes",
    ),
    "maximum instead of average": (
        set_key(definition, "query", "max(last_5m):avg:my_metric{*} by {host} > 800"),
        "$.definition.query",
        "the average of my_metric",
    ),
    "another metric": (
        set_key(definition, "query", "avg(last_5m):avg:system.cpu.user{*} by {host} > 800"),
        "$.definition.query",
        "the average of my_metric",
    ),
    "not a metric monitor": (set_key(definition, "type", "service check"), "$.definition.type", "metric monitor"),
    "no-data notification off": (
        set_key(options, "notify_no_data", False),
        "$.definition.options.notify_no_data",
        "notified when there is no data",
    ),
    "no-data notification missing": (
        delete_key(options, "notify_no_data"),
        "$.definition.options.notify_no_data",
        "notified when there is no data",
    ),
    "no-data window not 10 minutes": (
        set_key(options, "no_data_timeframe", 20),
        "$.definition.options.no_data_timeframe",
        "no data over the past 10 minutes",
    ),
}


def first_group_query(assets, group, index):
    request = assets.dashboard["widgets"][group]["definition"]["widgets"][index]["definition"]["requests"][0]
    return request


DASHBOARD_BREAKS = {
    "my_metric not scoped over the host": (
        lambda assets: first_group_query(assets, 1, 0)["queries"][0].update(query="avg:my_metric{$env}"),
        "scoped over the host",
    ),
    "anomalies on a non-MySQL metric": (
        lambda assets: first_group_query(assets, 2, 0)["queries"][0].update(query="avg:my_metric{$host,$env}"),
        "anomalies function to a MySQL metric",
    ),
    "MySQL metric without anomalies": (
        lambda assets: first_group_query(assets, 2, 0)["formulas"][0].update(formula="query1"),
        "anomalies function to a MySQL metric",
    ),
    "rollup average instead of sum": (
        lambda assets: first_group_query(assets, 1, 1)["queries"][0].update(
            query="sum:my_metric{$host,$env} by {host}.rollup(avg, 3600)"
        ),
        "sums my_metric over the past hour",
    ),
    "rollup over ten minutes": (
        lambda assets: first_group_query(assets, 1, 1)["queries"][0].update(
            query="sum:my_metric{$host,$env} by {host}.rollup(sum, 600)"
        ),
        "sums my_metric over the past hour",
    ),
    "no rollup": (
        lambda assets: first_group_query(assets, 1, 1)["queries"][0].update(
            query="sum:my_metric{$host,$env} by {host}"
        ),
        "sums my_metric over the past hour",
    ),
}


@pytest.fixture
def allowed(real_assets):
    return integration_metrics(real_assets.integration_dir) | set(known_metrics())


@pytest.mark.parametrize("name", MONITOR_BREAKS)
def test_breaking_a_monitor_requirement_fails_validation(assets, allowed, name):
    change, path, expected = MONITOR_BREAKS[name]
    assert not [f for f in check_monitor(assets.monitor, allowed) if expected in f.message]
    change(assets)
    found = [f for f in check_monitor(assets.monitor, allowed) if expected in f.message]
    assert found, [str(f) for f in check_monitor(assets.monitor, allowed)]
    assert all(f.path == path and f.hint for f in found), [str(f) for f in found]


@pytest.mark.parametrize("name", DASHBOARD_BREAKS)
def test_breaking_a_timeboard_requirement_fails_validation(assets, allowed, name):
    change, expected = DASHBOARD_BREAKS[name]
    assert not [f for f in check_dashboard(assets.dashboard, allowed) if expected in f.message]
    change(assets)
    found = [f for f in check_dashboard(assets.dashboard, allowed) if expected in f.message]
    assert found, [str(f) for f in check_dashboard(assets.dashboard, allowed)]
    assert all(f.path == "$.widgets" and f.hint for f in found), [str(f) for f in found]


def test_the_sent_monitor_notifies_the_handle(real_assets):
    payload = monitor_payload(real_assets, Settings(notify="@ops@example.com", timezone="UTC"))
    assert check_monitor_notifies(payload, "@ops@example.com") == []
    payload["message"] = payload["message"].replace("@ops@example.com", "")
    assert [str(f) for f in check_monitor_notifies(payload, "@ops@example.com")] == [
        "assets/monitors/my_metric_high.json: $.definition.message: the monitor message does not notify "
        "@ops@example.com. Hint: pass --notify @handle."
    ]


# What `validate` prints for each broken requirement above: the path, the requirement and the fix.
PRINTED = {
    ('alert text without the host ip',): (
        '$.definition.message: the alert text does not include the host IP, which the challenge asks for. '
        'Hint: add {{host.ip}} inside {{#is_alert}}...{{/is_alert}}.'
    ),
    ('alert text without the value',): (
        '$.definition.message: the alert text does not include the metric value, which the challenge asks '
        'for. Hint: add {{value}} inside {{#is_alert}}...{{/is_alert}}.'
    ),
    ('no alert block',): (
        '$.definition.message: no {{#is_alert}} text: the challenge asks for a different message for alert, '
        'warning and no data. Hint: add {{#is_alert}}...{{/is_alert}} with its own text.'
    ),
    ('no warning block',): (
        '$.definition.message: no {{#is_warning}} text: the challenge asks for a different message for alert,'
        ' warning and no data. Hint: add {{#is_warning}}...{{/is_warning}} with its own text.'
    ),
    ('no no-data block',): (
        '$.definition.message: no {{#is_no_data}} text: the challenge asks for a different message for alert,'
        ' warning and no data. Hint: add {{#is_no_data}}...{{/is_no_data}} with its own text.'
    ),
    ('same text for alert and warning',): (
        "$.definition.message: the alert text is the same as another state's text. Hint: say in each block "
        'what happened (alert, warning, no data).'
    ),
    ('same text for warning and no data',): (
        '$.definition.message: the warning and no-data texts are the same. Hint: make them say different things.'
    ),
    ('warning threshold not 500',): (
        '$.definition.options.thresholds.warning: the challenge asks for a warning threshold of 500, not 600.'
        ' Hint: set "warning": 500.'
    ),
    ('no warning threshold',): (
        '$.definition.options.thresholds.warning: the challenge asks for a warning threshold of 500, not '
        'None. Hint: set "warning": 500.'
    ),
    ('critical threshold not 800',): (
        '$.definition.options.thresholds.critical: the challenge asks for a critical threshold of 800, not '
        '900. Hint: set "critical": 800.'
    ),
    ('alert not above 800', 'alert below instead of above'): (
        "$.definition.query: the challenge's monitor alerts above 800. Hint: end the query with '> 800'."
    ),
    ('window not 5 minutes', 'maximum instead of average', 'another metric'): (
        "$.definition.query: the challenge's monitor watches the average of my_metric over the past 5 "
        "minutes. Hint: write 'avg(last_5m):avg:my_metric{*} by {host} > 800'."
    ),
    ('not a metric monitor',): (
        '$.definition.type: the challenge asks for a metric monitor. Hint: set "type": "query alert".'
    ),
    ('no-data notification off', 'no-data notification missing'): (
        '$.definition.options.notify_no_data: the challenge asks to be notified when there is no data. Hint: '
        'set "notify_no_data": true.'
    ),
    ('no-data window not 10 minutes',): (
        '$.definition.options.no_data_timeframe: the challenge asks for no data over the past 10 minutes, not'
        ' 20. Hint: set "no_data_timeframe": 10.'
    ),
    ('my_metric not scoped over the host',): (
        "$.widgets: no widget shows my_metric scoped over the host (the challenge's first timeboard graph). "
        'Hint: add a timeseries of avg:my_metric{$host,$env} by {host}.'
    ),
    ('anomalies on a non-MySQL metric', 'MySQL metric without anomalies'): (
        "$.widgets: no widget applies the anomalies function to a MySQL metric (the challenge's second "
        "graph). Hint: add a timeseries of anomalies(avg:mysql.performance.queries{$host,$env}, 'basic', 2)."
    ),
    ('rollup average instead of sum', 'rollup over ten minutes', 'no rollup'): (
        "$.widgets: no widget sums my_metric over the past hour into one bucket (the challenge's third "
        'graph). Hint: add a timeseries of sum:my_metric{$host,$env} by {host}.rollup(sum, 3600).'
    ),
}


@pytest.mark.parametrize("names, text", PRINTED.items())
def test_each_broken_requirement_prints_its_path_and_fix(assets, allowed, names, text):
    for name in names:
        broken = copy.deepcopy(assets)
        change = (MONITOR_BREAKS.get(name) or DASHBOARD_BREAKS[name])[0]
        change(broken)
        if name in MONITOR_BREAKS:
            printed = [str(f) for f in check_monitor(broken.monitor, allowed)]
            assert f"assets/monitors/my_metric_high.json: {text}" in printed, (name, printed)
        else:
            printed = [str(f) for f in check_dashboard(broken.dashboard, allowed)]
            assert f"assets/dashboards/my_metric_overview.json: {text}" in printed, (name, printed)


def test_every_broken_requirement_has_its_printed_text():
    assert sorted(name for names in PRINTED for name in names) == sorted([*MONITOR_BREAKS, *DASHBOARD_BREAKS])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d.update(type="metric alert"), id="a metric alert, the query alert's other name"),
        pytest.param(lambda d: d.update(query="  " + d["query"]), id="spaces before the query"),
    ],
)
def test_equivalent_spellings_of_the_challenge_monitor_meet_it(assets, change):
    change(definition(assets))
    assert check_challenge_monitor(definition(assets)) == []


def test_blocks_of_one_state_are_read_as_one_text(assets):
    definition(assets)["message"] = (
        "{{#is_alert}}high {{value}}{{/is_alert}}{{#is_alert}}on {{host.ip}}{{/is_alert}}"
        "{{#is_warning}}high {{value}}\non {{host.ip}}{{/is_warning}}{{#is_no_data}}silent{{/is_no_data}}"
    )
    assert [f.message for f in check_challenge_monitor(definition(assets))] == [
        "the alert text is the same as another state's text."
    ]


def requests(assets, group):
    return assets.dashboard["widgets"][group]["definition"]["widgets"][0]["definition"]["requests"]


def first_graph_breaks(assets):
    return [f.message for f in check_dashboard(assets.dashboard, allowed_metrics(assets)) if "host" in f.message]


def allowed_metrics(assets):
    return integration_metrics(assets.integration_dir) | set(known_metrics())


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param({"q": "avg:my_metric{$host,$env} by {host}", "display_type": "line"}, id="a legacy q request"),
        pytest.param(
            {
                "response_format": "timeseries",
                "queries": [{"data_source": "metrics", "name": "query1", "query": "avg:my_metric{$host} by {host}"}],
            },
            id="queries without formulas",
        ),
    ],
)
def test_the_host_graph_may_be_written_in_any_request_form(assets, request_):
    requests(assets, 1)[:] = [request_]
    assert first_graph_breaks(assets) == []


def test_a_host_graph_drawn_only_through_an_hourly_rollup_is_not_the_first_graph(assets):
    request = requests(assets, 1)[0]
    request["formulas"] = [{"formula": "query1.rollup(sum, 3600)"}]
    assert first_graph_breaks(assets) == [
        "no widget shows my_metric scoped over the host (the challenge's first timeboard graph)."
    ]


def test_a_query_that_is_not_an_object_is_a_finding_not_a_crash(assets):
    requests(assets, 1)[0]["queries"].append("avg:my_metric{*}")
    assert "$.widgets[1].definition.widgets[0].definition.requests[0].queries[1]" in [
        f.path for f in check_dashboard(assets.dashboard, allowed_metrics(assets))
    ]


def test_timeboard_findings_name_the_file_they_were_given(assets):
    assets.dashboard["widgets"].pop(1)
    found = check_dashboard(assets.dashboard, allowed_metrics(assets), source="dashboards/copy.json")
    assert found and {f.source for f in found} == {"dashboards/copy.json"}
