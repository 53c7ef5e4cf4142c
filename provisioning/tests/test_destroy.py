"""destroy: what it removes and the line it prints for each object, for a monitor with records, one made before
records existed, records that lost an object (--full-scan) and no monitor at all (--full-scan); a refused
call names the object and the action."""

import pytest
from common import apply, destroy
from my_metric_provisioning.provision import RECORD_PREFIX, RECORDS_TAG, downtime_key, downtime_marker

pytestmark = pytest.mark.usefixtures("fake_keys")


def made_by_apply(fake, names):
    """(monitor id, dashboard id, {downtime name: id}) of the one apply that ran against `fake`."""
    [monitor_id] = fake.monitors
    [dashboard_id] = fake.dashboards
    downtimes = {
        name: d["id"]
        for name in names
        for d in fake.active_downtimes()
        if downtime_marker(name) in d["attributes"]["message"]
    }
    assert list(downtimes) == list(names)
    return monitor_id, dashboard_id, downtimes


def report(dashboard_id, downtimes, monitor_id=None):
    """The lines destroy prints, in the order it works: downtimes, dashboard, then the monitor."""
    lines = [f"canceled downtime {name} {downtime_id} (id {downtime_id})" for name, downtime_id in downtimes.items()]
    lines.append(f"deleted  dashboard {dashboard_id} (id {dashboard_id})")
    if monitor_id is not None:
        lines.append(f"deleted  monitor {monitor_id} (id {monitor_id})")
    return lines


def removed(out):
    """What destroy printed after validating the assets."""
    validated, *lines = out.splitlines()
    assert validated.startswith("OK: "), out
    return lines


def assert_all_removed(fake):
    assert fake.dashboards == {} and fake.monitors == {} and fake.active_downtimes() == []


def test_destroy_prints_a_line_for_each_object_it_removed(fake, real_assets):
    assert apply(fake)[0] == 0
    monitor_id, dashboard_id, downtimes = made_by_apply(fake, real_assets.downtimes)
    code, out = destroy(fake)
    assert code == 0, out
    assert removed(out) == report(dashboard_id, downtimes, monitor_id)
    assert_all_removed(fake)


def drop_tags(fake, monitor_id, dropped):
    monitor = fake.monitors[monitor_id]
    monitor["tags"] = [tag for tag in monitor["tags"] if not dropped(tag)]


def test_a_monitor_made_before_records_existed_is_destroyed_with_what_it_made(fake, real_assets):
    assert apply(fake)[0] == 0
    monitor_id, dashboard_id, downtimes = made_by_apply(fake, real_assets.downtimes)
    drop_tags(fake, monitor_id, lambda tag: tag.startswith(RECORD_PREFIX))  # what an older version left
    code, out = destroy(fake)
    assert code == 0, out
    assert removed(out) == report(dashboard_id, downtimes, monitor_id)
    assert_all_removed(fake)


def test_full_scan_also_removes_what_the_records_lost(fake, real_assets):
    assert apply(fake)[0] == 0
    monitor_id, dashboard_id, downtimes = made_by_apply(fake, real_assets.downtimes)
    lost = {f"{RECORD_PREFIX}dashboard:{dashboard_id}"} | {
        f"{RECORD_PREFIX}{downtime_key(name)}:{downtime_id}" for name, downtime_id in downtimes.items()
    }
    drop_tags(fake, monitor_id, lambda tag: tag in lost)
    assert RECORDS_TAG in fake.monitors[monitor_id]["tags"]
    code, out = destroy(fake, "--full-scan")
    assert code == 0, out
    assert removed(out) == report(dashboard_id, downtimes, monitor_id)
    assert_all_removed(fake)


def test_full_scan_without_the_monitor_removes_the_marked_downtimes_and_dashboard(fake, real_assets):
    assert apply(fake)[0] == 0
    monitor_id, dashboard_id, downtimes = made_by_apply(fake, real_assets.downtimes)
    del fake.monitors[monitor_id]  # deleted by hand: nothing records the rest any more
    code, out = destroy(fake)
    assert code == 0 and removed(out) == ["nothing to do: no object carries the provisioning marker."]
    code, out = destroy(fake, "--full-scan")
    assert code == 0, out
    assert removed(out) == report(dashboard_id, downtimes)
    assert_all_removed(fake)


def test_a_recorded_downtime_moved_to_another_monitor_is_left_alone(fake, real_assets):
    assert apply(fake)[0] == 0
    monitor_id, dashboard_id, downtimes = made_by_apply(fake, real_assets.downtimes)
    moved_name, moved_id = next(iter(downtimes.items()))
    fake.downtimes[moved_id]["attributes"]["monitor_identifier"] = {"monitor_id": 999}
    code, out = destroy(fake)
    assert code == 0, out
    assert removed(out) == report(dashboard_id, {n: i for n, i in downtimes.items() if n != moved_name}, monitor_id)
    assert [d["id"] for d in fake.active_downtimes()] == [moved_id]


DASHBOARD_PERMISSION = "dashboards_read and dashboards_write"
MONITOR_PERMISSION = "monitors_read and monitors_write"


@pytest.mark.parametrize(
    "orphans, method, path, doing, permission",
    [
        pytest.param(
            False, "DELETE", r"/api/v2/downtime/[\w-]+", "cancel the downtime", "monitors_downtime", id="cancel"
        ),
        pytest.param(
            False, "DELETE", r"/api/v1/dashboard/[\w-]+", "delete the dashboard", DASHBOARD_PERMISSION, id="delete"
        ),
        pytest.param(False, "DELETE", r"/api/v1/monitor/\d+", "delete the monitor", MONITOR_PERMISSION, id="monitor"),
        pytest.param(
            True, "DELETE", r"/api/v2/downtime/[\w-]+", "cancel the downtime", "monitors_downtime", id="scan-cancel"
        ),
        pytest.param(True, "GET", "/api/v1/dashboard", "list the dashboard", DASHBOARD_PERMISSION, id="scan-list"),
    ],
)
def test_a_refused_destroy_call_names_the_action_and_the_object(fake, orphans, method, path, doing, permission):
    assert apply(fake)[0] == 0
    if orphans:  # the monitor is gone: only --full-scan finds the rest
        fake.monitors.clear()
    fake.fail(method, path, 403)
    code, out = destroy(fake, *(["--full-scan"] if orphans else []))
    assert code == 3, out
    assert f"error: 403 Forbidden while trying to {doing} at {fake.url}. " in out
    assert f"that its user or scopes allow {permission}, " in out
    # the monitor holding the records goes last: a re-run after the fix finds the rest through it
    assert len(fake.monitors) == (0 if orphans else 1)
