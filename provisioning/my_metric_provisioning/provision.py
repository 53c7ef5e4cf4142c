"""Create, update and remove the my_metric objects in a Datadog organisation.

Identity, so that a second apply updates instead of creating:
- dashboard: same title and `[MANAGED_BY]` in its description;
- monitor: the tag MANAGED_BY and the asset's name;
- downtimes: linked to that monitor's id, not canceled/ended, message holding `[MANAGED_BY:<name>]`.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from datetime import datetime
from urllib.parse import urlparse

import urllib3.exceptions
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import (
    ApiException,
    ApiTypeError,
    ApiValueError,
    ForbiddenException,
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
from my_metric_provisioning.downtimes import rebase_start, zone
from my_metric_provisioning.settings import Settings
from my_metric_provisioning.strict import to_model

# Marks what apply made: the monitor's tag, and a bracketed marker in the dashboard and downtime texts.
MANAGED_BY = "managed-by:my-metric-provision"
INACTIVE_DOWNTIME_STATES = {"canceled", "ended"}
PERMISSIONS = {
    "dashboard": "dashboards_read and dashboards_write",
    "monitor": "monitors_read and monitors_write",
    "downtime": "monitors_downtime",
}


class ProvisioningError(Exception):
    """A Datadog call failed; the message says what to check. Never contains key material."""


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


def downtime_payload(name: str, template: dict, monitor_id, settings: Settings, now: datetime | None = None) -> dict:
    payload = copy.deepcopy(template)
    attributes = payload["data"]["attributes"]
    attributes["message"] = f"{attributes.get('message', '')} {settings.notify} {downtime_marker(name)}".strip()
    attributes["monitor_identifier"] = {"monitor_id": monitor_id}
    attributes["display_timezone"] = settings.timezone
    schedule = attributes["schedule"]
    schedule["timezone"] = settings.timezone
    now_local = (now or datetime.now(zone(settings.timezone))).replace(tzinfo=None)
    for item in schedule["recurrences"]:
        item["start"] = rebase_start(item["start"], now_local)
    return payload


def plan(assets: Assets, settings: Settings) -> list[tuple[str, dict]]:
    """Payloads apply would send, in order; downtimes point at the monitor apply finds or creates."""
    steps = [("dashboard", dashboard_payload(assets)), ("monitor", monitor_payload(assets, settings))]
    for name, template in assets.downtimes.items():
        steps.append((f"downtime {name}", downtime_payload(name, template, "<id of the monitor above>", settings)))
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
    else:
        text = (
            f"HTTP {status} {getattr(exc, 'reason', '')} while trying to {action} the {kind} at {where}. "
            f"Re-run the same command: objects already made are found and updated, not duplicated."
        )
    return ProvisioningError(text)


def _is_json(exc: ApiException) -> bool:
    content_type = (exc.headers or {}).get("Content-Type") or (exc.headers or {}).get("content-type") or ""
    return not exc.headers or "json" in content_type.lower()


def _explain_non_json(exc: ApiException, kind: str, action: str, host: str) -> ProvisioningError:
    content_type = (exc.headers or {}).get("Content-Type") or (exc.headers or {}).get("content-type") or "no type"
    return ProvisioningError(
        f"HTTP {exc.status} {exc.reason or ''} from {host} while trying to {action} the {kind}, with a "
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
    def __init__(self, assets: Assets, settings: Settings, log=print):
        self.assets = assets
        self.settings = settings
        self.log = log
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

    # finding existing objects
    def find_dashboards(self) -> list[str]:
        title = self.assets.dashboard["title"]
        found = self._call(
            "dashboard", "list", lambda: list(self.dashboards.list_dashboards_with_pagination(filter_deleted=False))
        )
        return [d.id for d in found if d.get("title") == title and MANAGED_BY in (d.get("description") or "")]

    def find_monitors(self) -> list[int]:
        name = self.assets.monitor["definition"]["name"]
        found = self._call(
            "monitor", "list", lambda: list(self.monitors.list_monitors_with_pagination(monitor_tags=MANAGED_BY))
        )
        return sorted(m.id for m in found if m.get("name") == name and MANAGED_BY in (m.get("tags") or []))

    def find_downtimes(self, monitor_id: int, name: str | None = None) -> dict[str, list[str]]:
        found = self._call(
            "downtime", "list", lambda: list(self.downtimes.list_downtimes_with_pagination(current_only=False))
        )
        result: dict[str, list[str]] = {}
        for item in found:
            attributes = item.attributes
            identifier = attributes.get("monitor_identifier")
            status = str(attributes.get("status") or "")
            if identifier is None or identifier.get("monitor_id") != monitor_id or status in INACTIVE_DOWNTIME_STATES:
                continue
            for downtime_name in self.assets.downtimes:
                if downtime_marker(downtime_name) in (attributes.get("message") or ""):
                    result.setdefault(downtime_name, []).append(item.id)
        return result

    # apply
    def apply(self) -> dict:
        summary = {}
        payload = dashboard_payload(self.assets)
        existing = self.find_dashboards()
        body = to_model(payload, Dashboard)
        if existing:
            self._call("dashboard", "update", self.dashboards.update_dashboard, existing[0], body)
            summary["dashboard"] = ("updated", existing[0])
        else:
            created = self._call("dashboard", "create", self.dashboards.create_dashboard, body)
            summary["dashboard"] = ("created", created.id)
        self._warn_duplicates("dashboard", existing)

        payload = monitor_payload(self.assets, self.settings)
        existing = self.find_monitors()
        if existing:
            update = {k: v for k, v in payload.items() if k in MonitorUpdateRequest.attribute_map.values()}
            self._call(
                "monitor", "update", self.monitors.update_monitor, existing[0], to_model(update, MonitorUpdateRequest)
            )
            monitor_id = existing[0]
            summary["monitor"] = ("updated", monitor_id)
        else:
            monitor_id = self._call("monitor", "create", self.monitors.create_monitor, to_model(payload, Monitor)).id
            summary["monitor"] = ("created", monitor_id)
        self._warn_duplicates("monitor", existing)

        existing_downtimes = self.find_downtimes(monitor_id)
        for name, template in self.assets.downtimes.items():
            payload = downtime_payload(name, template, monitor_id, self.settings)
            ids = existing_downtimes.get(name, [])
            if ids:
                update = {"data": {"type": "downtime", "id": ids[0], "attributes": payload["data"]["attributes"]}}
                self._call(
                    "downtime",
                    "update",
                    self.downtimes.update_downtime,
                    ids[0],
                    to_model(update, DowntimeUpdateRequest),
                )
                summary[f"downtime {name}"] = ("updated", ids[0])
            else:
                created = self._call(
                    "downtime", "create", self.downtimes.create_downtime, to_model(payload, DowntimeCreateRequest)
                )
                summary[f"downtime {name}"] = ("created", created.data.id)
            self._warn_duplicates(f"downtime {name}", ids)
        return summary

    def _warn_duplicates(self, kind, ids):
        if len(ids) > 1:
            self.log(
                f"warning: {len(ids)} {kind} objects carry the provisioning marker; updated {ids[0]}, "
                f"left {', '.join(map(str, ids[1:]))} (remove them with destroy, then apply)."
            )

    # destroy
    def destroy(self) -> dict:
        summary = {}
        monitor_ids = self.find_monitors()
        for monitor_id in monitor_ids:
            for name, ids in self.find_downtimes(monitor_id).items():
                for downtime_id in ids:
                    self._call("downtime", "cancel", self.downtimes.cancel_downtime, downtime_id)
                    summary[f"downtime {name} {downtime_id}"] = ("canceled", downtime_id)
            self._call("monitor", "delete", self.monitors.delete_monitor, monitor_id)
            summary[f"monitor {monitor_id}"] = ("deleted", monitor_id)
        for dashboard_id in self.find_dashboards():
            self._call("dashboard", "delete", self.dashboards.delete_dashboard, dashboard_id)
            summary[f"dashboard {dashboard_id}"] = ("deleted", dashboard_id)
        return summary


def dumps(payload) -> str:
    return json.dumps(payload, indent=2, sort_keys=False)
