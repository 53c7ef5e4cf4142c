"""A small in-memory Datadog API on 127.0.0.1 for the endpoints the provisioner uses.

It accepts only the query parameters the real API documents (datadog-api-client 2.62 `params_map`,
docs.datadoghq.com/api/latest) and implements, refusing any other with a 400, so no test can pass by a filter Datadog
does not have. Like Datadog, it adds the fields the server owns (ids, timestamps, creator, widget ids, option
defaults, a downtime's current window) to what it stores. `delay` holds every answer back (a slow API);
`fail(..., made=True)` carries a request out, then answers the error (a gateway timing out after Datadog did it).
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
    "/api/v1/dashboard": {"GET": ({"count", "start"}, {"filter[shared]", "filter[deleted]"}), "POST": (set(), set())},
    "/api/v1/dashboard/{id}": {"GET": (set(), set()), "PUT": (set(), set()), "DELETE": (set(), set())},
    "/api/v1/monitor": {
        "GET": ({"monitor_tags", "page", "page_size"}, {"name", "id_offset", "group_states", "tags", "with_downtimes"}),
        "POST": (set(), set()),
    },
    "/api/v1/monitor/{id}": {
        "GET": (set(), {"group_states", "with_downtimes"}),
        "PUT": (set(), set()),
        "DELETE": (set(), {"force"}),
    },
    "/api/v2/downtime": {"GET": ({"current_only", "page[offset]", "page[limit]"}, {"include"}), "POST": (set(), set())},
    "/api/v2/downtime/{id}": {"GET": (set(), {"include"}), "PATCH": (set(), set()), "DELETE": (set(), set())},
    "/api/v1/graph/snapshot": {"GET": ({"start", "end", "metric_query", "title"}, {"event_query", "graph_def"})},
    "/api/v1/events": {"POST": (set(), set())},
}
PAST_START = "Scheduled downtime start cannot be in the past"  # the v1 API's answer to a past start
MONITOR_OPTION_DEFAULTS = {"notify_audit": False, "include_tags": True, "new_host_delay": 300, "silenced": {}}
REQUEST_LIMIT = 300


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def route_of(path: str) -> tuple[str, str | None]:
    for template in ROUTES:
        if match := re.fullmatch(re.escape(template).replace(r"\{id\}", r"([\w-]+)"), path):
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


def _with_widget_ids(widgets, ids):
    for widget in widgets or []:
        widget.setdefault("id", next(ids))
        _with_widget_ids((widget.get("definition") or {}).get("widgets"), ids)
    return widgets


def _error(status, text):
    return status, {"errors": [text]}, {}


class FakeDatadog(LocalServer):
    def __init__(self, now=None, delay=0.0):
        self.delay = delay
        self.dashboards: dict[str, dict] = {}
        self.monitors: dict[int, dict] = {}
        self.downtimes: dict[str, dict] = {}
        self.events: list[dict] = []
        self.snapshots: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.routes: Counter = Counter()  # (method, route template) -> requests
        self.headers_seen: list[dict] = []
        self.failures: list[list] = []  # [method, path regex, status, headers, matches to let through first, made]
        self.now = now or (lambda: utc_now())
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def fail(self, method, path_pattern, status, times=1, headers=None, after=0, made=False):
        """Answer `status` to the next `times` matching requests, once `after` of them went through; with `made`,
        after carrying each of them out."""
        self.failures += [[method, path_pattern, status, headers or {}, after, made] for _ in range(times)]

    def active_downtimes(self):
        return [d for d in self.downtimes.values() if d["attributes"]["status"] not in ("canceled", "ended")]

    def count(self, method, path_pattern):
        return sum(1 for m, p in self.requests if m == method and re.fullmatch(path_pattern, p))

    def seed(self, dashboards=0, monitors=0, downtimes=0, active_every=50):
        """An org that already holds other people's objects; 1 downtime in `active_every` is not ended."""
        for i in range(dashboards):
            self.dashboards[f"seed-{i:06d}"] = {
                "title": f"Team dashboard {i}",
                "description": "",
                "layout_type": "ordered",
            }
        first_monitor = 10_000_000
        for i in range(monitors):
            query = f"avg(last_5m):avg:team.metric{{team:{i}}} > {i + 1}"
            self.monitors[first_monitor + i] = {
                "id": first_monitor + i, "name": f"Team monitor {i}", "type": "query alert", "query": query,
                "message": "", "tags": [f"team:{i % 40}"],
            }  # fmt: skip
        for i in range(downtimes):
            attributes = {
                "message": f"maintenance {i}", "scope": "*",
                "monitor_identifier": {"monitor_id": first_monitor + i % max(monitors, 1)},
                "schedule": {"start": "2024-01-01T00:00:00+00:00", "end": "2024-01-01T01:00:00+00:00"},
                "status": "active" if i % active_every == 0 else "ended",
            }  # fmt: skip
            downtime_id = f"5eed0000-0000-0000-0000-{i:012d}"
            self.downtimes[downtime_id] = {"id": downtime_id, "type": "downtime", "attributes": attributes}

    def _past_start(self, attributes: dict) -> str | None:
        schedule, now = attributes.get("schedule") or {}, self.now()
        for item in schedule.get("recurrences") or []:
            start = datetime.fromisoformat(item["start"])
            if start.tzinfo is not None:
                return f"Invalid recurrence start {item['start']}: must not include a UTC offset"
            if start.replace(tzinfo=ZoneInfo(schedule["timezone"])) < now:
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

    def _route(self, method, path, query, body):
        route, object_id = route_of(path)
        if len(self.requests) > REQUEST_LIMIT:  # a run that loops (a mutant) fails instead of hanging
            return _error(500, "more requests than any test sends")
        if method not in ROUTES.get(route, {}):
            return _error(404, f"no route {method} {path}")
        implemented, not_implemented = ROUTES[route][method]
        for name in query:
            if name in not_implemented:
                return _error(400, f"fake_datadog does not implement the documented parameter {name}")
            if name not in implemented:
                return _error(400, f"Invalid parameter {name}: not a query parameter of {method} {route}")
        query = {name: values[0] for name, values in query.items()}
        store = {"dashboard": self.dashboards, "monitor": self.monitors, "downtime": self.downtimes}
        stored = next((objects for kind, objects in store.items() if f"/{kind}/" in route), None)
        if stored is not None:
            object_id = int(object_id) if stored is self.monitors and object_id.isdigit() else object_id
            if object_id not in stored:
                return _error(404, f"{route.split('/')[3].capitalize()} not found")
        return getattr(self, "_" + re.sub(r"\W+", "_", f"{method} {route}").strip("_").lower())(object_id, query, body)

    def _stamp(self) -> str:
        return self.now().isoformat(timespec="microseconds")

    def _get_api_v1_dashboard(self, _, query, body):
        start, count = int(query.get("start", 0)), int(query.get("count", 100))
        summaries = [
            {"id": i, "title": d["title"], "description": d.get("description"), "layout_type": d["layout_type"]}
            for i, d in itertools.islice(self.dashboards.items(), start, start + count)
        ]
        return 200, {"dashboards": summaries}, {}

    def _store_dashboard(self, dashboard_id, body):
        created = self.dashboards.get(dashboard_id, {}).get("created_at", self._stamp())
        widgets = _with_widget_ids(body.get("widgets"), itertools.count(1000))
        self.dashboards[dashboard_id] = dict(
            body, id=dashboard_id, widgets=widgets, created_at=created, modified_at=self._stamp(),
            author_handle="someone@example.com", url=f"/dashboard/{dashboard_id}/my-metric",
        )  # fmt: skip
        return 200, self.dashboards[dashboard_id], {}

    def _post_api_v1_dashboard(self, _, query, body):
        return self._store_dashboard(f"abc-{next(self._ids):03d}-xyz", body)

    def _get_api_v1_dashboard_id(self, dashboard_id, query, body):
        return 200, {"widgets": [], **self.dashboards[dashboard_id]}, {}

    def _put_api_v1_dashboard_id(self, dashboard_id, query, body):
        return self._store_dashboard(dashboard_id, body)

    def _delete_api_v1_dashboard_id(self, dashboard_id, query, body):
        del self.dashboards[dashboard_id]
        return 200, {"deleted_dashboard_id": dashboard_id}, {}

    def _get_api_v1_monitor(self, _, query, body):
        tags = [t for t in query.get("monitor_tags", "").split(",") if t]
        found = [m for m in self.monitors.values() if all(t in m.get("tags", []) for t in tags)]
        if "page" in query:
            page, size = int(query["page"]), int(query.get("page_size", 100))
            found = found[page * size : (page + 1) * size]
        return 200, found, {}

    def _post_api_v1_monitor(self, _, query, body):
        new_id = next(self._ids)
        options = {**MONITOR_OPTION_DEFAULTS, **(body.get("options") or {})}
        owned = {"created": self._stamp(), "modified": self._stamp(), "overall_state": "No Data", "multi": True}
        self.monitors[new_id] = dict(body, id=new_id, options=options, creator={"handle": "a@example.com"}, **owned)
        return 200, self.monitors[new_id], {}

    def _get_api_v1_monitor_id(self, monitor_id, query, body):
        return 200, self.monitors[monitor_id], {}

    def _put_api_v1_monitor_id(self, monitor_id, query, body):
        self.monitors[monitor_id].update(body, modified=self._stamp())
        return 200, self.monitors[monitor_id], {}

    def _delete_api_v1_monitor_id(self, monitor_id, query, body):
        del self.monitors[monitor_id]
        return 200, {"deleted_monitor_id": monitor_id}, {}

    def _get_api_v2_downtime(self, _, query, body):
        offset, limit = int(query.get("page[offset]", 0)), int(query.get("page[limit]", 30))
        items = self.downtimes.values()
        if query.get("current_only") == "true":
            items = [d for d in items if d["attributes"]["status"] == "active"]
        page = list(itertools.islice(items, offset, offset + limit))
        return 200, {"data": page, "meta": {"page": {"total_filtered_count": len(self.downtimes)}}}, {}

    def _post_api_v2_downtime(self, _, query, body):
        if problem := self._past_start(body["data"]["attributes"]):
            return _error(400, problem)
        downtime_id = f"00000000-0000-0000-0000-{next(self._ids):012d}"
        attributes = {"mute_first_recovery_notification": False, "canceled": None, **body["data"]["attributes"]}
        attributes.update(status="scheduled", created=self._stamp(), modified=self._stamp())
        schedule = attributes.get("schedule") or {}
        if schedule.get("recurrences"):
            first = schedule["recurrences"][0]
            attributes["schedule"] = {**schedule, "current_downtime": {"start": first["start"], "end": None}}
        self.downtimes[downtime_id] = {"id": downtime_id, "type": "downtime", "attributes": attributes}
        return 200, {"data": self.downtimes[downtime_id]}, {}

    def _get_api_v2_downtime_id(self, downtime_id, query, body):
        return 200, {"data": self.downtimes[downtime_id]}, {}

    def _patch_api_v2_downtime_id(self, downtime_id, query, body):
        if problem := self._past_start(body["data"]["attributes"]):
            return _error(400, problem)
        self.downtimes[downtime_id]["attributes"].update(body["data"]["attributes"])
        return 200, {"data": self.downtimes[downtime_id]}, {}

    def _delete_api_v2_downtime_id(self, downtime_id, query, body):
        self.downtimes[downtime_id]["attributes"]["status"] = "canceled"
        return 204, None, {}

    def _get_api_v1_graph_snapshot(self, _, query, body):
        url = f"https://p.datadoghq.com/snapshot/view/dd-snapshots/org_1/fake/{len(self.snapshots) + 1:04d}.png"
        self.snapshots.append({**query, "start": int(query["start"]), "end": int(query["end"]), "snapshot_url": url})
        return 200, {"metric_query": query["metric_query"], "snapshot_url": url}, {}

    def _post_api_v1_events(self, _, query, body):
        event = dict(body, id=5_000_000_000 + len(self.events) + 1)
        self.events.append(event)
        return (
            202,
            {"status": "ok", "event": dict(event, url=f"https://app.datadoghq.com/event/event?id={event['id']}")},
            {},
        )

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
                for key, value in {"Content-Type": "application/json", "Content-Length": len(data), **headers}.items():
                    self.send_header(key, str(value))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler
