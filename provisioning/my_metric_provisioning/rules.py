"""Offline validation: strict model checks plus the rules the client does not check."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest

from my_metric_provisioning.assets import DASHBOARD_FILE, MONITOR_FILE, Assets, integration_metrics, known_metrics
from my_metric_provisioning.downtimes import Recurrence, coverage_problems, start_time_problems, zone
from my_metric_provisioning.findings import Findings, did_you_mean, json_path, misspelling_hint
from my_metric_provisioning.strict import check_payload

RECOMMENDED_MONITOR_KEYS = {"version", "created_at", "last_updated_at", "title", "description", "definition", "tags"}
INTEGRATION_TAG = "integration:my_metric"
PLACEHOLDER_MONITOR_ID = 1

# `avg:metric{`, `p95:metric{`, `metric{` -- a metric name directly followed by its scope.
_METRIC = re.compile(r"(?:\b(?:avg|sum|min|max|count|p\d{2,3}|pct\d+):)?\b([A-Za-z][\w.]*)\{")
_MONITOR_QUERY = re.compile(
    r"^\s*\w+\((last_(\d+)([mhdw]))\):(?P<body>.*?)\s*(?P<op>>=|<=|>|<)\s*(?P<value>-?[\d.]+)\s*$"
)
_BLOCK = re.compile(r"\{\{\s*([#^/])\s*([\w.]+)[^}]*\}\}")
_ANOMALIES = re.compile(r"anomalies\(")
_TEMPLATE_VAR = re.compile(r"\$([A-Za-z_][\w]*)")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}


def _walk_queries(node, path):
    """Yield (json path, text) for every metric query and formula in a dashboard."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("query", "q", "formula") and isinstance(value, str):
                yield path + [key], value
            else:
                yield from _walk_queries(value, path + [key])
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk_queries(item, path + [index])


def metric_names(query: str) -> list[str]:
    return [m.group(1) for m in _METRIC.finditer(query) if m.group(1) != "by"]


def check_metrics(query: str, where: str, source: str, allowed: set[str]) -> Findings:
    found = Findings(source)
    for name in metric_names(query):
        if name not in allowed:
            hint = did_you_mean(name, allowed) or (
                "add it to my_metric/metadata.csv if this integration submits it, or to "
                "provisioning/my_metric_provisioning/data/known_metrics.csv with its source."
            )
            found.add(where, f"metric {name!r} is not known.", hint)
    return found


def check_anomalies(text: str, where: str, source: str) -> Findings:
    found = Findings(source)
    for match in _ANOMALIES.finditer(text):
        depth, index, args, current = 1, match.end(), [], ""
        while index < len(text) and depth:
            char = text[index]
            if char in "({":
                depth += 1
            elif char in ")}":
                depth -= 1
            if depth == 1 and char == ",":
                args.append(current.strip())
                current = ""
            elif depth:
                current += char
            index += 1
        args.append(current.strip())
        if len(args) < 3:
            found.add(
                where, "anomalies() needs a query, an algorithm and bounds.", "write anomalies(<query>, 'basic', 2)."
            )
            continue
        algorithm = args[1]
        if not re.fullmatch(r"'(basic|agile|robust)'", algorithm):
            bare = algorithm.strip("'\"")
            found.add(
                where,
                f"anomalies() algorithm {algorithm} must be a quoted 'basic', 'agile' or 'robust'.",
                f"write anomalies({args[0]}, '{bare}', {args[2]}).",
            )
    return found


def check_template_blocks(message: str, source: str, where: str) -> Findings:
    found, stack = Findings(source), []
    for match in _BLOCK.finditer(message):
        sign, name = match.groups()
        if sign in "#^":
            stack.append(name)
        elif not stack:
            found.add(
                where,
                f"{{{{/{name}}}}} closes a block that was never opened.",
                f"add {{{{#{name}}}}} before it or remove it.",
            )
        elif stack[-1] != name:
            found.add(
                where,
                f"{{{{/{name}}}}} closes {{{{#{stack[-1]}}}}}.",
                f"close {{{{#{stack[-1]}}}}} with {{{{/{stack[-1]}}}}} first.",
            )
            stack.pop()
        else:
            stack.pop()
    for name in stack:
        found.add(where, f"{{{{#{name}}}}} is never closed.", f"add {{{{/{name}}}}} after its text.")
    return found


def check_dashboard(dashboard: dict, allowed: set[str], source: str = DASHBOARD_FILE) -> Findings:
    found = check_payload(dashboard, Dashboard, source)
    if dashboard.get("layout_type") != "ordered":
        found.add(
            "$.layout_type", "the overview must be an ordered layout (a timeboard).", 'set "layout_type": "ordered".'
        )
    variables = {v.get("name") for v in dashboard.get("template_variables") or [] if isinstance(v, dict)}
    for needed in ("host", "env"):
        if needed not in variables:
            found.add(
                "$.template_variables",
                f"template variable {needed!r} is missing.",
                f'add {{"name": "{needed}", "prefix": "{needed}", "defaults": ["*"]}}.',
            )
    for path, text in _walk_queries(dashboard.get("widgets") or [], ["widgets"]):
        # Formulas name queries, so they hold no metric and no template variable; the same checks pass them.
        where = json_path(path)
        found += check_metrics(text, where, source, allowed)
        for var in _TEMPLATE_VAR.findall(text):
            if var not in variables:
                found.add(
                    where,
                    f"${var} is not a template variable of this dashboard.",
                    did_you_mean(var, variables) or "define it in template_variables.",
                )
        found += check_anomalies(text, where, source)
    return found


def check_monitor(asset: dict, allowed: set[str], source: str = MONITOR_FILE) -> Findings:
    found = Findings(source)
    unknown = sorted(set(asset) - RECOMMENDED_MONITOR_KEYS)
    for key in sorted(RECOMMENDED_MONITOR_KEYS - set(asset)):
        hint = misspelling_hint(key, unknown) or "see integrations-core */assets/monitors/*.json."
        found.add([key], f"missing recommended-monitor key {key!r}.", hint)
    for key in unknown:
        found.add(
            [key],
            f"unknown recommended-monitor key {key!r}.",
            did_you_mean(key, RECOMMENDED_MONITOR_KEYS) or "remove it.",
        )
    if asset.get("version") != 2:
        found.add("$.version", "recommended monitors use version 2.", 'set "version": 2.')
    if INTEGRATION_TAG not in (asset.get("tags") or []):
        found.add("$.tags", f"the {INTEGRATION_TAG!r} tag is missing.", f"add {INTEGRATION_TAG!r}.")
    definition = asset.get("definition")
    if not isinstance(definition, dict):
        found.add("$.definition", "the monitor definition is missing.", "add the Monitor API payload.")
        return found
    found += check_payload(definition, Monitor, source, prefix=["definition"])
    if INTEGRATION_TAG not in (definition.get("tags") or []):
        found.add("$.definition.tags", f"the {INTEGRATION_TAG!r} tag is missing.", f"add {INTEGRATION_TAG!r}.")
    query = definition.get("query") or ""
    message = definition.get("message") or ""
    options = definition.get("options") or {}
    found += check_metrics(query, "$.definition.query", source, allowed)
    found += check_anomalies(query, "$.definition.query", source)
    found += check_template_blocks(message, source, "$.definition.message")
    # A my_metric monitor alerts per host (a multi alert) and says which host: {{host.*}} is only filled in
    # when the query is grouped by host (docs.datadoghq.com/monitors/notify/variables, "Multi alert variables").
    if not re.search(r"\bby\s*\{[^}]*\bhost\b[^}]*\}", query):
        found.add(
            "$.definition.query",
            "the query is not grouped by host: one host's alert is averaged away and {{host.*}} stays empty.",
            "group it with 'by {host}' (a multi alert).",
        )
    for variable in ("host.name", "host.ip"):
        if not re.search(r"\{\{\s*" + re.escape(variable) + r"\s*\}\}", message):
            found.add(
                "$.definition.message",
                f"the message does not name {{{{{variable}}}}}: the alert cannot say which host it is about.",
                f"add {{{{{variable}}}}} to the alert text.",
            )
    if options.get("notify_no_data") is not True:
        found.add(
            "$.definition.options.notify_no_data",
            "a host that stops reporting my_metric would go unnoticed.",
            'set "notify_no_data": true.',
        )
    if re.search(r"@[\w.+-]+@[\w-]+\.\w+|@(slack|pagerduty|opsgenie|webhook)-", message):
        found.add(
            "$.definition.message",
            "the message hard-codes a notification handle.",
            "remove it; `my-metric-provision apply --notify @handle` adds it.",
        )
    parsed = _MONITOR_QUERY.match(query)
    if not parsed:
        found.add(
            "$.definition.query",
            f"cannot read the evaluation window and threshold of {query!r}.",
            "write it like avg(last_5m):avg:my_metric{*} by {host} > 800.",
        )
        return found
    window_minutes = int(parsed.group(2)) * _UNIT_MINUTES[parsed.group(3)]
    comparator, query_value = parsed.group("op"), float(parsed.group("value"))
    thresholds = options.get("thresholds") or {}
    critical, warning = thresholds.get("critical"), thresholds.get("warning")
    if critical is None:
        found.add(
            "$.definition.options.thresholds.critical",
            "no critical threshold.",
            f"set it to the query's value {parsed.group('value')}.",
        )
    elif float(critical) != query_value:
        found.add(
            "$.definition.options.thresholds.critical",
            f"critical {critical} differs from the query's threshold {parsed.group('value')}.",
            "make them equal; Datadog rejects the monitor otherwise.",
        )
    if critical is not None and warning is not None:
        above = comparator in (">", ">=")
        if above and not float(warning) < float(critical):
            found.add(
                "$.definition.options.thresholds.warning",
                f"warning {warning} must be below critical {critical} for a '{comparator}' query.",
                "lower the warning threshold or swap the two values.",
            )
        if not above and not float(warning) > float(critical):
            found.add(
                "$.definition.options.thresholds.warning",
                f"warning {warning} must be above critical {critical} for a '{comparator}' query.",
                "raise the warning threshold or swap the two values.",
            )
    if options.get("notify_no_data"):
        timeframe = options.get("no_data_timeframe")
        if timeframe is None or timeframe < 2 * window_minutes:
            found.add(
                "$.definition.options.no_data_timeframe",
                f"no_data_timeframe {timeframe} is under twice the {window_minutes}-minute evaluation window.",
                f"set it to at least {2 * window_minutes}.",
            )
    return found


def check_monitor_notifies(payload: dict, handle: str, source: str = MONITOR_FILE) -> Findings:
    """The payload apply sends must notify the --notify handle (the challenge: "send you an email")."""
    found = Findings(source)
    if not handle or handle not in (payload.get("message") or ""):
        found.add("$.definition.message", f"the monitor message does not notify {handle}.", "pass --notify @handle.")
    return found


def check_manifest(assets: Assets, source: str = "manifest.json") -> Findings:
    found = Findings(source)
    base = assets.integration_dir
    listed_assets = assets.manifest.get("assets", {})
    for kind in ("dashboards", "monitors"):
        listed = listed_assets.get(kind) or {}
        listed_files = {str(Path(p)) for p in listed.values()}
        existing = {str(p.relative_to(base)) for p in (base / "assets" / kind).glob("*.json")}
        for missing in sorted(listed_files - existing):
            found.add(
                f"$.assets.{kind}", f"lists {missing}, which does not exist.", "fix the path or remove the entry."
            )
        for unlisted in sorted(existing - listed_files):
            found.add(
                f"$.assets.{kind}",
                f"{unlisted} exists but is not listed.",
                f"add it under assets.{kind} with a short name.",
            )
    return found


def check_downtime(payload: dict, source: str) -> Findings:
    found = Findings(source)
    attributes = payload.get("data", {}).get("attributes", {}) if isinstance(payload.get("data"), dict) else {}
    if "monitor_identifier" in attributes:
        found.add(
            "$.data.attributes.monitor_identifier",
            "the monitor is linked at provisioning time, by the id of the monitor apply creates.",
            "remove monitor_identifier from the file.",
        )
    linked = copy.deepcopy(payload)
    if isinstance(linked.get("data"), dict) and isinstance(linked["data"].get("attributes"), dict):
        linked["data"]["attributes"].setdefault("monitor_identifier", {"monitor_id": PLACEHOLDER_MONITOR_ID})
    found += check_payload(linked, DowntimeCreateRequest, source)
    if found:
        return found
    schedule = attributes.get("schedule", {})
    if "recurrences" not in schedule:
        found.add(
            "$.data.attributes.schedule",
            "the schedule is not recurring.",
            "use schedule.recurrences with rrule, start and duration.",
        )
        return found
    for index, item in enumerate(schedule["recurrences"]):
        where = json_path(["data", "attributes", "schedule", "recurrences", index])
        if "DTSTART" in item.get("rrule", "").upper():
            found.add(where + ".rrule", "rrule must not contain DTSTART.", "put the first occurrence in start.")
        try:
            Recurrence.from_payload(item)
        except (KeyError, ValueError) as exc:
            found.add(
                where,
                f"recurrence cannot be read: {exc}.",
                "use start like 2025-01-06T19:00:00 (local, no offset) and duration like 14h.",
            )
    if not schedule.get("timezone"):
        found.add("$.data.attributes.schedule.timezone", "no timezone.", "set an IANA name; --timezone overrides it.")
    return found


def check_downtime_coverage(payloads: dict[str, dict], tz: ZoneInfo, year: int) -> Findings:
    values = list(payloads.values())
    found = Findings("downtimes (" + ", ".join(f"{n}.json" for n in payloads) + ")")
    where = "$.data.attributes.schedule.recurrences"
    for problem in coverage_problems(values, tz, year):
        found.add(
            where,
            f"{problem}.",
            "together the downtimes must mute all of 19:00-09:00 on weeknights and all weekend until Monday 09:00, "
            "and nothing of Monday-Friday 09:00-19:00.",
        )
    for problem in start_time_problems(values, tz, year):
        found.add(where, f"{problem}.", "start occurrences at a time that exists every day, e.g. 19:00 or 05:00.")
    return found


def validate_all(assets: Assets, tz: ZoneInfo | None = None, year: int | None = None) -> Findings:
    """Every finding about the assets; downtime coverage is proven over `year` (default: the current year)."""
    year = year or date.today().year
    allowed = integration_metrics(assets.integration_dir) | set(known_metrics())
    errors = check_manifest(assets)
    errors += check_dashboard(assets.dashboard, allowed)
    errors += check_monitor(assets.monitor, allowed)
    structurally_valid = {}
    for name, payload in assets.downtimes.items():
        found = check_downtime(payload, f"downtimes/{name}.json")
        errors += found
        if not found:
            structurally_valid[name] = payload
    if len(assets.downtimes) != 2:
        count = Findings("downtimes")
        count.add(
            "$",
            f"expected 2 downtime files, found {len(assets.downtimes)}.",
            "keep weeknights.json and weekend.json in my_metric_provisioning/data/downtimes/.",
        )
        errors += count
    if structurally_valid and len(structurally_valid) == len(assets.downtimes):
        # without --timezone, each zone the files name (the files' data, read here; an option is parsed by the CLI)
        names = {p["data"]["attributes"]["schedule"]["timezone"] for p in structurally_valid.values()}
        for each in [tz] if tz else [zone(name) for name in sorted(names)]:
            errors += check_downtime_coverage(structurally_valid, each, year)
    return errors
