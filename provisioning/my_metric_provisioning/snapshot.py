"""The challenge's snapshot step as a command, and the dashboard's URL. The UI's way: the dashboard on the past 5
minutes, the my_metric graph's share menu, a snapshot that @-mentions you. The command's: a graph snapshot of the same
query (v1 `GET /api/v1/graph/snapshot`), then an event carrying the @handle and the snapshot's link (v1 `POST
/api/v1/events`): an @-mention in an event notifies it."""

from datetime import UTC, timedelta

from datadog_api_client.v1.api.events_api import EventsApi
from datadog_api_client.v1.api.snapshots_api import SnapshotsApi
from datadog_api_client.v1.model.event_create_request import EventCreateRequest

from my_metric_provisioning import provision
from my_metric_provisioning.assets import DASHBOARD_FILE, AssetFileError, Assets
from my_metric_provisioning.strict import to_model

METRIC = "my_metric"


def app_host(site: str) -> str:
    """The web host of a Datadog site: datadoghq.com -> app.datadoghq.com, us3.datadoghq.com stays."""
    return site if site.count(".") >= 2 else f"app.{site}"


def dashboard_url(site: str, dashboard_id: str, minutes: int = 5) -> str:
    """The dashboard opened on the past `minutes`, kept live (from_ts/to_ts in ms, `live=true`)."""
    end = int(provision.current_time(UTC).timestamp() * 1000)
    return f"https://{app_host(site)}/dashboard/{dashboard_id}?from_ts={end - minutes * 60_000}&to_ts={end}&live=true"


def _definitions(widgets):
    for widget in widgets:
        yield widget.get("definition", {})
        yield from _definitions(widget.get("definition", {}).get("widgets", []))


def my_metric_graph(assets: Assets) -> tuple[str, str]:
    """(title, query) of the dashboard's first timeseries widget on my_metric, with its template variables at their
    defaults, as the dashboard shows it when opened (a variable at `*` drops out of the scope)."""
    defaults = {
        f"${v['name']}": f"{v.get('prefix') or v['name']}:{(v.get('defaults') or ['*'])[0]}"
        for v in assets.dashboard.get("template_variables", [])
    }
    for definition in _definitions(assets.dashboard.get("widgets", [])):
        requests = definition.get("requests", []) if definition.get("type") == "timeseries" else []
        queries = [q.get("query", "") for r in requests for q in r.get("queries") or [{"query": r.get("q", "")}]]
        for query in (q for q in queries if f":{METRIC}{{" in q):
            scope = query[query.index("{") + 1 : query.index("}")]
            items = [defaults.get(item.strip(), item.strip()) for item in scope.split(",")]
            scope_shown = ",".join(item for item in items if not item.endswith(":*")) or "*"
            return definition.get("title", METRIC), query.replace(f"{{{scope}}}", f"{{{scope_shown}}}", 1)
    raise AssetFileError(f"{assets.integration_dir / DASHBOARD_FILE}: no timeseries widget queries {METRIC}.")


def take(provisioner, assets: Assets, notify: str, minutes: int) -> dict:
    """Snapshot the my_metric graph over the last `minutes`, then notify `notify` with an event."""
    title, query = my_metric_graph(assets)
    end = provision.current_time(UTC)
    start = int((end - timedelta(minutes=minutes)).timestamp())
    snapshots = SnapshotsApi(provisioner.client).get_graph_snapshot
    url = provisioner.call("snapshot", "take", snapshots, start, int(end.timestamp()), metric_query=query, title=title)[
        "snapshot_url"
    ]
    event = {
        "title": f"my_metric snapshot: {title}, past {minutes} minutes",
        "text": f"{notify} snapshot of {title} over the past {minutes} minutes: {url}\nQuery: {query}",
        "alert_type": "info",
        "tags": ["integration:my_metric", "source:my-metric-provision"],
    }
    create = EventsApi(provisioner.client).create_event
    posted = provisioner.call("event", "post", create, to_model(event, EventCreateRequest))["event"]
    return {"snapshot_url": url, "event_id": posted.get("id"), "event_url": posted.get("url")}
