import copy
from zoneinfo import ZoneInfo

import pytest
from my_metric_provisioning import rules
from my_metric_provisioning.assets import integration_metrics, known_metrics
from my_metric_provisioning.rules import (
    check_anomalies,
    check_dashboard,
    check_downtime_coverage,
    check_manifest,
    check_monitor,
    validate_all,
)

from .common import payloads_in, set_rules


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
    assert "$.definition.query: the query is not grouped by host" in text


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


def test_monitor_content_is_the_committed_one(real_assets):
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
    assert "remove monitor_identifier from the file" in messages(rules.check_downtime(payload, "weekend.json"))


def test_downtime_bad_duration(assets):
    payload = copy.deepcopy(assets.downtimes["weekend"])
    payload["data"]["attributes"]["schedule"]["recurrences"][0]["duration"] = "49 hours"
    text = messages(rules.check_downtime(payload, "weekend.json"))
    assert "duration '49 hours' is not like '14h'" in text


def monitor_definition(assets):
    return assets.monitor["definition"]


def set_query_and_warning(query, warning):
    def change(assets):
        monitor_definition(assets)["query"] = query
        monitor_definition(assets)["options"]["thresholds"]["warning"] = warning

    return change


def append_to_message(text):
    def change(assets):
        monitor_definition(assets)["message"] += text

    return change


def named_at(findings, source, paths):
    """Each path holds a finding of `source` that says how to fix it (the wording is the module's business)."""
    for path in paths:
        found = [f for f in findings if f.path == path]
        assert found and all(f.source == source and f.hint for f in found), [str(f) for f in findings]


# Each row: a change to the real monitor, then the JSON paths `validate` names.
MONITOR_FINDINGS = {
    "missing recommended key": (lambda assets: assets.monitor.pop("description"), "$.description"),
    "misspelled recommended key": (
        lambda assets: assets.monitor.update(tag=assets.monitor.pop("tags")),
        "$.tags",
        "$.tag",
    ),
    "unknown recommended key": (lambda assets: assets.monitor.update(owner="me"), "$.owner"),
    "version 1": (lambda assets: assets.monitor.update(version=1), "$.version"),
    "no integration tag": (lambda assets: assets.monitor.update(tags=[]), "$.tags"),
    "no definition": (lambda assets: assets.monitor.pop("definition"), "$.definition"),
    "definition without integration tag": (
        lambda assets: monitor_definition(assets).update(tags=[]),
        "$.definition.tags",
    ),
    "unreadable query": (
        lambda assets: monitor_definition(assets).update(query="my_metric over 800"),
        "$.definition.query",
    ),
    "no critical threshold": (
        lambda assets: monitor_definition(assets)["options"]["thresholds"].pop("critical"),
        "$.definition.options.thresholds.critical",
    ),
    "critical differs from the query": (
        lambda assets: monitor_definition(assets)["options"]["thresholds"].update(critical=700),
        "$.definition.options.thresholds.critical",
    ),
    "warning equal to critical, >=": (
        set_query_and_warning("avg(last_5m):avg:my_metric{*} by {host} >= 800", 800),
        "$.definition.options.thresholds.warning",
    ),
    "warning equal to critical, <=": (
        set_query_and_warning("avg(last_5m):avg:my_metric{*} by {host} <= 800", 800),
        "$.definition.options.thresholds.warning",
    ),
    "no-data window under twice the evaluation window": (
        lambda assets: monitor_definition(assets)["options"].update(no_data_timeframe=9),
        "$.definition.options.no_data_timeframe",
    ),
    "block closed but never opened": (append_to_message("{{/is_alert}}"), "$.definition.message"),
    "crossed blocks": (
        append_to_message("{{#is_alert}}{{#is_warning}}x{{/is_alert}}{{/is_warning}}"),
        "$.definition.message",
    ),
    "block never closed": (
        lambda assets: monitor_definition(assets).update(
            message=monitor_definition(assets)["message"].replace("{{/is_warning}}", "")
        ),
        "$.definition.message",
    ),
    "unknown metric in the query": (
        lambda assets: monitor_definition(assets).update(query="avg(last_5m):avg:zzz.qqq{*} by {host} > 800"),
        "$.definition.query",
    ),
    "hard-coded handle": (append_to_message(" @slack-ops"), "$.definition.message"),
    "not grouped by host": (
        lambda assets: monitor_definition(assets).update(query="avg(last_5m):avg:my_metric{*} > 800"),
        "$.definition.query",
    ),
}


@pytest.mark.parametrize("name", MONITOR_FINDINGS)
def test_monitor_finding_names_the_path_and_the_fix(assets, allowed, name):
    change, *paths = MONITOR_FINDINGS[name]
    assert check_monitor(assets.monitor, allowed) == []
    change(assets)
    named_at(check_monitor(assets.monitor, allowed), "assets/monitors/my_metric_high.json", paths)


def mysql_request(assets):
    return widget(assets.dashboard, 2, 0)["requests"][0]


MYSQL_QUERY = "$.widgets[2].definition.widgets[0].definition.requests[0].queries[0].query"
DASHBOARD_FINDINGS = {
    "free layout": (lambda assets: assets.dashboard.update(layout_type="free"), "$.layout_type"),
    "template variable missing": (
        lambda assets: assets.dashboard.update(
            template_variables=[v for v in assets.dashboard["template_variables"] if v["name"] != "env"]
        ),
        "$.template_variables",
        MYSQL_QUERY,
    ),
    "unknown metric, nothing close": (
        lambda assets: mysql_request(assets)["queries"][0].update(query="avg:zzz.qqq{$host}"),
        MYSQL_QUERY,
    ),
    "anomalies without bounds": (
        lambda assets: mysql_request(assets)["formulas"][0].update(formula="anomalies(query1, 'basic')"),
        "$.widgets[2].definition.widgets[0].definition.requests[0].formulas[0].formula",
    ),
}


@pytest.mark.parametrize("name", DASHBOARD_FINDINGS)
def test_dashboard_finding_names_the_path_and_the_fix(assets, allowed, name):
    change, *paths = DASHBOARD_FINDINGS[name]
    change(assets)
    named_at(check_dashboard(assets.dashboard, allowed), "assets/dashboards/my_metric_overview.json", paths)


def downtime_attributes(payload):
    return payload["data"]["attributes"]


RECURRENCES = "$.data.attributes.schedule.recurrences"
DOWNTIME_FINDINGS = {
    "linked to a monitor": (
        lambda payload: downtime_attributes(payload).update(monitor_identifier={"monitor_id": 42}),
        "$.data.attributes.monitor_identifier",
    ),
    "one-time schedule": (
        lambda payload: downtime_attributes(payload).update(
            schedule={"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-02T00:00:00+00:00"}
        ),
        "$.data.attributes.schedule",
    ),
    "DTSTART in the rule": (
        lambda payload: downtime_attributes(payload)["schedule"]["recurrences"][1].update(
            rrule="DTSTART:20250113T050000\nRRULE:FREQ=WEEKLY;BYDAY=MO"
        ),
        f"{RECURRENCES}[1].rrule",
    ),
    "start without a date": (
        lambda payload: downtime_attributes(payload)["schedule"]["recurrences"][0].update(start="05:00"),
        f"{RECURRENCES}[0]",
    ),
    "no timezone": (
        lambda payload: downtime_attributes(payload)["schedule"].update(timezone=""),
        "$.data.attributes.schedule.timezone",
    ),
}


@pytest.mark.parametrize("name", DOWNTIME_FINDINGS)
def test_downtime_finding_names_the_path_and_the_fix(assets, name):
    change, path = DOWNTIME_FINDINGS[name]
    payload = assets.downtimes["weekend"]
    change(payload)
    found = rules.check_downtime(payload, "downtimes/weekend.json")
    assert len(found) == 1
    named_at(found, "downtimes/weekend.json", [path])


def test_manifest_findings_name_the_fix(assets):
    assets.manifest["assets"]["dashboards"] = {"gone": "assets/dashboards/gone.json"}
    assert [str(f) for f in check_manifest(assets)] == [
        "manifest.json: $.assets.dashboards: lists assets/dashboards/gone.json, which does not exist. "
        "Hint: fix the path or remove the entry.",
        "manifest.json: $.assets.dashboards: assets/dashboards/my_metric_overview.json exists but is not listed. "
        "Hint: add it under assets.dashboards with a short name.",
    ]


def test_a_third_downtime_file_is_a_finding(assets):
    assets.downtimes["extra"] = copy.deepcopy(assets.downtimes["weekend"])
    assert [str(f) for f in validate_all(assets, year=2026)] == [
        "downtimes: $: expected 2 downtime files, found 3. "
        "Hint: keep weeknights.json and weekend.json in my_metric_provisioning/data/downtimes/."
    ]


def test_legacy_q_requests_are_checked_like_queries(assets, allowed):
    widget(assets.dashboard, 1, 0)["requests"] = [{"q": "avg:zzz.qqq{$region}", "display_type": "line"}]
    assert [str(f) for f in check_dashboard(assets.dashboard, allowed) if "zzz" in str(f) or "$region" in str(f)] == [
        "assets/dashboards/my_metric_overview.json: $.widgets[1].definition.widgets[0].definition.requests[0].q: "
        "metric 'zzz.qqq' is not known. Hint: add it to my_metric/metadata.csv if this integration submits it, "
        "or to provisioning/my_metric_provisioning/data/known_metrics.csv with its source.",
        "assets/dashboards/my_metric_overview.json: $.widgets[1].definition.widgets[0].definition.requests[0].q: "
        "$region is not a template variable of this dashboard. Hint: define it in template_variables.",
    ]


def test_text_outside_queries_and_formulas_is_not_read_as_a_query(assets, allowed):
    widget(assets.dashboard, 1, 0)["title"] = "latency{p99} by $region"
    widget(assets.dashboard, 0, 0)["content"] = "anomalies(x) of costs{usd} in $currency"
    assert check_dashboard(assets.dashboard, allowed) == []


def test_anomalies_in_the_monitor_query_are_checked(assets, allowed):
    monitor_definition(assets)["query"] = "avg(last_5m):anomalies(avg:my_metric{*} by {host}, 'basic') > 800"
    assert (
        "assets/monitors/my_metric_high.json: $.definition.query: anomalies() needs a query, an algorithm and "
        "bounds. Hint: write anomalies(<query>, 'basic', 2)."
    ) in [str(f) for f in check_monitor(assets.monitor, allowed)]


def test_a_monitor_without_a_query_is_named_as_unreadable(assets, allowed):
    monitor_definition(assets).pop("query")
    assert (
        "$.definition.query: cannot read the evaluation window and threshold of ''. "
        "Hint: write it like avg(last_5m):avg:my_metric{*} by {host} > 800."
    ) in [f"{f.path}: {f.message} Hint: {f.hint}" for f in check_monitor(assets.monitor, allowed)]


def test_every_monitor_finding_names_the_file_it_was_given(assets, allowed):
    monitor_definition(assets)["overall_state"] = "OK"  # the client's model
    monitor_definition(assets)["options"]["thresholds"]["warning"] = 900  # above critical
    monitor_definition(assets)["query"] += " "  # still readable
    found = check_monitor(assets.monitor, allowed, source="monitors/copy.json")
    assert {f.path for f in found} == {"$.definition.overall_state", "$.definition.options.thresholds.warning"}
    assert {f.source for f in found} == {"monitors/copy.json"}


def test_a_manifest_without_assets_lists_every_file_as_unlisted(assets):
    assets.manifest.pop("assets")
    assert [f.message for f in check_manifest(assets)] == [
        "assets/dashboards/my_metric_overview.json exists but is not listed.",
        "assets/monitors/my_metric_high.json exists but is not listed.",
    ]


@pytest.mark.parametrize(
    "data, path",
    [
        ([], "$.data"),
        ({"type": "downtime"}, "$.data.attributes"),
        ({"type": "downtime", "attributes": []}, "$.data.attributes"),
    ],
)
def test_a_downtime_of_the_wrong_shape_is_a_finding_at_its_place(data, path):
    found = rules.check_downtime({"data": data}, "downtimes/weekend.json")
    assert path in [f.path for f in found] and {f.source for f in found} == {"downtimes/weekend.json"}


def test_a_downtime_without_a_schedule_is_not_recurring(assets):
    payload = assets.downtimes["weekend"]
    downtime_attributes(payload).pop("schedule")
    assert [str(f) for f in rules.check_downtime(payload, "downtimes/weekend.json")] == [
        "downtimes/weekend.json: $.data.attributes.schedule: the schedule is not recurring. "
        "Hint: use schedule.recurrences with rrule, start and duration."
    ]


def test_checking_a_downtime_leaves_its_payload_as_it_was(assets):
    before = copy.deepcopy(assets.downtimes["weekend"])
    assert rules.check_downtime(assets.downtimes["weekend"], "downtimes/weekend.json") == []
    assert assets.downtimes["weekend"] == before


def test_validate_all_reports_the_findings_of_every_file(assets):
    assets.manifest["assets"]["monitors"] = {}
    assets.dashboard["layout_type"] = "free"
    assets.monitor["version"] = 1
    downtime_attributes(assets.downtimes["weekend"])["schedule"]["timezone"] = ""
    assets.downtimes["extra"] = copy.deepcopy(assets.downtimes["weeknights"])
    assert [(f.source, f.path) for f in validate_all(assets, year=2026)] == [
        ("manifest.json", "$.assets.monitors"),
        ("assets/dashboards/my_metric_overview.json", "$.layout_type"),
        ("assets/monitors/my_metric_high.json", "$.version"),
        ("downtimes/weekend.json", "$.data.attributes.schedule.timezone"),
        ("downtimes", "$"),
    ]


def test_coverage_is_judged_only_when_every_downtime_file_is_sound(assets):
    # A gap in the weeknights (muted from 20:00, not 19:00) is a coverage finding...
    for recurrence in downtime_attributes(assets.downtimes["weeknights"])["schedule"]["recurrences"]:
        recurrence["start"] = recurrence["start"].replace("T19:00", "T20:00")
    assert {f.source for f in validate_all(assets, year=2026)} == {"downtimes (weekend.json, weeknights.json)"}
    # ...that is not reported while the other file cannot be read: the two only make sense together.
    downtime_attributes(assets.downtimes["weekend"])["schedule"]["recurrences"][0]["duration"] = "49 hours"
    assert {f.source for f in validate_all(assets, year=2026)} == {"downtimes/weekend.json"}


def test_coverage_is_judged_in_the_zone_given_instead_of_the_files_zone(assets):
    # the weekend ends Monday 05:00 instead of 09:00: a gap in whatever zone the week is read
    assets.downtimes["weekend"] = set_rules(
        assets.downtimes["weekend"],
        [{"rrule": "FREQ=WEEKLY;BYDAY=SA", "start": "2025-01-11T05:00:00", "duration": "48h"}],
    )
    wall_clock = " (duration read as wall-clock time)."
    in_file_zone = [f.message for f in validate_all(assets, year=2026)]
    in_utc = [f.message for f in validate_all(assets, ZoneInfo("UTC"), 2026)]
    assert in_file_zone[0] == "not muted: Mon 2026-01-05 05:00 to Mon 2026-01-05 09:00 America/New_York" + wall_clock
    assert in_utc[0] == "not muted: Mon 2026-01-05 05:00 to Mon 2026-01-05 09:00 UTC" + wall_clock
    assert not any("America/New_York" in message for message in in_utc)


def test_a_misspelt_template_variable_is_named_with_the_right_one(assets, allowed):
    widget(assets.dashboard, 1, 0)["requests"][0]["queries"][0]["query"] = "avg:my_metric{$hots} by {host}"
    assert [f"{f.message} Hint: {f.hint}" for f in check_dashboard(assets.dashboard, allowed)] == [
        "$hots is not a template variable of this dashboard. Hint: did you mean 'host'?"
    ]


def test_start_in_a_clock_change_is_a_validation_finding(real_assets):
    weeknights, weekend = payloads_in(real_assets, "America/New_York")
    skipped = {"rrule": "FREQ=WEEKLY;BYDAY=SU", "start": "2025-01-12T02:30:00", "duration": "1h"}
    odd = set_rules(weekend, weekend["data"]["attributes"]["schedule"]["recurrences"] + [skipped])
    findings = check_downtime_coverage({"weeknights": weeknights, "weekend": odd}, ZoneInfo("America/New_York"), 2026)
    assert [str(f) for f in findings] == [
        "downtimes (weeknights.json, weekend.json): $.data.attributes.schedule.recurrences: start Sun 2026-03-08 "
        "02:30 of rule 'FREQ=WEEKLY;BYDAY=SU' falls in a clock change in America/New_York. "
        "Hint: start occurrences at a time that exists every day, e.g. 19:00 or 05:00."
    ]


def test_coverage_finding_says_what_the_downtimes_must_mute(real_assets):
    weeknights, weekend = payloads_in(real_assets, "UTC")
    short = set_rules(weekend, [{"rrule": "FREQ=WEEKLY;BYDAY=SA", "start": "2025-01-11T05:00:00", "duration": "48h"}])
    findings = check_downtime_coverage({"weeknights": weeknights, "weekend": short}, ZoneInfo("UTC"), 2026)
    assert str(findings[0]) == (
        "downtimes (weeknights.json, weekend.json): $.data.attributes.schedule.recurrences: not muted: "
        "Mon 2026-01-05 05:00 to Mon 2026-01-05 09:00 UTC (duration read as wall-clock time). Hint: together the "
        "downtimes must mute all of 19:00-09:00 on weeknights and all weekend until Monday 09:00, and nothing of "
        "Monday-Friday 09:00-19:00."
    )


@pytest.mark.parametrize(
    "text",
    [
        "anomalies(sum(avg:mysql.performance.queries{*}), 'basic', 2)",
        "anomalies(avg:mysql.performance.queries{*}.rollup(avg, 60), 'agile', 3)",
    ],
)
def test_anomalies_arguments_are_split_only_at_the_top_level(text):
    assert check_anomalies(text, "$.q", "d.json") == []


def test_every_anomalies_call_of_a_text_is_checked():
    text = "anomalies(avg:my_metric{*}, 'basic') + anomalies(avg:my_metric{*}, \"robust\", 2)"
    assert [f"{f.path}: {f.message} Hint: {f.hint}" for f in check_anomalies(text, "$.q", "d.json")] == [
        "$.q: anomalies() needs a query, an algorithm and bounds. Hint: write anomalies(<query>, 'basic', 2).",
        "$.q: anomalies() algorithm \"robust\" must be a quoted 'basic', 'agile' or 'robust'. "
        "Hint: write anomalies(avg:my_metric{*}, 'robust', 2).",
    ]


def test_an_unclosed_anomalies_call_is_read_to_the_end_of_the_text():
    assert [f.message for f in check_anomalies("anomalies(avg:my_metric{*}, 'basic'", "$.q", "d.json")] == [
        "anomalies() needs a query, an algorithm and bounds."
    ]


def test_by_without_a_space_is_not_a_metric(assets):
    monitor_definition(assets)["query"] = "avg(last_5m):avg:my_metric{*} by{host} > 800"
    assert rules.metric_names(monitor_definition(assets)["query"]) == ["my_metric"]
