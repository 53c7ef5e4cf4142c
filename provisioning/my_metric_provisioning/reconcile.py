"""`plan`, `apply` and `destroy`: one loop over the monitor, the dashboard and the downtimes (README: "What `apply`
does"). Identity: the monitor tagged MANAGED_BY, found by the server-side `monitor_tags` filter whatever its name,
records on itself the ids of the dashboard and downtimes apply made; each is used only while it carries its marker.
Reading the org costs one monitor listing and one GET per other object, whatever the org holds. A create is never
retried blindly: after an answer that may hide one (5xx, timeout, reset) the object is looked up by its marker and
adopted.
"""

import contextlib
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from time import sleep

from datadog_api_client.v1.api.dashboards_api import DashboardsApi
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_update_request import MonitorUpdateRequest
from datadog_api_client.v2.api.downtimes_api import DowntimesApi
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest
from datadog_api_client.v2.model.downtime_update_request import DowntimeUpdateRequest

from my_metric_provisioning.assets import Assets
from my_metric_provisioning.downtimes import next_start
from my_metric_provisioning.provision import MANAGED_BY, ProvisioningError, desired_payloads, downtime_marker
from my_metric_provisioning.strict import to_model

RECORD_PREFIX = "my-metric-provision-"
STALE_AFTER = 120  # seconds after which a `creating` tag is a run that died, not one still working
POLL_SECONDS = 0.5
UNLISTED_TRIES = 20  # polls for a monitor just created to appear in the filtered listing
PAGE = 100
INACTIVE_DOWNTIME_STATES = {"canceled", "ended"}
LOCK = f"{RECORD_PREFIX}creating:"  # the monitor's tag while a run creates objects: `<LOCK><run>-<unix time>`
_ABSENT = object()


# ---------------------------------------------------------------- comparing
@dataclass(frozen=True)
class Difference:
    path: str
    live: object
    sent: object


def describe(difference: Difference) -> str:
    """`path: live -> to send`, each value as JSON cut to 200 characters, `(absent)` for a missing one."""
    shown = ["(absent)" if v is _ABSENT else json.dumps(v, sort_keys=True) for v in (difference.live, difference.sent)]
    live, sent = (text if len(text) <= 200 else text[:197] + "..." for text in shown)
    return f"{difference.path}: {live} -> {sent}"


def differences(sent, live, path: str = "$") -> list[Difference]:
    """Where `live` differs from `sent`, looking only at what `sent` holds."""
    if isinstance(sent, dict):
        if not isinstance(live, dict):
            return [Difference(path, live, sent)]
        return [d for key, value in sent.items() for d in differences(value, live.get(key, _ABSENT), f"{path}.{key}")]
    if live is _ABSENT and sent in (None, []):  # the API leaves out what is empty
        return []
    if isinstance(sent, list) and isinstance(live, list):
        if path.endswith(".tags"):
            same = sorted(map(str, sent)) == sorted(map(str, live))
            return [] if same else [Difference(path, live, sent)]
        if len(sent) == len(live):
            return [
                d for i, (s, v) in enumerate(zip(sent, live, strict=True)) for d in differences(s, v, f"{path}[{i}]")
            ]
        return [Difference(path, live, sent)]
    if isinstance(sent, bool) != isinstance(live, bool) or sent != live:
        return [Difference(path, live, sent)]
    return []


def same_recurrence_starts(sent: dict, live: dict) -> dict:
    """`sent` (downtime attributes) with each recurrence start that the live rule also reaches set to the live
    start: apply moves starts to the next occurrence, so a start a week later is the same recurrence."""
    live_items = ((live.get("schedule") or {}).get("recurrences")) or []
    sent_items = ((sent.get("schedule") or {}).get("recurrences")) or []
    if len(live_items) != len(sent_items):
        return sent
    items = []
    for ours, theirs in zip(sent_items, live_items, strict=True):
        ours = dict(ours)
        try:
            start = datetime.fromisoformat(ours["start"])
            reached = next_start(theirs["start"], ours["rrule"], start) == start.isoformat(timespec="seconds")
        except (KeyError, TypeError, ValueError):
            reached = False
        if reached and theirs.get("rrule") == ours["rrule"]:
            ours["start"] = theirs["start"]
        items.append(ours)
    return {**sent, "schedule": {**sent["schedule"], "recurrences": items}}


@dataclass
class Change:
    kind: str  # "monitor", "dashboard", "downtime <name>"
    action: str  # create, missing, update, cancel, unchanged; adopt: apply found it made after all
    object_id: object = None
    sent: dict | None = None
    differences: list[Difference] = field(default_factory=list)


def compare(kind: str, sent: dict | None, live: dict | None, object_id) -> Change | None:
    if sent is None:
        return Change(kind, "cancel", object_id) if live is not None else None
    if live is None:
        return Change(kind, "missing" if object_id else "create", object_id, sent)
    if kind.startswith("downtime"):
        attributes, live_attributes = sent["data"]["attributes"], live.get("attributes") or {}
        found = differences(same_recurrence_starts(attributes, live_attributes), live_attributes, "$.data.attributes")
    else:
        found = differences(sent, live)
    return Change(kind, "update" if found else "unchanged", object_id, sent, found)


# ---------------------------------------------------------------- records on the monitor
def records_of(tags) -> dict[str, str]:
    """{record key: id} from the monitor's `my-metric-provision-<key>:<id>` tags."""
    ours = (t.removeprefix(RECORD_PREFIX) for t in tags or [] if t.startswith(RECORD_PREFIX) and not t.startswith(LOCK))
    return {key: value for key, _, value in (tag.partition(":") for tag in ours) if value}


def record_tags(records: dict[str, str]) -> list[str]:
    return [f"{RECORD_PREFIX}{key}:{value}" for key, value in sorted(records.items())]


def lock_tag(run: str) -> str:
    return f"{LOCK}{run}-{int(time.time())}"


def foreign_lock(tags, run: str) -> str | None:
    """The run id of another apply creating objects right now, from the monitor's `creating` tag."""
    for tag in tags or []:
        if tag.startswith(LOCK):
            owner, _, started = tag.rpartition(":")[2].rpartition("-")
            fresh = started.isdigit() and time.time() - int(started) < STALE_AFTER
            if owner != run and fresh:
                return owner
    return None


def _is_ours(downtime: dict, kind: str, monitor_id) -> bool:
    """A downtime apply made as `kind` ("downtime <name>") for that monitor, still active."""
    attributes = downtime.get("attributes") or {}
    linked = (attributes.get("monitor_identifier") or {}).get("monitor_id")
    return (
        linked == monitor_id
        and str(attributes.get("status") or "") not in INACTIVE_DOWNTIME_STATES
        and downtime_marker(kind.removeprefix("downtime ")) in (attributes.get("message") or "")
    )


# ---------------------------------------------------------------- the loop
class Reconciler:
    def __init__(self, provisioner, assets: Assets | None, show=None):
        self.provisioner = provisioner
        self.show = show or (lambda change: None)
        self.call = provisioner.call
        self.log = provisioner.log
        self.assets = assets
        self.settings = provisioner.settings
        self.run = uuid.uuid4().hex[:12]
        self.monitors = MonitorsApi(provisioner.client)
        self.dashboards = DashboardsApi(provisioner.client)
        self.downtimes = DowntimesApi(provisioner.client)

    # ------------------------------------------------------------ reading
    def _listed(self, kind: str, function, key, offset: str, limit: str, step=PAGE, **filters):
        """Every item of a paged listing (under `key` of each answer), read as they are used: page n asks for
        `limit`=PAGE items from `offset`=n * step."""
        for number in itertools.count():
            answer = self.call(kind, "list", function, **filters, **{offset: number * step, limit: PAGE})
            page = answer[key] if key else answer
            yield from page
            if len(page) < PAGE:
                return

    def managed_monitors(self) -> list[dict]:
        found = self._listed(
            "monitor", self.monitors.list_monitors, None, "page", "page_size", 1, monitor_tags=MANAGED_BY
        )
        return sorted((m for m in found if MANAGED_BY in (m.get("tags") or [])), key=lambda m: m["id"])

    def live(self, kind: str, object_id, monitor_id) -> dict | None:
        """The object of that id while it carries its marker (a downtime: also linked to the monitor, active)."""
        if kind == "dashboard":
            found = self.call("dashboard", "read", self.dashboards.get_dashboard, object_id, missing_ok=True)
            return found if found and MANAGED_BY in (found.get("description") or "") else None
        found = self.call("downtime", "read", self.downtimes.get_downtime, object_id, missing_ok=True)
        return found["data"] if found and _is_ours(found["data"], kind, monitor_id) else None

    def scan(self, kind: str, monitor_id, known) -> str | None:
        """A marked object of `kind` no record knows, found by listing the org: only after a create that may
        have been made although its answer was lost, or left by a run that died while creating."""
        if kind == "dashboard":
            items = self._listed(kind, self.dashboards.list_dashboards, "dashboards", "start", "count")
            ours = (item for item in items if MANAGED_BY in (item.get("description") or ""))
        else:
            items = self._listed("downtime", self.downtimes.list_downtimes, "data", "page_offset", "page_limit")
            ours = (item for item in items if _is_ours(item, kind, monitor_id))
        return next((item["id"] for item in ours if item["id"] not in known), None)

    def changes(self, monitor: dict | None) -> list[Change]:
        """What apply would do, object by object, against the org as it is now."""
        monitor_id = monitor and monitor["id"]
        records = records_of(monitor["tags"]) if monitor else {}
        sent = desired_payloads(self.assets, self.settings, monitor_id)
        changes = []
        for kind, payload in sent.items():
            if kind == "monitor":
                object_id = monitor and monitor["id"]
                live = monitor and {**monitor, "tags": [t for t in monitor["tags"] if not t.startswith(RECORD_PREFIX)]}
            else:
                object_id = records.get(kind.replace(" ", "-"))
                live = self.live(kind, object_id, monitor_id) if object_id else None
            change = compare(kind, payload, live, object_id)
            if change:
                changes.append(change)
        return changes

    def plan(self) -> list[Change]:
        monitors = self.managed_monitors()
        return self.changes(monitors[0] if monitors else None)

    # ------------------------------------------------------------ apply
    def apply(self) -> list[Change]:
        """Write only what differs; returns the changes made (with the new ids of created objects)."""
        while True:
            monitor, made_it = self._settled_monitor()
            changes = self.changes(monitor)
            # a `creating` tag left by a run that died: what it made may be unrecorded, so look before creating
            stale = not made_it and any(t.startswith(LOCK) for t in monitor["tags"])
            creates = any(change.action in ("create", "missing") for change in changes)
            if made_it or not creates or self._took_lock(monitor):
                break
        if made_it:
            changes[0].action = "create"
        for change in changes:
            if change.action != "unchanged":
                self.show(change)
        records = records_of(monitor["tags"])
        try:
            for change in changes[1:]:
                self._carry_out(change, monitor["id"], records, look_first=stale)
        except Exception:
            if made_it or creates:  # let the next run start at once instead of waiting for the tag to go stale
                self._release(monitor, records)
            raise
        tags = sorted({*changes[0].sent["tags"], *record_tags(records)})
        if changes[0].action == "update" or tags != sorted(monitor["tags"]):
            self._write_monitor(monitor, changes[0].sent, tags)
        return changes

    def _took_lock(self, monitor) -> bool:
        """Tags the monitor as creating objects, then reads it back: the monitor API has no compare-and-set, so of
        two runs that tag it at the same moment the last write wins, and the other run waits for that one."""
        self._write_monitor(monitor, None, [*monitor["tags"], lock_tag(self.run)])
        sleep(POLL_SECONDS)  # past the deadline, the command has already returned
        monitor["tags"] = self.call("monitor", "read", self.monitors.get_monitor, monitor["id"])["tags"]
        return self._mine(monitor["tags"])

    def _mine(self, tags) -> bool:
        return any(tag.startswith(f"{LOCK}{self.run}-") for tag in tags)

    def _release(self, monitor, records):
        with contextlib.suppress(ProvisioningError):  # the error being raised already says what went wrong
            tags = {t for t in monitor["tags"] if not t.startswith(RECORD_PREFIX)} | set(record_tags(records))
            self._write_monitor(monitor, None, sorted(tags))

    def _write_monitor(self, monitor, sent, tags):
        updatable = MonitorUpdateRequest.attribute_map.values()
        body = {**{k: v for k, v in (sent or {}).items() if k in updatable}, "tags": tags}
        self.call(
            "monitor", "update", self.monitors.update_monitor, monitor["id"], to_model(body, MonitorUpdateRequest)
        )

    def _carry_out(self, change: Change, monitor_id, records: dict, look_first: bool):
        key = change.kind.replace(" ", "-")  # the record of "downtime weekend" is "downtime-weekend"
        if change.action == "update" and change.kind == "dashboard":
            body = to_model(change.sent, Dashboard)
            self.call("dashboard", "update", self.dashboards.update_dashboard, change.object_id, body)
        elif change.action == "update":
            update = {"data": {"id": change.object_id, **change.sent["data"]}}
            body = to_model(update, DowntimeUpdateRequest)
            self.call("downtime", "update", self.downtimes.update_downtime, change.object_id, body)
        elif change.action == "cancel":
            self.call("downtime", "cancel", self.downtimes.cancel_downtime, change.object_id, missing_ok=True)
            records.pop(key, None)
        elif change.action in ("create", "missing"):
            records[key] = change.object_id = self._create(change, monitor_id, set(records.values()), look_first)

    def _create(self, change: Change, monitor_id, known, look_first: bool):
        """The new object's id; or the id of the one found by its marker, adopted: made by a run that died before
        recording it (`look_first`), or by this create although its answer was an error."""
        found = self.scan(change.kind, monitor_id, known) if look_first else None
        if not found:
            if change.kind == "dashboard":
                create, body = self.dashboards.create_dashboard, to_model(change.sent, Dashboard)
            else:
                create, body = self.downtimes.create_downtime, to_model(change.sent, DowntimeCreateRequest)
            try:
                answer = self.call(change.kind.split()[0], "create", create, body)
                return answer["id"] if change.kind == "dashboard" else answer["data"]["id"]
            except ProvisioningError as error:
                found = error.maybe_sent and self.scan(change.kind, monitor_id, known)
                if not found:
                    raise
        change.action = "adopt"
        self.log(f"adopted {change.kind} {found}: made by an apply whose answer was lost")
        return found

    def _settled_monitor(self) -> tuple[dict, bool]:
        """The managed monitor, once no other run is creating objects; True if this run made it. A run creates at
        most one monitor: if the filtered listing does not show it (yet), it waits a little, then stops."""
        waited_for, created, unlisted = None, False, 0
        while True:
            monitors = self.managed_monitors()
            if not monitors and not created:
                self._create_monitor()
                created = True
                continue
            if not monitors:
                unlisted += 1
                if unlisted > UNLISTED_TRIES:
                    waited = f"{self.provisioner.host} after {UNLISTED_TRIES * POLL_SECONDS:g} s"
                    raise ProvisioningError(f"the monitor this run created is not in the monitor_tags listing of "
                                            f"{waited}. Re-run in a minute: the next run finds it.")  # fmt: skip
                sleep(POLL_SECONDS)
                continue
            if created and unlisted >= 0:
                unlisted = -1  # the race is settled once, right after the create
                for other in monitors[1:]:
                    self.call("monitor", "delete", self.monitors.delete_monitor, other["id"], missing_ok=True)
                    self.log(f"deleted monitor {other['id']}: a second apply made one at the same moment")
                if self._mine(monitors[0]["tags"]):
                    return monitors[0], True
            monitor = monitors[0]
            owner = foreign_lock(monitor["tags"], self.run)
            if owner is None:
                return monitor, False
            if owner != waited_for:
                self.log(f"waiting: another apply ({owner}) is creating objects on monitor {monitor['id']}")
                waited_for = owner
            sleep(POLL_SECONDS)

    def _create_monitor(self):
        sent = desired_payloads(self.assets, self.settings, None)["monitor"]
        body = to_model({**sent, "tags": sorted([*sent["tags"], lock_tag(self.run)])}, Monitor)
        try:
            self.call("monitor", "create", self.monitors.create_monitor, body)
        except ProvisioningError as error:
            if not (error.maybe_sent and any(self._mine(m["tags"]) for m in self.managed_monitors())):
                raise
            self.log("the monitor was made although Datadog's answer was an error: using it")

    # ------------------------------------------------------------ destroy
    def destroy(self) -> list[Change]:
        """Cancel the recorded downtimes and delete the recorded dashboard, then the monitor that holds the records."""
        done = []
        for monitor in self.managed_monitors():
            for key, object_id in records_of(monitor["tags"]).items():
                kind = key.replace("-", " ", 1)
                if self.live(kind, object_id, monitor["id"]) is None:
                    continue
                if kind == "dashboard":
                    self.call("dashboard", "delete", self.dashboards.delete_dashboard, object_id, missing_ok=True)
                else:
                    self.call("downtime", "cancel", self.downtimes.cancel_downtime, object_id, missing_ok=True)
                done.append(Change(kind, "deleted" if kind == "dashboard" else "canceled", object_id))
            self.call("monitor", "delete", self.monitors.delete_monitor, monitor["id"], missing_ok=True)
            done.append(Change("monitor", "deleted", monitor["id"]))
        return done
