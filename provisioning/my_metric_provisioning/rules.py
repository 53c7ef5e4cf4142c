"""Offline validation: the client's models (strict.py) plus the rules every my_metric setup keeps.

The hiring challenge's own numbers (warning 500, critical 800, ...) are not rules here: a user's thresholds are
theirs. tests/test_committed_assets.py holds the committed JSON to the challenge.
"""

import copy
import re
from zoneinfo import ZoneInfo

from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest

from my_metric_provisioning.assets import DASHBOARD_FILE, MONITOR_FILE, Assets, integration_metrics, known_metrics
from my_metric_provisioning.downtimes import Recurrence, coverage_problems, start_time_problems
from my_metric_provisioning.findings import Findings, did_you_mean, json_path
from my_metric_provisioning.strict import check_payload

# `avg:metric{`, `p95:metric{`, `metric{`: a metric name directly followed by its scope.
_METRIC = re.compile(r"(?:\b(?:avg|sum|min|max|count|p\d{2,3}|pct\d+):)?\b([A-Za-z][\w.]*)\{")
_MONITOR_QUERY = re.compile(r"^\s*\w+\(last_(\d+)([mhdw])\):.*?\s*(>=|<=|>|<)\s*(-?[\d.]+)\s*$")
_TEMPLATE_VAR = re.compile(r"\$([A-Za-z_]\w*)")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}
OPTIONS = "$.definition.options"


def _queries(node, path):
    """(JSON path, text) of every metric query and formula in a dashboard."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if key in ("query", "q", "formula") and isinstance(value, str):
            yield path + [key], value
        else:
            yield from _queries(value, path + [key])


def check_metrics(query: str, where, allowed: set[str], found: Findings) -> None:
    for name in (match.group(1) for match in _METRIC.finditer(query)):
        if name not in allowed and name != "by":  # `by{host}` groups, it is no metric
            hint = did_you_mean(name, allowed) or "add it to metadata.csv, or to data/known_metrics.csv if not ours."
            found.add(where, f"metric {name!r} is not known.", hint)


def check_dashboard(dashboard: dict, allowed: set[str], source: str = DASHBOARD_FILE) -> Findings:
    found = check_payload(dashboard, Dashboard, source)
    variables = {v.get("name") for v in dashboard.get("template_variables") or [] if isinstance(v, dict)}
    for path, text in _queries(dashboard.get("widgets") or [], ["widgets"]):
        check_metrics(text, path, allowed, found)  # a formula names queries: no metric, no variable
        for variable in _TEMPLATE_VAR.findall(text):
            if variable not in variables:
                hint = did_you_mean(variable, variables) or "define it in template_variables."
                found.add(path, f"${variable} is not a template variable.", hint)
    return found


def check_monitor(asset: dict, allowed: set[str], source: str = MONITOR_FILE) -> Findings:
    definition = asset.get("definition")
    found = check_payload(definition, Monitor, source, prefix=["definition"])
    if found:  # the rules below read a definition the client accepts
        return found
    query, message, options = definition["query"], definition.get("message") or "", definition.get("options") or {}
    check_metrics(query, "$.definition.query", allowed, found)
    # One alert per host that says which host: {{host.*}} is only filled in when the query is grouped by host
    # (docs.datadoghq.com/monitors/notify/variables, "Multi alert variables").
    if not re.search(r"\bby\s*\{[^}]*\bhost\b[^}]*\}", query):
        found.add("$.definition.query", "not a multi alert by host.", "group the query with 'by {host}'.")
    for variable in ("host.name", "host.ip"):
        if not re.search(r"\{\{\s*" + re.escape(variable) + r"\s*\}\}", message):
            found.add("$.definition.message", f"the alert does not name {{{{{variable}}}}}.", "add it to the text.")
    if options.get("notify_no_data") is not True:
        found.add(f"{OPTIONS}.notify_no_data", "a host that stops reporting goes unnoticed.", "set it to true.")
    parsed = _MONITOR_QUERY.match(query)
    if not parsed:
        found.add("$.definition.query", "no evaluation window and threshold.", "write it like avg(last_5m):... > 800.")
        return found
    window = int(parsed.group(1)) * _UNIT_MINUTES[parsed.group(2)]
    comparator, above = parsed.group(3), parsed.group(3) in (">", ">=")
    critical, warning = ((options.get("thresholds") or {}).get(level) for level in ("critical", "warning"))
    if critical != float(parsed.group(4)):  # Datadog refuses the monitor otherwise
        found.add(f"{OPTIONS}.thresholds.critical", "not the query's threshold.", f"set it to {parsed.group(4)}.")
    elif warning is not None and (warning >= critical if above else warning <= critical):
        where, hint = f"{OPTIONS}.thresholds.warning", "put it on the other side of critical."
        found.add(where, f"warning {warning} is past critical {critical} for {comparator!r}.", hint)
    no_data_minutes = options.get("no_data_timeframe")
    if no_data_minutes is not None and no_data_minutes < 2 * window:
        # "Datadog recommends at least 2x the monitor timeframe" (the client's MonitorOptions.no_data_timeframe)
        found.add(f"{OPTIONS}.no_data_timeframe", "under twice the evaluation window.", f"set {2 * window} or more.")
    return found


def check_downtime(payload: dict, source: str) -> Findings:
    """A downtime file the client accepts, whose recurrences can be expanded; apply links the monitor."""
    linked = copy.deepcopy(payload)
    if isinstance(linked.get("data"), dict) and isinstance(linked["data"].get("attributes"), dict):
        linked["data"]["attributes"].setdefault("monitor_identifier", {"monitor_id": 1})
    found = check_payload(linked, DowntimeCreateRequest, source)
    if found:
        return found
    schedule = payload["data"]["attributes"].get("schedule") or {}
    if "recurrences" not in schedule:
        found.add("$.data.attributes.schedule", "not recurring.", "use recurrences with rrule, start and duration.")
    for index, item in enumerate(schedule.get("recurrences", [])):
        try:
            Recurrence.from_payload(item)
        except (KeyError, ValueError) as error:
            where = json_path(["data", "attributes", "schedule", "recurrences", index])
            found.add(where, f"cannot be expanded: {error}.", "start like 2025-01-06T19:00:00, duration like 14h.")
    return found


def check_downtime_coverage(payloads: dict[str, dict], tz: ZoneInfo, year: int) -> Findings:
    found = Findings("downtimes (" + ", ".join(f"{name}.json" for name in payloads) + ")")
    where = "$.data.attributes.schedule.recurrences"
    for problem in coverage_problems(list(payloads.values()), tz, year):
        found.add(where, f"{problem}.", "mute all of nights and weekends and nothing of Monday-Friday 09:00-19:00.")
    for problem in start_time_problems(list(payloads.values()), tz, year):
        found.add(where, f"{problem}.", "start at a time every day has, e.g. 19:00 or 05:00.")
    return found


def validate_all(assets: Assets, tz: ZoneInfo, year: int) -> list:
    """Every finding about the assets; downtime coverage is proven minute by minute over `year` in `tz`."""
    allowed = integration_metrics(assets.integration_dir) | set(known_metrics())
    errors = check_dashboard(assets.dashboard, allowed) + check_monitor(assets.monitor, allowed)
    downtime_errors = [f for name, p in assets.downtimes.items() for f in check_downtime(p, f"downtimes/{name}.json")]
    # the files mute together: their coverage only means something when every one of them can be read
    return errors + (downtime_errors or check_downtime_coverage(assets.downtimes, tz, year))
