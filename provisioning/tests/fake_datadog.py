"""A small in-memory Datadog API on 127.0.0.1 for the endpoints the provisioner uses."""

from __future__ import annotations

import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeDatadog:
    def __init__(self):
        self.dashboards: dict[str, dict] = {}
        self.monitors: dict[int, dict] = {}
        self.downtimes: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.headers_seen: list[dict] = []
        self.failures: list[tuple[str, str, int, dict]] = []  # (method, path regex, status, headers), used once each
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def fail(self, method, path_pattern, status, times=1, headers=None):
        for _ in range(times):
            self.failures.append((method, path_pattern, status, headers or {}))

    def active_downtimes(self):
        return [d for d in self.downtimes.values() if d["attributes"]["status"] != "canceled"]

    def count(self, method, path_pattern):
        return sum(1 for m, p in self.requests if m == method and re.fullmatch(path_pattern, p))

    # ------------------------------------------------------------------ routing
    def handle(self, method, path, query, body):
        for index, (f_method, pattern, status, headers) in enumerate(self.failures):
            if f_method == method and re.fullmatch(pattern, path):
                del self.failures[index]
                return status, {"errors": [f"injected {status}"]}, headers
        new_id = next(self._ids)
        if path == "/api/v1/dashboard":
            if method == "GET":
                start, count = int(query.get("start", ["0"])[0]), int(query.get("count", ["100"])[0])
                summaries = [
                    {"id": i, "title": d["title"], "description": d.get("description"), "layout_type": d["layout_type"]}
                    for i, d in self.dashboards.items()
                ]
                return 200, {"dashboards": summaries[start : start + count]}, {}
            dashboard_id = f"abc-{new_id:03d}-xyz"
            self.dashboards[dashboard_id] = dict(body, id=dashboard_id)
            return 200, self.dashboards[dashboard_id], {}
        match = re.fullmatch(r"/api/v1/dashboard/([\w-]+)", path)
        if match and match.group(1) in self.dashboards:
            if method == "PUT":
                self.dashboards[match.group(1)] = dict(body, id=match.group(1))
                return 200, self.dashboards[match.group(1)], {}
            if method == "DELETE":
                del self.dashboards[match.group(1)]
                return 200, {"deleted_dashboard_id": match.group(1)}, {}
        if path == "/api/v1/monitor":
            if method == "GET":
                tags = [t for t in query.get("monitor_tags", [""])[0].split(",") if t]
                page, size = int(query.get("page", ["0"])[0]), int(query.get("page_size", ["100"])[0])
                found = [m for m in self.monitors.values() if all(t in m.get("tags", []) for t in tags)]
                return 200, found[page * size : (page + 1) * size], {}
            self.monitors[new_id] = dict(body, id=new_id)
            return 200, self.monitors[new_id], {}
        match = re.fullmatch(r"/api/v1/monitor/(\d+)", path)
        if match and int(match.group(1)) in self.monitors:
            monitor_id = int(match.group(1))
            if method == "PUT":
                self.monitors[monitor_id].update(body)
                return 200, self.monitors[monitor_id], {}
            if method == "DELETE":
                del self.monitors[monitor_id]
                return 200, {"deleted_monitor_id": monitor_id}, {}
        if path == "/api/v2/downtime":
            if method == "GET":
                offset, limit = int(query.get("page[offset]", ["0"])[0]), int(query.get("page[limit]", ["30"])[0])
                items = list(self.downtimes.values())
                return (
                    200,
                    {"data": items[offset : offset + limit], "meta": {"page": {"total_filtered_count": len(items)}}},
                    {},
                )
            downtime_id = f"00000000-0000-0000-0000-{new_id:012d}"
            attributes = dict(body["data"]["attributes"], status="scheduled")
            self.downtimes[downtime_id] = {"id": downtime_id, "type": "downtime", "attributes": attributes}
            return 200, {"data": self.downtimes[downtime_id]}, {}
        match = re.fullmatch(r"/api/v2/downtime/([\w-]+)", path)
        if match and match.group(1) in self.downtimes:
            downtime = self.downtimes[match.group(1)]
            if method == "PATCH":
                downtime["attributes"].update(body["data"]["attributes"])
                return 200, {"data": downtime}, {}
            if method == "DELETE":
                downtime["attributes"]["status"] = "canceled"
                return 204, None, {}
        return 404, {"errors": [f"no route {method} {path}"]}, {}

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
                    fake.headers_seen.append(dict(self.headers))
                    status, payload, headers = fake.handle(self.command, url.path, parse_qs(url.query), body)
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
