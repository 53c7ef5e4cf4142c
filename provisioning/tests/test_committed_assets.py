"""The committed monitor and timeboard are what the hiring challenge asks for, with its exact numbers; `validate`
holds only the rules every my_metric setup keeps, so a user's own thresholds validate."""

import json
import re
from zoneinfo import ZoneInfo

from my_metric_provisioning.assets import MONITOR_FILE
from my_metric_provisioning.provision import Settings, monitor_payload

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
    assert "@" not in definition["message"]  # whom to notify is --notify's business


def test_the_committed_monitor_is_a_recommended_monitor_of_the_integration(real_assets):
    monitor = real_assets.monitor
    assert set(monitor) == {"version", "created_at", "last_updated_at", "title", "description", "definition", "tags"}
    assert monitor["version"] == 2 and "integration:my_metric" in monitor["tags"]
    assert "integration:my_metric" in monitor["definition"]["tags"]
    manifest = json.loads((real_assets.integration_dir / "manifest.json").read_text())
    assert set(manifest["assets"]["monitors"].values()) == {MONITOR_FILE}


def test_the_committed_timeboard_draws_the_challenges_three_graphs(real_assets):
    dashboard = real_assets.dashboard
    assert dashboard["layout_type"] == "ordered"  # a timeboard
    assert {v["name"] for v in dashboard["template_variables"]} == {"host", "env"}
    texts = drawn(dashboard)
    assert any(re.search(r"\bmy_metric\{[^}]*\$host", t) and "rollup" not in t for t in texts)  # over the host
    assert any(re.search(r"anomalies\(\s*avg:mysql\.performance\.queries\{[^}]*\}, 'basic', 2\)", t) for t in texts)
    assert any(re.search(r"my_metric\{[^}]*\}.*\.rollup\(sum, 3600\)", t) for t in texts)  # the past hour summed


def test_the_bundled_downtimes_recur_in_a_named_zone_on_no_monitor_of_their_own(real_assets):
    assert set(real_assets.downtimes) == {"weeknights", "weekend"}
    for payload in real_assets.downtimes.values():
        attributes = payload["data"]["attributes"]
        assert "monitor_identifier" not in attributes  # apply links the monitor it made
        assert attributes["schedule"]["timezone"] and attributes["schedule"]["recurrences"]
        assert not any("DTSTART" in r["rrule"] for r in attributes["schedule"]["recurrences"])


def test_the_command_validates_and_plans_own_thresholds(tmp_path):
    copy = integration_copy(tmp_path)
    path = copy / MONITOR_FILE
    text = path.read_text().replace("> 800", "> 900").replace('"critical": 800', '"critical": 900')
    path.write_text(text.replace('"warning": 500', '"warning": 600'))
    code, out = cli("--assets-dir", str(copy), "validate", "--year", "2026")
    assert code == 0, out
    code, out = cli("--assets-dir", str(copy), "apply", "--dry-run")
    assert code == 0 and '"critical": 900' in out


def test_the_sent_monitor_notifies_the_handle(real_assets):
    payload = monitor_payload(real_assets, Settings(notify="@ops@example.com", timezone=ZoneInfo("UTC")))
    assert (
        "@ops@example.com" in payload["message"]
        and "@ops@example.com" not in real_assets.monitor["definition"]["message"]
    )
