"""The challenge's snapshot step as a command, and the dashboard's URL.

The UI way: open the dashboard, set the timeframe to the past 5 minutes, open the my_metric graph's
share menu, take a snapshot and @-mention yourself. The command way: a graph snapshot of the same
query over the last N minutes (v1 `GET /api/v1/graph/snapshot`), then an event whose text carries the
@handle and the snapshot's link (v1 `POST /api/v1/events`): an @-mention in an event notifies that handle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from datadog_api_client.v1.api.events_api import EventsApi
from datadog_api_client.v1.api.snapshots_api import SnapshotsApi
from datadog_api_client.v1.model.event_create_request import EventCreateRequest

from my_metric_provisioning import provision
from my_metric_provisioning.assets import DASHBOARD_FILE, AssetFileError, Assets
from my_metric_provisioning.strict import to_model

METRIC = "my_metric"
EVENT_TAGS = ["integration:my_metric", "source:my-metric-provision"]
_TEMPLATE_VARIABLE = re.compile(r"\$([A-Za-z0-9_.-]+)")


def now_utc() -> datetime:
    return provision.current_time(ZoneInfo("UTC"))


def app_host(site: str) -> str:
    """The web host of a Datadog site: datadoghq.com -> app.datadoghq.com, us3.datadoghq.com stays."""
    return site if site.count(".") >= 2 else f"app.{site}"


def dashboard_url(site: str, dashboard_id: str, now: datetime, minutes: int = 5) -> str:
    """The dashboard opened on the past `minutes`, kept live (from_ts/to_ts in ms, `live=true`)."""
    end = int(now.timestamp() * 1000)
    start = end - minutes * 60 * 1000
    return f"https://{app_host(site)}/dashboard/{dashboard_id}?from_ts={start}&to_ts={end}&live=true"


def _widgets(widgets):
    for widget in widgets:
        definition = widget.get("definition", {})
        yield definition
        yield from _widgets(definition.get("widgets", []))


def _resolve(query: str, template_variables: list[dict]) -> str:
    """Replace `$var` by the variable's default (`*` drops it), as the dashboard shows it when opened."""
    defaults = {v["name"]: v for v in template_variables}

    def scope(match):
        items = []
        for item in match.group(1).split(","):
            item = item.strip()
            name = item[1:] if item.startswith("$") else None
            if name in defaults:
                default = (defaults[name].get("defaults") or ["*"])[0]
                if default != "*":
                    items.append(f"{defaults[name].get('prefix') or name}:{default}")
            else:
                items.append(item)
        return "{" + (",".join(items) or "*") + "}"

    return re.sub(r"\{([^}]*)\}", scope, query, count=1)


@dataclass(frozen=True)
class Graph:
    title: str
    query: str


def my_metric_graph(assets: Assets) -> Graph:
    """The dashboard's first timeseries widget on my_metric, with its template variables at their defaults."""
    for definition in _widgets(assets.dashboard.get("widgets", [])):
        if definition.get("type") != "timeseries":
            continue
        for request in definition.get("requests", []):
            for query in request.get("queries", []) or [{"query": request.get("q", "")}]:
                text = query.get("query", "")
                if re.search(rf":{METRIC}\{{", text):
                    return Graph(
                        definition.get("title", METRIC), _resolve(text, assets.dashboard.get("template_variables", []))
                    )
    raise AssetFileError(
        f"{assets.integration_dir / DASHBOARD_FILE}: no timeseries widget queries {METRIC}; restore that graph."
    )


def event_request(graph: Graph, snapshot_url: str, notify: str, minutes: int) -> dict:
    return {
        "title": f"my_metric snapshot: {graph.title}, past {minutes} minutes",
        "text": f"{notify} snapshot of {graph.title} over the past {minutes} minutes: {snapshot_url}\n"
        f"Query: {graph.query}",
        "alert_type": "info",
        "tags": EVENT_TAGS,
    }


def take(provisioner, assets: Assets, notify: str, minutes: int, now: datetime | None = None) -> dict:
    """Snapshot the my_metric graph over the last `minutes`, then notify `notify` with an event."""
    graph = my_metric_graph(assets)
    end = now or now_utc()
    start = end - timedelta(minutes=minutes)
    snapshots = SnapshotsApi(provisioner.client)
    snapshot = provisioner.call(
        "snapshot",
        "take",
        snapshots.get_graph_snapshot,
        int(start.timestamp()),
        int(end.timestamp()),
        metric_query=graph.query,
        title=graph.title,
    )
    body = to_model(event_request(graph, snapshot["snapshot_url"], notify, minutes), EventCreateRequest)
    event = provisioner.call("event", "post", EventsApi(provisioner.client).create_event, body)["event"]
    return {"snapshot_url": snapshot["snapshot_url"], "event_id": event.get("id"), "event_url": event.get("url")}
