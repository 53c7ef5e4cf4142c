"""destroy: removes what the managed monitor records (downtimes, dashboard, then the monitor itself) and nothing
else; a refused call names the object and the action, and leaves the monitor so that a re-run finds the rest."""

import pytest

from .common import apply, destroy, reported

pytestmark = pytest.mark.usefixtures("fake_keys")


def test_destroy_prints_a_line_for_each_object_it_removed_monitor_last(fake):
    assert apply(fake)[0] == 0
    [monitor_id] = fake.monitors
    [dashboard_id] = fake.dashboards
    code, out = destroy(fake)
    assert code == 0, out
    done = reported(out)
    assert done["dashboard"] == ("deleted", dashboard_id) and done["monitor"] == ("deleted", str(monitor_id))
    assert [done[f"downtime {name}"][0] for name in ("weekend", "weeknights")] == ["canceled", "canceled"]
    assert list(done)[-1] == "monitor"
    assert fake.dashboards == {} and fake.monitors == {} and fake.active_downtimes() == []
    assert destroy(fake) == (0, "nothing to do: no monitor carries the provisioning marker.\n")


def test_a_recorded_downtime_moved_to_another_monitor_is_left_alone(fake):
    assert apply(fake)[0] == 0
    moved_id, moved = next(iter(fake.downtimes.items()))
    moved["attributes"]["monitor_identifier"] = {"monitor_id": 999}
    code, out = destroy(fake)
    assert code == 0, out
    assert [d["id"] for d in fake.active_downtimes()] == [moved_id]


@pytest.mark.parametrize(
    "path, doing, permission",
    [
        (r"/api/v2/downtime/[\w-]+", "cancel the downtime", "monitors_downtime"),
        (r"/api/v1/dashboard/[\w-]+", "delete the dashboard", "dashboards_write"),
        (r"/api/v1/monitor/\d+", "delete the monitor", "monitors_write"),
    ],
)
def test_a_refused_destroy_call_names_the_action_and_the_object(fake, path, doing, permission):
    assert apply(fake)[0] == 0
    fake.fail("DELETE", path, 403)
    code, out = destroy(fake)
    assert code == 3, out
    assert "403" in out and doing in out and permission in out and fake.url in out
    assert len(fake.monitors) == 1  # it holds the records: a re-run after the fix finds the rest through it
    assert destroy(fake)[0] == 0 and fake.monitors == {} and fake.dashboards == {}


def test_a_monitor_deleted_meanwhile_is_not_an_error(fake):
    assert apply(fake)[0] == 0
    fake.fail("DELETE", r"/api/v1/monitor/\d+", 404)  # someone deleted it between the listing and the delete
    code, out = destroy(fake)
    assert code == 0, out
    assert fake.dashboards == {} and fake.active_downtimes() == []
