"""Create, update and remove the my_metric objects in a Datadog organisation.

Identity, so that a second apply updates instead of creating, without listing the org:
- monitor: found by the server-side filters `monitor_tags=MANAGED_BY` and `name`;
- the monitor carries, as tags, the ids of the dashboard and downtimes apply made (`Records`), and a
  `pending` tag for an object whose creation was sent but whose id is not recorded yet;
- dashboard: that recorded id, read back by id, with `[MANAGED_BY]` in its description;
- downtimes: those recorded ids, read back by id, linked to the monitor, not canceled/ended, message
  holding `[MANAGED_BY:<name>]`.
Only a pending tag (a run stopped between a create and its record), a monitor made by an older version
(no records tag) or `--full-scan` makes apply list the org's dashboards or downtimes.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlparse

import urllib3.exceptions
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import (
    ApiException,
    ApiTypeError,
    ApiValueError,
    ForbiddenException,
    NotFoundException,
    UnauthorizedException,
)
from datadog_api_client.rest import ClientRetry
from datadog_api_client.v1.api.dashboards_api import DashboardsApi
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_update_request import MonitorUpdateRequest
from datadog_api_client.v2.api.downtimes_api import DowntimesApi
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest
from datadog_api_client.v2.model.downtime_update_request import DowntimeUpdateRequest

from my_metric_provisioning.assets import Assets
from my_metric_provisioning.downtimes import LEAD, catch_up_window, next_start, zone
from my_metric_provisioning.settings import Settings
from my_metric_provisioning.strict import to_model

# Marks what apply made: the monitor's tag, and a bracketed marker in the dashboard and downtime texts.
MANAGED_BY = "managed-by:my-metric-provision"
INACTIVE_DOWNTIME_STATES = {"canceled", "ended"}
RECORD_PREFIX = "my-metric-provision-"
RECORDS_TAG = f"{RECORD_PREFIX}records:v1"
DASHBOARD = "dashboard"
CATCH_UP = "catch-up"
PERMISSIONS = {
    "dashboard": "dashboards_read and dashboards_write",
    "monitor": "monitors_read and monitors_write",
    "downtime": "monitors_downtime",
    "snapshot": "reading the my_metric metric (graph snapshots need the application key)",
    "event": "posting events (the events intake needs only a valid DD_API_KEY)",
}


class ProvisioningError(Exception):
    """A Datadog call failed; the message says what to check. Never contains key material."""


def downtime_key(name: str) -> str:
    return f"downtime-{name}"


@dataclass
class Records:
    """What the managed monitor remembers in its tags: ids of the objects apply made, creations in flight."""

    ids: dict[str, str] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    legacy: bool = False  # a monitor without RECORDS_TAG, made before records existed: find by scanning once
    saved: list[str] | None = None  # the tag list the monitor holds now

    def tags(self) -> list[str]:
        # Until a legacy monitor has been scanned and its objects recorded, it must stay recognisable as legacy.
        tags = [] if self.legacy else [RECORDS_TAG]
        tags += [f"{RECORD_PREFIX}{key}:{object_id}" for key, object_id in sorted(self.ids.items())]
        tags += [f"{RECORD_PREFIX}pending:{key}" for key in sorted(self.pending)]
        return tags

    @classmethod
    def from_tags(cls, tags: list[str]) -> "Records":
        records = cls(legacy=RECORDS_TAG not in tags)
        for tag in tags:
            if not tag.startswith(RECORD_PREFIX) or tag == RECORDS_TAG:
                continue
            key, _, value = tag[len(RECORD_PREFIX) :].partition(":")
            if key == "pending":
                records.pending.add(value)
            elif value:
                records.ids[key] = value
        return records


# ---------------------------------------------------------------- payloads
def dashboard_payload(assets: Assets) -> dict:
    payload = copy.deepcopy(assets.dashboard)
    payload["description"] = f"{payload.get('description', '')} [{MANAGED_BY}]".strip()
    return payload


def monitor_payload(assets: Assets, settings: Settings) -> dict:
    payload = copy.deepcopy(assets.monitor["definition"])
    payload["message"] = payload.get("message", "").rstrip() + f"\n\nNotify: {settings.notify}"
    payload["tags"] = sorted(set(payload.get("tags", [])) | {MANAGED_BY})
    return payload


def downtime_marker(name: str) -> str:
    return f"[{MANAGED_BY}:{name}]"


def current_time(timezone: str) -> datetime:
    return datetime.now(zone(timezone))


def downtime_payload(name: str, template: dict, monitor_id, settings: Settings, now: datetime | None = None) -> dict:
    """The stored downtime for this org: each recurrence starts at its first occurrence at or after now + LEAD."""
    payload = copy.deepcopy(template)
    attributes = payload["data"]["attributes"]
    attributes["message"] = f"{attributes.get('message', '')} {settings.notify} {downtime_marker(name)}".strip()
    attributes["monitor_identifier"] = {"monitor_id": monitor_id}
    attributes["display_timezone"] = settings.timezone
    schedule = attributes["schedule"]
    schedule["timezone"] = settings.timezone
    tz = zone(settings.timezone)
    now = now or current_time(settings.timezone)
    now = now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz)  # naive: local time in the zone
    earliest = (now + LEAD).replace(tzinfo=None)
    for item in schedule["recurrences"]:
        item["start"] = next_start(item["start"], item["rrule"], earliest)
    return payload


def catch_up_payload(template: dict | None, monitor_id, settings: Settings, now: datetime) -> dict | None:
    """A one-time downtime for the night or weekend apply runs in, which the recurrences, all starting
    after apply, no longer cover; None during working hours."""
    tz = zone(settings.timezone)
    window = catch_up_window(now.astimezone(tz))
    if window is None:
        return None
    start, end = window
    attributes = {
        key: copy.deepcopy(value)
        for key, value in (template or {"data": {"attributes": {"scope": "*"}}})["data"]["attributes"].items()
        if key not in ("message", "schedule")
    }
    attributes["message"] = (
        f"my_metric monitor muted for the rest of the night or weekend in which it was provisioned (until "
        f"{end:%a %Y-%m-%d %H:%M} {settings.timezone}). {settings.notify} {downtime_marker(CATCH_UP)}"
    )
    attributes["monitor_identifier"] = {"monitor_id": monitor_id}
    attributes["display_timezone"] = settings.timezone
    attributes["schedule"] = {"end": end.isoformat(timespec="seconds")}
    if start is not None:
        attributes["schedule"]["start"] = start.isoformat(timespec="seconds")
    return {"data": {"type": "downtime", "attributes": attributes}}


def plan(assets: Assets, settings: Settings) -> list[tuple[str, dict]]:
    """Payloads apply would send, in order; downtimes point at the monitor apply finds or creates."""
    steps = [("dashboard", dashboard_payload(assets)), ("monitor", monitor_payload(assets, settings))]
    now = current_time(settings.timezone)
    monitor_id = "<id of the monitor above>"
    for name, template in assets.downtimes.items():
        steps.append((f"downtime {name}", downtime_payload(name, template, monitor_id, settings, now)))
    catch_up = catch_up_payload(next(iter(assets.downtimes.values()), None), monitor_id, settings, now)
    if catch_up is not None:
        steps.append((f"downtime {CATCH_UP} (apply runs inside a muted window)", catch_up))
    return steps


# ---------------------------------------------------------------- client
def configuration(settings: Settings) -> Configuration:
    config = Configuration(host=settings.api_url) if settings.api_url else Configuration()
    if not settings.api_url:
        config.server_variables["site"] = settings.site
    config.api_key["apiKeyAuth"] = settings.api_key
    config.api_key["appKeyAuth"] = settings.app_key
    config.request_timeout = (settings.connect_timeout, settings.read_timeout)
    config.enable_retry = True
    config.max_retries = settings.max_retries
    # The client's own policy has a backoff floor of 2 s; same retry class, configurable factor.
    config.retry_policy = ClientRetry(total=settings.max_retries, backoff_factor=settings.retry_backoff)
    return config


def _explain(exc: ApiException, kind: str, action: str, settings: Settings) -> ProvisioningError:
    status = getattr(exc, "status", None)
    where = settings.api_url or f"api.{settings.site}"
    if isinstance(exc, ForbiddenException) or status == 403:
        text = (
            f"403 Forbidden while trying to {action} the {kind} at {where}. Check that DD_APP_KEY is an "
            f"application key of the same organisation as DD_API_KEY, that its user or scopes allow "
            f"{PERMISSIONS[kind]}, and that --site / DD_SITE is that organisation's site."
        )
    elif isinstance(exc, UnauthorizedException) or status == 401:
        text = (
            f"401 Unauthorized while trying to {action} the {kind} at {where}. "
            "Check DD_API_KEY and DD_APP_KEY, and --site / DD_SITE."
        )
    elif status == 429:
        text = (
            f"429 Too Many Requests while trying to {action} the {kind}, still rate limited after "
            f"{settings.max_retries} retries. Wait a minute and re-run apply: it resumes where it stopped."
        )
    elif status is not None and 400 <= status < 500:
        said = _server_errors(exc)
        text = (
            f"{_status_line(exc)} while trying to {action} the {kind} at {where}"
            f"{f': {said}' if said else ''}. Datadog refused the request itself, so sending it again unchanged "
            "gets the same answer."
        )
        if "past" in said.lower():
            text += " Check this machine's clock: downtimes are anchored a minute after its current time."
    else:
        text = (
            f"{_status_line(exc)} while trying to {action} the {kind} at {where}. "
            f"Re-run the same command: objects already made are found and updated, not duplicated."
        )
    return ProvisioningError(text)


def _server_errors(exc: ApiException, limit: int = 300) -> str:
    """The `errors` list of a Datadog error body (`{"errors": ["..."]}`), on one line; empty if there is none."""
    body = exc.body
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError:
            return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    text = " ".join("; ".join(str(error) for error in errors).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _status_line(exc: ApiException) -> str:
    """`HTTP 502 Bad Gateway`, or `HTTP 502` when the answer's status line has no reason phrase."""
    return f"HTTP {exc.status} {exc.reason or ''}".rstrip()


def _content_type(exc: ApiException) -> str:
    """The answer's Content-Type; the client keeps headers in a plain dict, named as the server spelled them."""
    return next((value for name, value in (exc.headers or {}).items() if name.lower() == "content-type"), "")


def _is_json(exc: ApiException) -> bool:
    return not exc.headers or "json" in _content_type(exc).lower()


def _explain_non_json(exc: ApiException, kind: str, action: str, host: str) -> ProvisioningError:
    content_type = _content_type(exc) or "no type"
    return ProvisioningError(
        f"{_status_line(exc)} from {host} while trying to {action} the {kind}, with a "
        f"{content_type} page instead of the Datadog API's JSON. A proxy, load balancer or web page answered: "
        "check --api-url / --site, or re-run later if it is a gateway error."
    )


def _explain_network(exc: Exception, kind: str, action: str, host: str, settings: Settings) -> ProvisioningError:
    """One or two lines naming the host and the likely cause of a failure to reach or talk to it."""
    reason = getattr(exc, "reason", None) if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
    doing = f"while trying to {action} the {kind}"
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        text = (
            f"cannot resolve the host name {host} {doing}. Check the spelling of --site / DD_SITE or --api-url, "
            "and this machine's DNS and network."
        )
    elif isinstance(reason, urllib3.exceptions.NewConnectionError) and _caused_by(reason, ConnectionRefusedError):
        text = (
            f"{host} refused the connection {doing}: nothing listens on that port. Check --api-url (host and port) "
            "or the proxy in between."
        )
    elif isinstance(reason, urllib3.exceptions.NewConnectionError):
        cause = reason.__cause__ or reason.__context__
        text = (
            f"cannot open a connection to {host} {doing} ({getattr(cause, 'strerror', None) or 'network error'}). "
            "Check this machine's network, firewall and proxy settings."
        )
    elif isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
        text = (
            f"no connection to {host} within the connect timeout of {settings.connect_timeout:g} s {doing}. "
            "A firewall or the network may be dropping traffic; check connectivity or raise --connect-timeout."
        )
    elif isinstance(reason, urllib3.exceptions.ReadTimeoutError):
        text = (
            f"{host} accepted the connection but sent no answer within the read timeout of "
            f"{settings.read_timeout:g} s {doing}. Re-run later, or raise --read-timeout if the link is slow."
        )
    elif isinstance(reason, urllib3.exceptions.SSLError):
        detail = str(reason)
        if "CERTIFICATE_VERIFY_FAILED" in detail:
            cause = (
                "its certificate is not trusted (self-signed, or a TLS-inspecting proxy): check --api-url, "
                "or the proxy's CA"
            )
        elif "WRONG_VERSION_NUMBER" in detail or "record layer" in detail.lower():
            cause = "it does not speak TLS on that port: use an http:// --api-url, or the right port"
        else:
            cause = "check --api-url / --site and any TLS-inspecting proxy"
        text = f"the TLS handshake with {host} failed {doing}: {cause}."
    elif isinstance(reason, (urllib3.exceptions.ProtocolError, ConnectionError)):
        text = (
            f"{host} closed or reset the connection {doing}. A proxy or firewall may be cutting it, or the server "
            "is restarting; re-run the same command (it resumes, nothing is duplicated)."
        )
    else:
        text = f"cannot talk to {host} {doing} ({type(reason).__name__}). Check --api-url / --site and the network."
    return ProvisioningError(text)


def _caused_by(exc: BaseException, kind: type) -> bool:
    return isinstance(exc.__cause__, kind) or isinstance(exc.__context__, kind)


def _explain_unreadable(kind: str, action: str, host: str) -> ProvisioningError:
    return ProvisioningError(
        f"{host} answered the request to {action} the {kind}, but not with the Datadog API's JSON. "
        "It is probably not the Datadog API (a proxy, captive portal or web page): check --api-url / --site."
    )


class Provisioner:
    def __init__(
        self,
        assets: Assets,
        settings: Settings,
        log=print,
        full_scan: bool = False,
        now: Callable[[], datetime] | None = None,
    ):
        self.assets = assets
        self.settings = settings
        self.log = log
        self.full_scan = full_scan
        self.now = now or (lambda: current_time(settings.timezone))
        self.dashboard_id: str | None = None
        self.client = ApiClient(configuration(settings))
        self.host = urlparse(self.client.configuration.host).netloc or self.client.configuration.host
        self.dashboards = DashboardsApi(self.client)
        self.monitors = MonitorsApi(self.client)
        self.downtimes = DowntimesApi(self.client)
        self._deadline_at: float | None = None
        self._current = ("start", "Datadog call")
        self._given_up = threading.Event()

    def close(self):
        self.client.close()

    def within_deadline(self, operation):
        """Run `operation` (e.g. self.apply) and give up after settings.deadline seconds, retries included.

        It runs in a worker thread so that nothing (a slow DNS answer, a retry wait) can hold the command past
        the deadline; once given up, the worker sends no further request.
        """
        self._deadline_at = time.monotonic() + self.settings.deadline
        result: dict = {}

        def work():
            try:
                result["value"] = operation()
            except BaseException as exc:  # handed to the calling thread
                result["error"] = exc

        worker = threading.Thread(target=work, name="my-metric-provision", daemon=True)
        worker.start()
        worker.join(self.settings.deadline)
        if worker.is_alive():
            self._given_up.set()
            raise self._deadline_error()
        if "error" in result:
            raise result["error"]
        return result.get("value")

    def _deadline_error(self) -> ProvisioningError:
        action, kind = self._current
        return ProvisioningError(
            f"gave up after the deadline of {self.settings.deadline:g} s while trying to {action} the {kind} "
            f"at {self.host} (each attempt: connect timeout {self.settings.connect_timeout:g} s, read timeout "
            f"{self.settings.read_timeout:g} s). Re-run when {self.host} answers: nothing is duplicated."
        )

    def _call(self, kind, action, function, *args, **kwargs):
        if self._given_up.is_set():
            raise ProvisioningError(f"stopped before trying to {action} the {kind}: the deadline has passed.")
        self._current = (action, kind)
        if self._deadline_at is not None:
            # An attempt never outlives the deadline; the client reads this before each request.
            left = max(self._deadline_at - time.monotonic(), 0.001)
            connect, read = self.settings.connect_timeout, self.settings.read_timeout
            self.client.configuration.request_timeout = (min(connect, left), min(read, left))
        try:
            return function(*args, **kwargs)
        except ApiException as exc:
            if not exc.status and "SSLError" in str(exc.reason):
                # The client turns a TLS failure it sees first-hand into a status-0 ApiException.
                reason = urllib3.exceptions.SSLError(str(exc.reason))
                raise _explain_network(reason, kind, action, self.host, self.settings) from None
            if exc.status and not _is_json(exc):
                raise _explain_non_json(exc, kind, action, self.host) from None
            raise _explain(exc, kind, action, self.settings) from None
        except (ApiTypeError, ApiValueError):
            raise _explain_unreadable(kind, action, self.host) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if self._deadline_at is not None and time.monotonic() >= self._deadline_at:
                # The attempt was cut short by the deadline, not by its own timeout: say so.
                raise self._deadline_error() from None
            raise _explain_network(exc, kind, action, self.host, self.settings) from None

    def _lookup(self, kind, function, object_id):
        """GET one object by id; None when it no longer exists (404)."""

        def get():
            try:
                return function(object_id)
            except NotFoundException:
                return None

        return self._call(kind, "read", get)

    # ------------------------------------------------------------ finding
    def find_monitors(self) -> list:
        """The managed monitors, by the server-side `monitor_tags` and `name` filters of GET /api/v1/monitor."""
        name = self.assets.monitor["definition"]["name"]
        found = self._call(
            "monitor",
            "list",
            lambda: list(self.monitors.list_monitors_with_pagination(monitor_tags=MANAGED_BY, name=name)),
        )
        managed = [m for m in found if m.get("name") == name and MANAGED_BY in (m.get("tags") or [])]
        return sorted(managed, key=lambda m: m.id)

    def scan_dashboards(self) -> list[str]:
        """Every dashboard of the org, matched by title and marker: only to recover a lost record."""
        title = self.assets.dashboard["title"]
        found = self._call(
            "dashboard", "list", lambda: list(self.dashboards.list_dashboards_with_pagination(filter_deleted=False))
        )
        return [d.id for d in found if d.get("title") == title and MANAGED_BY in (d.get("description") or "")]

    def scan_downtimes(self, monitor_id: int | None) -> dict[str, list[str]]:
        """Every downtime of the org, matched by marker (and monitor): only to recover a lost record."""
        found = self._call(
            "downtime", "list", lambda: list(self.downtimes.list_downtimes_with_pagination(current_only=False))
        )
        result: dict[str, list[str]] = {}
        for item in found:
            if not self._is_managed_downtime(item, monitor_id):
                continue
            for name in self._downtime_names():
                if downtime_marker(name) in (item.attributes.get("message") or ""):
                    result.setdefault(name, []).append(item.id)
        return result

    def _downtime_names(self) -> list[str]:
        return [*self.assets.downtimes, CATCH_UP]

    @staticmethod
    def _is_managed_downtime(item, monitor_id: int | None) -> bool:
        attributes = item.attributes
        identifier = attributes.get("monitor_identifier")
        if identifier is None or (monitor_id is not None and identifier.get("monitor_id") != monitor_id):
            return False
        return str(attributes.get("status") or "") not in INACTIVE_DOWNTIME_STATES and MANAGED_BY in (
            attributes.get("message") or ""
        )

    def _dashboard_id(self, records: Records) -> str | None:
        """The managed dashboard: the id the monitor records (checked by GET), or a scan if a record may be lost."""
        recorded = records.ids.get(DASHBOARD)
        if recorded and DASHBOARD not in records.pending and not records.legacy:
            found = self._lookup("dashboard", self.dashboards.get_dashboard, recorded)
            if found is not None and MANAGED_BY in (found.get("description") or ""):
                return recorded
            return None
        if DASHBOARD in records.pending or records.legacy:
            ids = self.scan_dashboards()
            self._warn_duplicates("dashboard", ids)
            return ids[0] if ids else None
        return None

    def _downtime_ids(self, records: Records, monitor_id: int) -> dict[str, str]:
        result = {}
        scanned = None
        for name in self._downtime_names():
            key = downtime_key(name)
            recorded = records.ids.get(key)
            if recorded and key not in records.pending and not records.legacy:
                found = self._lookup("downtime", self.downtimes.get_downtime, recorded)
                if found is not None and self._is_managed_downtime(found.data, monitor_id):
                    result[name] = recorded
            elif key in records.pending or records.legacy:
                if scanned is None:
                    scanned = self.scan_downtimes(monitor_id)
                ids = scanned.get(name, [])
                self._warn_duplicates(f"downtime {name}", ids)
                if ids:
                    result[name] = ids[0]
        return result

    # ------------------------------------------------------------ records on the monitor
    def _save_records(self, monitor_id: int, records: Records, base_tags: list[str]):
        tags = sorted(set(base_tags) | set(records.tags()))
        if tags != records.saved:
            self._call(
                "monitor",
                "update",
                self.monitors.update_monitor,
                monitor_id,
                to_model({"tags": tags}, MonitorUpdateRequest),
            )
            records.saved = tags

    def _create_recorded(self, key, monitor_id, records, base_tags, create):
        """Say on the monitor that `key` is being created, create it, record its id (saved with the next step)."""
        records.pending.add(key)
        self._save_records(monitor_id, records, base_tags)
        object_id = create()
        records.ids[key] = object_id
        records.pending.discard(key)
        return object_id

    # ------------------------------------------------------------ apply
    def apply(self) -> dict:
        summary = {}
        payload = monitor_payload(self.assets, self.settings)
        base_tags = payload["tags"]
        existing = self.find_monitors()
        if existing:
            monitor = existing[0]
            monitor_id = monitor.id
            records = Records.from_tags(monitor.get("tags") or [])
            if self.full_scan:
                records.legacy = True
            update = {k: v for k, v in payload.items() if k in MonitorUpdateRequest.attribute_map.values()}
            update["tags"] = sorted(set(base_tags) | set(records.tags()))
            self._call(
                "monitor", "update", self.monitors.update_monitor, monitor_id, to_model(update, MonitorUpdateRequest)
            )
            records.saved = update["tags"]
            summary["monitor"] = ("updated", monitor_id)
            self._warn_duplicates("monitor", [m.id for m in existing])
        else:
            records = Records()
            if self.full_scan:
                records.legacy = True
            payload["tags"] = sorted(set(base_tags) | set(records.tags()))
            monitor_id = self._call("monitor", "create", self.monitors.create_monitor, to_model(payload, Monitor)).id
            records.saved = payload["tags"]
            summary["monitor"] = ("created", monitor_id)

        body = to_model(dashboard_payload(self.assets), Dashboard)
        dashboard_id = self._dashboard_id(records)
        if dashboard_id:
            self._call("dashboard", "update", self.dashboards.update_dashboard, dashboard_id, body)
            records.ids[DASHBOARD] = dashboard_id
            records.pending.discard(DASHBOARD)
            summary["dashboard"] = ("updated", dashboard_id)
        else:
            dashboard_id = self._create_recorded(
                DASHBOARD,
                monitor_id,
                records,
                base_tags,
                lambda: self._call("dashboard", "create", self.dashboards.create_dashboard, body).id,
            )
            summary["dashboard"] = ("created", dashboard_id)
        self.dashboard_id = dashboard_id

        existing_downtimes = self._downtime_ids(records, monitor_id)
        for name, payload in self._downtime_payloads(monitor_id):
            key = downtime_key(name)
            downtime_id = existing_downtimes.get(name)
            if payload is None:  # a catch-up downtime no longer needed
                if downtime_id:
                    self._call("downtime", "cancel", self.downtimes.cancel_downtime, downtime_id)
                    summary[f"downtime {name}"] = ("canceled", downtime_id)
                records.ids.pop(key, None)
                records.pending.discard(key)
                continue
            if downtime_id:
                update = {"data": {"type": "downtime", "id": downtime_id, "attributes": payload["data"]["attributes"]}}
                self._call(
                    "downtime",
                    "update",
                    self.downtimes.update_downtime,
                    downtime_id,
                    to_model(update, DowntimeUpdateRequest),
                )
                records.ids[key] = downtime_id
                records.pending.discard(key)
                summary[f"downtime {name}"] = ("updated", downtime_id)
            else:
                request = to_model(payload, DowntimeCreateRequest)
                downtime_id = self._create_recorded(
                    key,
                    monitor_id,
                    records,
                    base_tags,
                    lambda request=request: self._call(
                        "downtime", "create", self.downtimes.create_downtime, request
                    ).data.id,
                )
                summary[f"downtime {name}"] = ("created", downtime_id)
        records.legacy = False
        self._save_records(monitor_id, records, base_tags)
        return summary

    def _downtime_payloads(self, monitor_id):
        """(name, payload) for each stored downtime; the catch-up downtime's payload is None when not needed."""
        now = self.now()
        for name, template in self.assets.downtimes.items():
            yield name, downtime_payload(name, template, monitor_id, self.settings, now)
        template = next(iter(self.assets.downtimes.values()), None)
        yield CATCH_UP, catch_up_payload(template, monitor_id, self.settings, now)

    def _warn_duplicates(self, kind, ids):
        if len(ids) > 1:
            self.log(
                f"warning: {len(ids)} {kind} objects carry the provisioning marker; kept {ids[0]}, "
                f"left {', '.join(map(str, ids[1:]))} (remove them with destroy --full-scan, then apply)."
            )

    # ------------------------------------------------------------ destroy
    def destroy(self) -> dict:
        """Cancel the recorded downtimes, delete the recorded dashboard, then the monitor that holds the records."""
        summary = {}
        monitors = self.find_monitors()
        for monitor in monitors:
            records = Records.from_tags(monitor.get("tags") or [])
            if self.full_scan:
                records.legacy = True
            for name, downtime_id in self._downtime_ids(records, monitor.id).items():
                self._call("downtime", "cancel", self.downtimes.cancel_downtime, downtime_id)
                summary[f"downtime {name} {downtime_id}"] = ("canceled", downtime_id)
            dashboard_id = self._dashboard_id(records)
            if dashboard_id:
                self._delete_dashboard(dashboard_id, summary)
            self._call("monitor", "delete", self.monitors.delete_monitor, monitor.id)
            summary[f"monitor {monitor.id}"] = ("deleted", monitor.id)
        if not monitors and self.full_scan:
            for name, ids in self.scan_downtimes(None).items():
                for downtime_id in ids:
                    self._call("downtime", "cancel", self.downtimes.cancel_downtime, downtime_id)
                    summary[f"downtime {name} {downtime_id}"] = ("canceled", downtime_id)
            for dashboard_id in self.scan_dashboards():
                self._delete_dashboard(dashboard_id, summary)
        return summary

    def _delete_dashboard(self, dashboard_id, summary):
        def delete():
            try:
                self.dashboards.delete_dashboard(dashboard_id)
            except NotFoundException:
                pass

        self._call("dashboard", "delete", delete)
        summary[f"dashboard {dashboard_id}"] = ("deleted", dashboard_id)


def dumps(payload) -> str:
    return json.dumps(payload, indent=2, sort_keys=False)
