import copy

import pytest
from my_metric_provisioning import rules
from my_metric_provisioning.assets import integration_metrics, known_metrics
from my_metric_provisioning.rules import check_anomalies, check_dashboard, check_manifest, check_monitor, validate_all


@pytest.fixture
def allowed(real_assets):
    return integration_metrics(real_assets.integration_dir) | set(known_metrics())


def messages(findings):
    return "\n".join(str(f) for f in findings)


def widget(dashboard, group, index):
    return dashboard["widgets"][group]["definition"]["widgets"][index]["definition"]


def test_repository_assets_are_valid(real_assets):
    assert validate_all(real_assets) == []


def test_known_metrics_note_their_source():
    assert all(source.strip() for source in known_metrics().values())


def test_mysql_widget_uses_a_server_side_metric(real_assets):
    query = widget(real_assets.dashboard, 2, 0)["requests"][0]["queries"][0]["query"]
    assert query.startswith("avg:mysql.performance.queries{")
    assert "user_time" not in query and "kernel_time" not in query


def test_widget_type_typo(assets, allowed):
    widget(assets.dashboard, 1, 0)["type"] = "timeserie"
    text = messages(check_dashboard(assets.dashboard, allowed))
    assert "$.widgets[1].definition.widgets[0].definition.type: unknown WidgetDefinition type 'timeserie'" in text
    assert "did you mean 'timeseries'" in text


def test_display_type_typo(assets, allowed):
    widget(assets.dashboard, 1, 0)["requests"][0]["display_type"] = "linez"
    text = messages(check_dashboard(assets.dashboard, allowed))
    assert "requests[0].display_type: 'linez' is not a valid WidgetDisplayType. Hint: did you mean 'line'?" in text


def test_unknown_key(assets, allowed):
    widget(assets.dashboard, 0, 0)["colour"] = "blue"
    text = messages(check_dashboard(assets.dashboard, allowed))
    assert "unknown key 'colour' in NoteWidgetDefinition" in text


def test_read_only_field(assets, allowed):
    assets.dashboard["author_handle"] = "someone@example.com"
    assert "'author_handle' is read-only in Dashboard" in messages(check_dashboard(assets.dashboard, allowed))
    assets.monitor["definition"]["overall_state"] = "OK"
    assert "$.definition.overall_state: 'overall_state' is read-only in Monitor" in messages(
        check_monitor(assets.monitor, allowed)
    )


def test_unquoted_anomalies_algorithm(assets, allowed):
    request = widget(assets.dashboard, 2, 0)["requests"][0]
    request["formulas"][0]["formula"] = "anomalies(query1, basic, 2)"
    text = messages(check_dashboard(assets.dashboard, allowed))
    assert "anomalies() algorithm basic must be a quoted 'basic', 'agile' or 'robust'" in text
    assert "write anomalies(query1, 'basic', 2)" in text
    assert check_anomalies("anomalies(avg:mysql.performance.queries{*}, 'basic', 2)", "$", "x") == []


def test_unknown_metric(assets, allowed):
    widget(assets.dashboard, 2, 0)["requests"][0]["queries"][0]["query"] = "avg:mysql.performance.querys{$host}"
    text = messages(check_dashboard(assets.dashboard, allowed))
    assert "metric 'mysql.performance.querys' is not known. Hint: did you mean 'mysql.performance.queries'" in text


def test_undefined_template_variable(assets, allowed):
    widget(assets.dashboard, 1, 0)["requests"][0]["queries"][0]["query"] = "avg:my_metric{$hostname}"
    assert "$hostname is not a template variable" in messages(check_dashboard(assets.dashboard, allowed))


def test_missing_env_template_variable(assets, allowed):
    assets.dashboard["template_variables"] = [v for v in assets.dashboard["template_variables"] if v["name"] != "env"]
    assert "template variable 'env' is missing" in messages(check_dashboard(assets.dashboard, allowed))


def test_host_ip_without_grouping(assets, allowed):
    assets.monitor["definition"]["query"] = "avg(last_5m):avg:my_metric{*} > 800"
    text = messages(check_monitor(assets.monitor, allowed))
    assert "uses {{host.*}} but the query is not grouped by host" in text


def test_warning_above_critical(assets, allowed):
    assets.monitor["definition"]["options"]["thresholds"] = {"critical": 800, "warning": 900}
    text = messages(check_monitor(assets.monitor, allowed))
    assert "warning 900 must be below critical 800 for a '>' query" in text


def test_warning_for_below_comparator(assets, allowed):
    definition = assets.monitor["definition"]
    definition["query"] = "avg(last_5m):avg:my_metric{*} by {host} < 100"
    definition["options"]["thresholds"] = {"critical": 100, "warning": 50}
    assert "warning 50 must be above critical 100 for a '<' query" in messages(check_monitor(assets.monitor, allowed))


def test_critical_differs_from_query(assets, allowed):
    assets.monitor["definition"]["options"]["thresholds"]["critical"] = 700
    assert "critical 700 differs from the query's threshold 800" in messages(check_monitor(assets.monitor, allowed))


def test_unclosed_block(assets, allowed):
    assets.monitor["definition"]["message"] = assets.monitor["definition"]["message"].replace("{{/is_warning}}", "")
    assert "{{#is_warning}} is never closed" in messages(check_monitor(assets.monitor, allowed))


def test_no_data_timeframe_too_short(assets, allowed):
    assets.monitor["definition"]["options"]["no_data_timeframe"] = 5
    assert "no_data_timeframe 5 is under twice the 5-minute evaluation window" in messages(
        check_monitor(assets.monitor, allowed)
    )


def test_hard_coded_handle(assets, allowed):
    assets.monitor["definition"]["message"] += "\n@bob@example.com"
    assert "hard-codes a notification handle" in messages(check_monitor(assets.monitor, allowed))


def test_monitor_content_matches_issue(real_assets):
    definition = real_assets.monitor["definition"]
    assert definition["query"] == "avg(last_5m):avg:my_metric{*} by {host} > 800"
    assert definition["options"]["thresholds"] == {"critical": 800, "warning": 500}
    assert definition["options"]["notify_no_data"] and definition["options"]["no_data_timeframe"] == 10
    for block in ("is_alert", "is_warning", "is_no_data", "is_recovery"):
        assert "{{#%s}}" % block in definition["message"]
    alert = definition["message"].split("{{#is_alert}}")[1].split("{{/is_alert}}")[0]
    assert "{{value}}" in alert and "{{host.ip}}" in alert


def test_manifest_lists_missing_and_unlisted_files(assets, tmp_path):
    assets.manifest["assets"]["monitors"] = {"gone": "assets/monitors/gone.json"}
    text = messages(check_manifest(assets))
    assert "lists assets/monitors/gone.json, which does not exist" in text
    assert "assets/monitors/my_metric_high.json exists but is not listed" in text


def test_downtime_file_must_not_link_a_monitor(assets):
    payload = copy.deepcopy(assets.downtimes["weekend"])
    payload["data"]["attributes"]["monitor_identifier"] = {"monitor_id": 42}
    assert "remove monitor_identifier from the file" in messages(
        rules.check_downtime("weekend", payload, "weekend.json")
    )


def test_downtime_bad_duration(assets):
    payload = copy.deepcopy(assets.downtimes["weekend"])
    payload["data"]["attributes"]["schedule"]["recurrences"][0]["duration"] = "49 hours"
    text = messages(rules.check_downtime("weekend", payload, "weekend.json"))
    assert "duration '49 hours' is not like '14h'" in text
