"""destroy: removes what the managed monitor records (downtimes, dashboard, then the monitor itself) and nothing
else; a refused call names the object and the action, and leaves the monitor so that a re-run finds the rest."""

import pytest
from my_metric_provisioning.provision import MANAGED_BY

from .common import FAST, WEEKNIGHT, apply, assert_no_key, cli, destroy, integration_copy, managed, reported

pytestmark = pytest.mark.usefixtures("fake_keys")


def test_destroy_removes_what_apply_made_monitor_last_and_nothing_else(fake, fake_keys):
    fake.dashboards["other-000-aaa"] = {"title": "my_metric - Overview", "description": "hand made", "widgets": []}
    fake.monitors[999] = {"id": 999, "name": "someone else's", "query": "avg(last_5m):avg:x{*} > 1", "tags": []}
    assert apply(fake)[0] == 0
    [monitor_id] = set(fake.monitors) - {999}
    [dashboard_id] = set(fake.dashboards) - {"other-000-aaa"}
    code, out = destroy(fake)
    assert code == 0, out
    done = reported(out)
    assert done["dashboard"] == ("deleted", dashboard_id) and done["monitor"] == ("deleted", str(monitor_id))
    assert [done[f"downtime {name}"][0] for name in ("weekend", "weeknights")] == ["canceled", "canceled"]
    assert list(done)[-1] == "monitor" and fake.active_downtimes() == []
    assert list(fake.dashboards) == ["other-000-aaa"] and list(fake.monitors) == [999]
    assert_no_key(out, fake_keys)
    code, out = destroy(fake)
    assert code == 0 and reported(out) == {}, out
    code, out = apply(fake)  # and the next apply makes everything anew
    assert [action for action, _ in reported(out).values()] == ["created"] * 4 and managed(fake) == (1, 1, 2)


def test_destroy_reads_no_asset_so_never_refuses_because_the_files_changed(fake, tmp_path):
    assert apply(fake)[0] == 0
    changed = integration_copy(tmp_path)
    (changed / "assets" / "monitors" / "my_metric_high.json").write_text("{ not json")
    code, out = cli("--assets-dir", str(changed), "destroy", "--api-url", fake.url, *FAST)
    assert code == 0 and managed(fake) == (0, 0, 0), out


def test_a_recorded_downtime_moved_to_another_monitor_is_left_alone(fake):
    assert apply(fake)[0] == 0
    moved_id, moved = next(iter(fake.downtimes.items()))
    moved["attributes"]["monitor_identifier"] = {"monitor_id": 999}
    code, out = destroy(fake)
    assert code == 0 and [d["id"] for d in fake.active_downtimes()] == [moved_id], out


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
    assert code == 3 and "403" in out and doing in out and permission in out and fake.url in out, out
    assert len(fake.monitors) == 1  # it holds the records: a re-run after the fix finds the rest through it
    assert destroy(fake)[0] == 0 and fake.monitors == {} and fake.dashboards == {}


def test_destroy_after_a_night_apply_also_cancels_the_catch_up_downtime(fake, clock):
    clock.now = WEEKNIGHT
    assert apply(fake)[0] == 0 and managed(fake) == (1, 1, 3)
    code, out = destroy(fake)
    assert code == 0 and reported(out)["downtime catch-up"][0] == "canceled" and managed(fake) == (0, 0, 0), out


@pytest.mark.parametrize("path", [r"/api/v2/downtime/[\w-]+", r"/api/v1/dashboard/[\w-]+", r"/api/v1/monitor/\d+"])
def test_an_object_deleted_meanwhile_is_not_an_error(fake, path):
    assert apply(fake)[0] == 0
    fake.fail("DELETE", path, 404, made=True)  # gone by the time the delete arrives, as if deleted meanwhile
    code, out = destroy(fake)
    assert code == 0 and managed(fake) == (0, 0, 0), out


def test_destroy_deletes_every_marked_monitor_also_past_the_first_page_of_the_listing(fake):
    assert apply(fake)[0] == 0
    [monitor] = fake.monitors.values()
    fake.monitors.update({i: dict(monitor, id=i, tags=[MANAGED_BY]) for i in range(10**6, 10**6 + 150)})  # copies
    assert destroy(fake)[0] == 0 and fake.monitors == {}
