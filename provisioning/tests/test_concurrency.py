"""Never the same create twice: two real `my-metric-provision apply` processes started together, and a run that
died while creating objects."""

import subprocess
import sys
from pathlib import Path

import pytest
from my_metric_provisioning import reconcile
from my_metric_provisioning.provision import MANAGED_BY, downtime_marker
from my_metric_provisioning.reconcile import RECORD_PREFIX, Reconciler, records_of

from .common import FAST, NOTIFY, apply, destroy, reported
from .fake_datadog import FakeDatadog

pytestmark = pytest.mark.usefixtures("fake_keys")
COMMAND = Path(sys.executable).parent / "my-metric-provision"


def ours(fake):
    """How many marked monitors and dashboards, and active downtimes per name, the org holds."""
    monitors = [m for m in fake.monitors.values() if MANAGED_BY in m.get("tags", [])]
    dashboards = [d for d in fake.dashboards.values() if MANAGED_BY in d.get("description", "")]
    downtimes = {
        name: sum(downtime_marker(name) in d["attributes"]["message"] for d in fake.active_downtimes())
        for name in ("weeknights", "weekend", "catch-up")
    }
    return len(monitors), len(dashboards), downtimes


@pytest.mark.parametrize("delay", [0.0, 0.4], ids=["instant answers", "answers after 400 ms"])
def test_two_applies_started_together_on_an_empty_org_make_one_of_each(delay):
    with FakeDatadog(delay=delay) as fake:
        argv = [COMMAND, "--timezone", "Europe/Paris", "apply", "--notify", NOTIFY, "--api-url", fake.url, *FAST]
        runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in "ab"]
        outputs = [run.communicate(timeout=300)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        monitors, dashboards, downtimes = ours(fake)
        # the catch-up exists only when the processes ran at night (they read this machine's clock)
        assert (monitors, dashboards, downtimes["weeknights"], downtimes["weekend"]) == (1, 1, 1, 1), outputs
        assert downtimes["catch-up"] <= 1
        [monitor] = fake.monitors.values()
        assert not [t for t in monitor["tags"] if t.startswith(f"{RECORD_PREFIX}creating:")]
        assert set(records_of(monitor["tags"]).values()) >= set(fake.dashboards)
        code, out = destroy(fake)
        assert code == 0 and ours(fake) == (0, 0, {"weeknights": 0, "weekend": 0, "catch-up": 0}), out


def test_objects_left_by_a_run_that_died_while_creating_are_adopted(fake):
    fake.fail("POST", "/api/v2/downtime", 500, after=1, made=True)  # the second downtime is made, then the run dies
    fake.fail("GET", "/api/v2/downtime", 500, times=3)  # ...before it could find it again
    assert apply(fake)[0] == 3
    [monitor] = fake.monitors.values()
    # what a run killed at that moment leaves: its `creating` tag, aged past the wait
    monitor["tags"] = [t for t in monitor["tags"] if not t.startswith(RECORD_PREFIX)] + [
        f"{RECORD_PREFIX}creating:deadrun-1000000000"
    ]
    code, out = apply(fake)
    assert code == 0 and ours(fake) == (1, 1, {"weeknights": 1, "weekend": 1, "catch-up": 0}), out
    assert "created" not in out and {reported(out)[kind][0] for kind in ("dashboard", "downtime weekend")} == {
        "adopted"
    }


OTHER_RUN = f"{RECORD_PREFIX}creating:otherrun-9999999999"


def the_other_run_finishes(monkeypatch, monitor_of, then=lambda: None):
    """While this run waits (reconcile's sleep, two polls), the other run does `then` and removes its `creating` tag."""
    polls, pause = [], reconcile.sleep

    def finish(seconds):
        pause(seconds)
        polls.append(seconds)
        if len(polls) >= 2 and OTHER_RUN in monitor_of()["tags"]:
            then()
            monitor_of()["tags"].remove(OTHER_RUN)

    monkeypatch.setattr(reconcile, "sleep", finish)


def test_a_run_waits_while_another_is_creating_objects(fake, monkeypatch):
    assert apply(fake)[0] == 0
    [monitor] = fake.monitors.values()
    fake.dashboards.clear()
    monitor["tags"].append(OTHER_RUN)
    the_other_run_finishes(monkeypatch, lambda: monitor)
    code, out = apply(fake)
    assert code == 0 and out.count("otherrun") == 1 and len(fake.dashboards) == 1, out  # named once, however long


def test_of_two_runs_that_tag_the_monitor_at_once_only_the_last_creates(fake, monkeypatch):
    """Both find the dashboard missing and write their `creating` tag; the other run's write lands last, so this
    run waits for it and then finds the dashboard the other made, instead of making a second one."""
    assert apply(fake)[0] == 0
    [monitor] = fake.monitors.values()
    [(dashboard_id, dashboard)] = fake.dashboards.items()
    fake.dashboards.clear()
    handle = fake.handle

    def the_other_write_lands_last(method, path, query, body):
        answer = handle(method, path, query, body)
        if method == "PUT" and any(t.startswith(f"{RECORD_PREFIX}creating:") for t in body.get("tags", [])):
            monitor["tags"] = [t for t in monitor["tags"] if "creating:" not in t] + [OTHER_RUN]
        return answer

    monkeypatch.setattr(fake, "handle", the_other_write_lands_last)
    the_other_run_finishes(monkeypatch, lambda: monitor, then=lambda: fake.dashboards.update({dashboard_id: dashboard}))
    code, out = apply(fake)
    assert code == 0, out
    assert fake.count("POST", "/api/v1/dashboard") == 1 and list(fake.dashboards) == [dashboard_id]  # the first apply's


@pytest.mark.parametrize("delete_answer", [404, 403])
def test_a_monitor_made_at_the_same_moment_by_another_run_wins_when_older(fake, monkeypatch, delete_answer):
    """Deterministic form of the race: another run's monitor (lower id, creating) appears just before ours."""
    create = Reconciler._create_monitor

    def another_run_first(self):
        other = max(fake.monitors, default=0) + 1
        fake.monitors[other] = {"id": other, "name": "made by the other run", "tags": [MANAGED_BY, OTHER_RUN]}
        fake._ids = iter(range(other + 1, other + 100))
        create(self)

    monkeypatch.setattr(Reconciler, "_create_monitor", another_run_first)
    the_other_run_finishes(monkeypatch, lambda: fake.monitors[min(fake.monitors)])
    fake.fail("DELETE", r"/api/v1/monitor/\d+", delete_answer, made=delete_answer == 404)  # 404: deleted just before
    code, out = apply(fake)
    if delete_answer == 403:  # refused: the failure names the call, the permission and the host
        assert code == 3 and all(t in out for t in ["delete the monitor", "monitors_write", fake.url]), out
        return
    assert code == 0 and list(fake.monitors) == [min(fake.monitors)] and "otherrun" in out, out
    assert ours(fake) == (1, 1, {"weeknights": 1, "weekend": 1, "catch-up": 0})


def test_a_created_monitor_the_listing_does_not_show_is_not_created_again(fake, monkeypatch):
    # Datadog's monitor search may lag behind a create: apply waits the time it names, then stops
    monkeypatch.setattr(fake, "_get_api_v1_monitor", lambda _, query, body: (200, [], {}))
    waits = []
    monkeypatch.setattr(reconcile, "sleep", waits.append)
    code, out = apply(fake)
    assert code == 3 and "re-run" in out.lower() and "monitor_tags" in out and fake.url.split("//")[1] in out
    assert len(fake.monitors) == 1
    assert waits == [reconcile.POLL_SECONDS] * reconcile.UNLISTED_TRIES and f"{sum(waits):g} s" in out  # as it says


def test_a_created_monitor_the_listing_shows_at_its_last_poll_is_used(fake, monkeypatch):
    listing, calls = fake._get_api_v1_monitor, iter(range(1, 100))

    def lagging(_, query, body):  # the first call finds no monitor; then UNLISTED_TRIES polls miss the new one
        return listing(_, query, body) if next(calls) > 1 + reconcile.UNLISTED_TRIES else (200, [], {})

    monkeypatch.setattr(fake, "_get_api_v1_monitor", lagging)
    monkeypatch.setattr(reconcile, "sleep", lambda seconds: None)
    assert apply(fake)[0] == 0 and ours(fake) == (1, 1, {"weeknights": 1, "weekend": 1, "catch-up": 0})


def test_a_copy_of_the_monitor_made_in_the_ui_is_left_alone(fake):
    """A monitor cloned in the UI carries the marker too; apply keeps working on the older one and deletes nothing."""
    assert apply(fake)[0] == 0
    [(monitor_id, monitor)] = fake.monitors.items()
    fake.monitors[monitor_id + 1000] = dict(monitor, id=monitor_id + 1000, name="my copy")
    assert apply(fake)[0] == 0
    assert sorted(fake.monitors) == [monitor_id, monitor_id + 1000] and fake.count("DELETE", ".*") == 0


def test_while_a_run_creates_objects_the_monitor_says_so(fake, monkeypatch):
    assert apply(fake)[0] == 0
    fake.dashboards.clear()  # a later run has one object to create, and no record of it
    [monitor] = fake.monitors.values()
    monitor["tags"] = [t for t in monitor["tags"] if not t.startswith(f"{RECORD_PREFIX}dashboard:")]
    seen = []
    handle = fake.handle

    def watch(method, path, query, body):
        if method == "POST":
            seen.append(
                [t for m in fake.monitors.values() for t in m["tags"] if t.startswith(f"{RECORD_PREFIX}creating:")]
            )
        return handle(method, path, query, body)

    monkeypatch.setattr(fake, "handle", watch)
    assert apply(fake)[0] == 0
    assert len(seen) == 1 and len(seen[0]) == 1  # the creating tag was on the monitor during the create
    assert not [t for t in monitor["tags"] if t.startswith(f"{RECORD_PREFIX}creating:")]  # and gone after it
