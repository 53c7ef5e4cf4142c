"""Create, update and remove the my_metric objects in a Datadog organisation.

Identity, so that a second apply updates instead of creating:
- dashboard: same title and `[MANAGED_BY]` in its description;
- monitor: the tag MANAGED_BY and the asset's name;
- downtimes: linked to that monitor's id, not canceled/ended, message holding `[MANAGED_BY:<name>]`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime

from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException, ForbiddenException, UnauthorizedException
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


@dataclass
class Settings:
    notify: str
    timezone: str
    site: str = "datadoghq.com"
    api_url: str | None = None
    max_retries: int = 3
    retry_backoff: float = 2.0
    api_key: str = field(default="", repr=False)
    app_key: str = field(default="", repr=False)


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


class Provisioner:
    def __init__(self, assets: Assets, settings: Settings, log=print):
        self.assets = assets
        self.settings = settings
        self.log = log
        self.client = ApiClient(configuration(settings))
        self.dashboards = DashboardsApi(self.client)
        self.monitors = MonitorsApi(self.client)
        self.downtimes = DowntimesApi(self.client)

    def close(self):
        self.client.close()

    def _call(self, kind, action, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ApiException as exc:
            raise _explain(exc, kind, action, self.settings) from None

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
