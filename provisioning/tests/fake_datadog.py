"""A small in-memory Datadog API on 127.0.0.1 for the endpoints the provisioner uses.

It honours the query parameters the real API documents for each endpoint (datadog-api-client 2.62
`params_map`, docs.datadoghq.com/api/latest) and refuses any other with a 400, so a client cannot
rely on a filter Datadog does not have (there is no title filter on dashboards, no monitor filter on
`GET /api/v2/downtime`). Documented parameters it does not implement are refused as well, naming them.
Every request is counted by method and route (`count`, `counts`).

Like Datadog, it adds to what it stores the fields the server owns (ids, timestamps, creator, widget ids, option
defaults, a recurring downtime's current window), so a comparison with what was sent must leave them out.
`delay` holds every answer back that long after the request was carried out (a slow API); `fail(..., made=True)`
carries a request out and then answers the error (a gateway that times out after Datadog did the work).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

# route -> {method: (implemented query parameters, documented but not implemented here)}
ROUTES = {
    "/api/v1/dashboard": {
        "GET": ({"filter[shared]", "filter[deleted]", "count", "start"}, set()),
        "POST": (set(), set()),
    },
    "/api/v1/dashboard/{id}": {"GET": (set(), set()), "PUT": (set(), set()), "DELETE": (set(), set())},
    "/api/v1/monitor": {
        "GET": (
            {"name", "monitor_tags", "page", "page_size", "id_offset"},
            {"group_states", "tags", "with_downtimes"},
        ),
        "POST": (set(), set()),
    },
    "/api/v1/monitor/{id}": {
        "GET": (set(), {"group_states", "with_downtimes"}),
        "PUT": (set(), set()),
        "DELETE": (set(), {"force"}),
    },
    "/api/v2/downtime": {
        "GET": ({"current_only", "page[offset]", "page[limit]"}, {"include"}),
        "POST": (set(), set()),
    },
    "/api/v2/downtime/{id}": {"GET": (set(), {"include"}), "PATCH": (set(), set()), "DELETE": (set(), set())},
    "/api/v1/graph/snapshot": {
        "GET": ({"start", "end", "metric_query", "title"}, {"event_query", "graph_def", "height", "width"})
    },
    "/api/v1/events": {"POST": (set(), set())},
}
PAST_START = "Scheduled downtime start cannot be in the past"  # the v1 API's answer to a past start


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def route_of(path: str) -> tuple[str, str | None]:
    for template in ROUTES:
        pattern = "^" + re.escape(template).replace(r"\{id\}", r"([\w-]+)") + "$"
        match = re.match(pattern, path)
        if match:
            return template, (match.group(1) if match.groups() else None)
    return path, None


class LocalServer:
    """An HTTP server on a free port of 127.0.0.1, served from a thread while used as a context manager."""

    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # shutdown() waits for the serve loop's next poll: the default half second would be most of the suite's time.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


MONITOR_OPTION_DEFAULTS = {"notify_audit": False, "include_tags": True, "new_host_delay": 300, "silenced": {}}


def _with_widget_ids(widgets, ids):
    for widget in widgets or []:
        widget.setdefault("id", next(ids))
        _with_widget_ids((widget.get("definition") or {}).get("widgets"), ids)
    return widgets


class FakeDatadog(LocalServer):
    def __init__(self, now=None, delay=0.0):
        self.delay = delay
        self.dashboards: dict[str, dict] = {}
        self.deleted_dashboards: dict[str, dict] = {}  # Datadog keeps them listable with filter[deleted]=true
        self.monitors: dict[int, dict] = {}
        self.downtimes: dict[str, dict] = {}
        self.events: list[dict] = []
        self.snapshots: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.routes: Counter = Counter()  # (method, route template) -> requests
        self.headers_seen: list[dict] = []
        self.failures: list[list] = []  # [method, path regex, status, headers, matches to let through first]
        self.now = now or (lambda: utc_now())
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def fail(self, method, path_pattern, status, times=1, headers=None, after=0, made=False):
        """Answer `status` to the next `times` matching requests, once `after` of them went through; with `made`,
        after carrying each of them out."""
        for _ in range(times):
            self.failures.append([method, path_pattern, status, headers or {}, after, made])

    def active_downtimes(self):
        return [d for d in self.downtimes.values() if d["attributes"]["status"] not in ("canceled", "ended")]

    def recurring_downtimes(self):
        """Active downtimes with recurrences: without the one-time catch-up apply makes at night or on weekends."""
        return [d for d in self.active_downtimes() if (d["attributes"].get("schedule") or {}).get("recurrences")]

    def count(self, method, path_pattern):
        return sum(1 for m, p in self.requests if m == method and re.fullmatch(path_pattern, p))

    def seed(self, dashboards=0, monitors=0, downtimes=0, active_every=50):
        """An org that already holds other people's objects; 1 downtime in `active_every` is not ended."""
        self.dashboards.update(
            (f"seed-{i:06d}", {"title": f"Team dashboard {i}", "description": "", "layout_type": "ordered"})
            for i in range(dashboards)
        )
        first_monitor = 10_000_000
        self.monitors.update(
            (
                first_monitor + i,
                {
                    "id": first_monitor + i,
                    "name": f"Team monitor {i}",
                    "type": "query alert",
                    "query": f"avg(last_5m):avg:team.metric{{team:{i}}} > {i + 1}",
                    "message": "",
                    "tags": [f"team:{i % 40}"],
                },
            )
            for i in range(monitors)
        )
        for i in range(downtimes):
            downtime_id = f"5eed0000-0000-0000-0000-{i:012d}"
            self.downtimes[downtime_id] = {
                "id": downtime_id,
                "type": "downtime",
                "attributes": {
                    "message": f"maintenance {i}",
                    "scope": "*",
                    "monitor_identifier": {"monitor_id": first_monitor + i % max(monitors, 1)},
                    "schedule": {"start": "2024-01-01T00:00:00+00:00", "end": "2024-01-01T01:00:00+00:00"},
                    "status": "active" if i % active_every == 0 else "ended",
                },
            }

    # ------------------------------------------------------------------ checks
    def _past_start(self, attributes: dict) -> str | None:
        schedule = attributes.get("schedule") or {}
        now = self.now()
        for item in schedule.get("recurrences") or []:
            if item.get("start"):
                start = datetime.fromisoformat(item["start"])
                if start.tzinfo is not None:
                    return f"Invalid recurrence start {item['start']}: must not include a UTC offset"
                start = start.replace(tzinfo=ZoneInfo(schedule["timezone"]))
                if start < now:
                    return f"{PAST_START}: recurrence start {item['start']} {schedule['timezone']}"
        if not schedule.get("recurrences") and schedule.get("start"):
            if datetime.fromisoformat(schedule["start"]) < now:
                return f"{PAST_START}: {schedule['start']}"
        if schedule.get("end") and datetime.fromisoformat(schedule["end"]) <= now:
            return f"Scheduled downtime end cannot be in the past: {schedule['end']}"
        return None

    # ------------------------------------------------------------------ routing
    def handle(self, method, path, query, body):
        matching = [f for f in self.failures if f[0] == method and re.fullmatch(f[1], path)]
        if matching and matching[0][4]:
            for failure in matching:
                failure[4] -= 1
        elif matching:
            self.failures.remove(matching[0])
            if matching[0][5]:
                self._route(method, path, query, body)
            return matching[0][2], {"errors": [f"injected {matching[0][2]}"]}, matching[0][3]
        return self._route(method, path, query, body)

    def _stamp(self) -> str:
        return self.now().isoformat(timespec="microseconds")

    def _route(self, method, path, query, body):
        route, object_id = route_of(path)
        if route not in ROUTES or method not in ROUTES[route]:
            return 404, {"errors": [f"no route {method} {path}"]}, {}
        implemented, not_implemented = ROUTES[route][method]
        for name in query:
            if name in not_implemented:
                return 400, {"errors": [f"fake_datadog does not implement the documented parameter {name}"]}, {}
            if name not in implemented:
                return 400, {"errors": [f"Invalid parameter {name}: not a query parameter of {method} {route}"]}, {}
        return getattr(self, "_" + re.sub(r"\W+", "_", f"{method} {route}").strip("_").lower())(object_id, query, body)

    @staticmethod
    def _one(query, name, default):
        return query.get(name, [default])[0]

    def _get_api_v1_dashboard(self, _, query, body):
        start, count = int(self._one(query, "start", "0")), int(self._one(query, "count", "100"))
        # "When true, this query returns only deleted custom-created or cloned dashboards."
        listed = self.deleted_dashboards if self._one(query, "filter[deleted]", "false") == "true" else self.dashboards
        summaries = [
            {"id": i, "title": d["title"], "description": d.get("description"), "layout_type": d["layout_type"]}
            for i, d in itertools.islice(listed.items(), start, start + count)
        ]
        return 200, {"dashboards": summaries}, {}

    def _owned_dashboard_fields(self, body, dashboard_id, created=None):
        stamp = self._stamp()
        return dict(
            body,
            id=dashboard_id,
            widgets=_with_widget_ids(body.get("widgets"), itertools.count(1000)),
            created_at=created or stamp,
            modified_at=stamp,
            author_handle="someone@example.com",
            url=f"/dashboard/{dashboard_id}/my-metric",
        )

    def _post_api_v1_dashboard(self, _, query, body):
        dashboard_id = f"abc-{next(self._ids):03d}-xyz"
        self.dashboards[dashboard_id] = self._owned_dashboard_fields(body, dashboard_id)
        return 200, self.dashboards[dashboard_id], {}

    def _dashboard(self, dashboard_id):
        if dashboard_id not in self.dashboards:
            return 404, {"errors": ["Dashboard not found"]}, {}
        return None

    def _get_api_v1_dashboard_id(self, dashboard_id, query, body):
        return self._dashboard(dashboard_id) or (200, {"widgets": [], **self.dashboards[dashboard_id]}, {})

    def _put_api_v1_dashboard_id(self, dashboard_id, query, body):
        if missing := self._dashboard(dashboard_id):
            return missing
        created = self.dashboards[dashboard_id].get("created_at")
        self.dashboards[dashboard_id] = self._owned_dashboard_fields(body, dashboard_id, created)
        return 200, self.dashboards[dashboard_id], {}

    def _delete_api_v1_dashboard_id(self, dashboard_id, query, body):
        if missing := self._dashboard(dashboard_id):
            return missing
        self.deleted_dashboards[dashboard_id] = self.dashboards.pop(dashboard_id)
        return 200, {"deleted_dashboard_id": dashboard_id}, {}

    def _get_api_v1_monitor(self, _, query, body):
        tags = [t for t in self._one(query, "monitor_tags", "").split(",") if t]
        name = self._one(query, "name", "").lower()
        id_offset = int(self._one(query, "id_offset", "0"))
        found = [
            m
            for m in self.monitors.values()
            if m["id"] > id_offset and all(t in m.get("tags", []) for t in tags) and name in m.get("name", "").lower()
        ]
        if "page" in query:
            page, size = int(self._one(query, "page", "0")), int(self._one(query, "page_size", "100"))
            found = found[page * size : (page + 1) * size]
        return 200, found, {}

    def _post_api_v1_monitor(self, _, query, body):
        new_id = next(self._ids)
        options = {**MONITOR_OPTION_DEFAULTS, **(body.get("options") or {})}
        owned = {"created": self._stamp(), "modified": self._stamp(), "overall_state": "No Data", "multi": True}
        self.monitors[new_id] = dict(
            body, id=new_id, options=options, creator={"handle": "someone@example.com"}, **owned
        )
        return 200, self.monitors[new_id], {}

    def _monitor(self, monitor_id):
        if not monitor_id.isdigit() or int(monitor_id) not in self.monitors:
            return 404, {"errors": ["Monitor not found"]}, {}
        return None

    def _get_api_v1_monitor_id(self, monitor_id, query, body):
        return self._monitor(monitor_id) or (200, self.monitors[int(monitor_id)], {})

    def _put_api_v1_monitor_id(self, monitor_id, query, body):
        if missing := self._monitor(monitor_id):
            return missing
        self.monitors[int(monitor_id)].update(body, modified=self._stamp())
        return 200, self.monitors[int(monitor_id)], {}

    def _delete_api_v1_monitor_id(self, monitor_id, query, body):
        if missing := self._monitor(monitor_id):
            return missing
        del self.monitors[int(monitor_id)]
        return 200, {"deleted_monitor_id": int(monitor_id)}, {}

    def _get_api_v2_downtime(self, _, query, body):
        offset, limit = int(self._one(query, "page[offset]", "0")), int(self._one(query, "page[limit]", "30"))
        items = self.downtimes.values()
        if self._one(query, "current_only", "false") == "true":
            items = [d for d in items if d["attributes"]["status"] == "active"]
        page = list(itertools.islice(items, offset, offset + limit))
        return 200, {"data": page, "meta": {"page": {"total_filtered_count": len(self.downtimes)}}}, {}

    @staticmethod
    def _not_a_downtime(body, downtime_id=None):
        # The API's DowntimeCreateRequestData and DowntimeUpdateRequestData require type "downtime", and the
        # update its id (datadog_api_client.v2.model; the client sends an unknown enum value unchecked).
        data = body["data"]
        if data.get("type") != "downtime":
            return f"data.type must be 'downtime', not {data.get('type')!r}"
        if downtime_id is not None and data.get("id") != downtime_id:
            return f"data.id {data.get('id')!r} does not match the downtime {downtime_id} of the path"
        return None

    def _post_api_v2_downtime(self, _, query, body):
        if problem := self._not_a_downtime(body):
            return 400, {"errors": [problem]}, {}
        attributes = body["data"]["attributes"]
        if problem := self._past_start(attributes):
            return 400, {"errors": [problem]}, {}
        downtime_id = f"00000000-0000-0000-0000-{next(self._ids):012d}"
        attributes = {"mute_first_recovery_notification": False, "canceled": None, **attributes}
        attributes.update(status="scheduled", created=self._stamp(), modified=self._stamp())
        schedule = attributes.get("schedule") or {}
        if schedule.get("recurrences"):
            first = schedule["recurrences"][0]
            attributes["schedule"] = {**schedule, "current_downtime": {"start": first["start"], "end": None}}
        self.downtimes[downtime_id] = {"id": downtime_id, "type": "downtime", "attributes": attributes}
        return 200, {"data": self.downtimes[downtime_id]}, {}

    def _downtime(self, downtime_id):
        if downtime_id not in self.downtimes:
            return 404, {"errors": ["Downtime not found"]}, {}
        return None

    def _get_api_v2_downtime_id(self, downtime_id, query, body):
        return self._downtime(downtime_id) or (200, {"data": self.downtimes[downtime_id]}, {})

    def _patch_api_v2_downtime_id(self, downtime_id, query, body):
        if missing := self._downtime(downtime_id):
            return missing
        if problem := self._not_a_downtime(body, downtime_id):
            return 400, {"errors": [problem]}, {}
        if problem := self._past_start(body["data"]["attributes"]):
            return 400, {"errors": [problem]}, {}
        downtime = self.downtimes[downtime_id]
        downtime["attributes"].update(body["data"]["attributes"])
        return 200, {"data": downtime}, {}

    def _delete_api_v2_downtime_id(self, downtime_id, query, body):
        if missing := self._downtime(downtime_id):
            return missing
        self.downtimes[downtime_id]["attributes"]["status"] = "canceled"
        return 204, None, {}

    def _get_api_v1_graph_snapshot(self, _, query, body):
        missing = [name for name in ("start", "end") if name not in query]
        if missing:
            return 400, {"errors": [f"Missing required query parameter(s): {', '.join(missing)}"]}, {}
        try:
            start, end = int(self._one(query, "start", "")), int(self._one(query, "end", ""))
        except ValueError:
            return 400, {"errors": ["start and end must be POSIX timestamps in seconds"]}, {}
        metric_query = self._one(query, "metric_query", "")
        if not metric_query:
            return 400, {"errors": ["One of metric_query or graph_def is required"]}, {}
        if start >= end or end > self.now().timestamp() + 60 or end - start > 366 * 86400:
            return 400, {"errors": [f"Invalid time range {start}..{end}"]}, {}
        if "$" in metric_query or not re.fullmatch(r"\w+:[\w.]+\{[^{}$]*\}( by \{[\w,.]+\})?", metric_query):
            return 400, {"errors": [f"Invalid metric query: {metric_query}"]}, {}
        number = len(self.snapshots) + 1
        snapshot = {
            "metric_query": metric_query,
            "start": start,
            "end": end,
            "title": self._one(query, "title", ""),
            "snapshot_url": f"https://p.datadoghq.com/snapshot/view/dd-snapshots/org_1/fake/{number:04d}.png",
        }
        self.snapshots.append(snapshot)
        return 200, {"metric_query": metric_query, "snapshot_url": snapshot["snapshot_url"]}, {}

    def _post_api_v1_events(self, _, query, body):
        from datadog_api_client.v1.model.event_create_request import EventCreateRequest

        allowed = set(EventCreateRequest.attribute_map.values())
        errors = [f"Unknown field {key}" for key in body or {} if key not in allowed]
        errors += [f"Missing required field {key}" for key in ("title", "text") if not (body or {}).get(key)]
        if body and len(body.get("text", "")) > 4000:
            errors.append("text is limited to 4000 characters")
        if body and body.get("alert_type", "info") not in ("error", "warning", "info", "success", "user_update"):
            errors.append(f"Invalid alert_type {body['alert_type']}")
        if errors:
            return 400, {"errors": errors}, {}
        event_id = 5_000_000_000 + len(self.events) + 1
        self.events.append(dict(body, id=event_id))
        event = dict(body, id=event_id, url=f"https://app.datadoghq.com/event/event?id={event_id}")
        return 202, {"status": "ok", "event": event}, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                with fake._lock:
                    fake.requests.append((self.command, url.path))
                    fake.routes[(self.command, route_of(url.path)[0])] += 1
                    fake.headers_seen.append(dict(self.headers))
                    status, payload, headers = fake.handle(self.command, url.path, parse_qs(url.query), body)
                time.sleep(fake.delay)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler
