"""The committed monitor and timeboard are what the hiring challenge asks for, with its exact numbers; `validate`
holds only the rules every my_metric setup keeps, so a user's own thresholds validate."""

import re
from zoneinfo import ZoneInfo

import pytest
from my_metric_provisioning.assets import MONITOR_FILE, integration_metrics, known_metrics
from my_metric_provisioning.provision import Settings, monitor_payload
from my_metric_provisioning.rules import check_monitor, check_monitor_notifies, validate_all

from .common import cli, integration_copy


def block(message, state):
    return "\n".join(re.findall(r"\{\{#" + state + r"\}\}(.*?)\{\{/" + state + r"\}\}", message, re.S)).strip()


def drawn(node) -> list[str]:
    """What each request of the dashboard draws: its formulas with query names replaced by the queries."""
    found = []
    if isinstance(node, dict):
        queries = {q["name"]: q["query"] for q in node.get("queries") or []}
        formulas = [f["formula"] for f in node.get("formulas") or []]
        for formula in formulas or list(queries):
            found.append(re.sub(r"\bquery\d+\b", lambda m: queries.get(m.group(0), m.group(0)), formula))
        for value in node.values():
            found += drawn(value)
    elif isinstance(node, list):
        for item in node:
            found += drawn(item)
    return found


def test_the_committed_monitor_has_the_challenges_numbers(real_assets):
    definition = real_assets.monitor["definition"]
    assert definition["type"] == "query alert"
    assert definition["query"] == "avg(last_5m):avg:my_metric{*} by {host} > 800"
    options = definition["options"]
    assert options["thresholds"] == {"critical": 800, "warning": 500}
    assert (options["notify_no_data"], options["no_data_timeframe"]) == (True, 10)
    texts = [block(definition["message"], state) for state in ("is_alert", "is_warning", "is_no_data")]
    assert all(texts) and len(set(texts)) == 3  # a different message for alert, warning and no data
    assert "{{value}}" in texts[0] and "{{host.ip}}" in texts[0]


def test_the_committed_timeboard_draws_the_challenges_three_graphs(real_assets):
    texts = drawn(real_assets.dashboard)
    assert any(re.search(r"\bmy_metric\{[^}]*\$host", t) and "rollup" not in t for t in texts)  # over the host
    assert any(re.search(r"anomalies\(\s*\w+:mysql\.[\w.]+\{", t) for t in texts)  # anomalies on a MySQL metric
    assert any(re.search(r"my_metric\{[^}]*\}.*\.rollup\(sum, 3600\)", t) for t in texts)  # the past hour summed


@pytest.fixture
def allowed(real_assets):
    return integration_metrics(real_assets.integration_dir) | set(known_metrics())


def own_thresholds(assets, warning, critical):
    definition = assets.monitor["definition"]
    definition["query"] = definition["query"].replace("> 800", f"> {critical}")
    definition["options"]["thresholds"] = {"critical": critical, "warning": warning}


def test_a_users_own_thresholds_validate(assets):
    own_thresholds(assets, 600, 900)
    assert [str(f) for f in validate_all(assets, ZoneInfo("Europe/Paris"), 2026)] == []


def test_the_command_validates_and_plans_own_thresholds(tmp_path):
    copy = integration_copy(tmp_path)
    path = copy / MONITOR_FILE
    path.write_text(path.read_text().replace("> 800", "> 900").replace('"critical": 800', '"critical": 900'))
    path.write_text(path.read_text().replace('"warning": 500', '"warning": 600'))
    code, out = cli("--assets-dir", str(copy), "validate", "--year", "2026")
    assert code == 0, out
    code, out = cli("--assets-dir", str(copy), "apply", "--dry-run")
    assert code == 0 and '"critical": 900' in out


def monitor(assets):
    return assets.monitor["definition"]


GENERAL_RULES = {
    "warning not below critical": (lambda a: own_thresholds(a, 900, 800), "$.definition.options.thresholds.warning"),
    "not grouped by host": (
        lambda a: monitor(a).update(query=monitor(a)["query"].replace(" by {host}", "")),
        "$.definition.query",
    ),
    "host not named": (
        lambda a: monitor(a).update(message=monitor(a)["message"].replace("{{host.name}}", "a host")),
        "$.definition.message",
    ),
    "host IP not named": (
        lambda a: monitor(a).update(message=monitor(a)["message"].replace("{{host.ip}}", "its address")),
        "$.definition.message",
    ),
    "no-data notification off": (
        lambda a: monitor(a)["options"].update(notify_no_data=False),
        "$.definition.options.notify_no_data",
    ),
    "no-data notification unset": (
        lambda a: monitor(a)["options"].pop("notify_no_data"),
        "$.definition.options.notify_no_data",
    ),
    "a field the model does not have": (lambda a: monitor(a)["options"].update(thresold=1), "$.definition.options"),
}


@pytest.mark.parametrize("name", GENERAL_RULES)
def test_breaking_a_general_rule_is_a_finding_at_its_path_with_a_hint(assets, allowed, name):
    change, path = GENERAL_RULES[name]
    assert check_monitor(assets.monitor, allowed) == []
    change(assets)
    found = check_monitor(assets.monitor, allowed)
    assert found and all(f.path.startswith(path) and f.hint for f in found), [str(f) for f in found]


def test_the_sent_monitor_notifies_the_handle(real_assets):
    payload = monitor_payload(real_assets, Settings(notify="@ops@example.com", timezone=ZoneInfo("UTC")))
    assert check_monitor_notifies(payload, "@ops@example.com") == []
    payload["message"] = payload["message"].replace("@ops@example.com", "")
    [finding] = check_monitor_notifies(payload, "@ops@example.com")
    assert finding.path == "$.definition.message" and "@ops@example.com" in finding.message
