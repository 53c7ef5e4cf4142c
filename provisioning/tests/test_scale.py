"""Issue 12: apply and destroy cost the same number of requests in an empty and in a large org."""

import json
import urllib.error
import urllib.request

import pytest
from common import LARGE_ORG, apply, assert_no_key, destroy, requests_of
from fake_datadog import FakeDatadog

pytestmark = pytest.mark.usefixtures("fake_keys")


@pytest.fixture
def large(fake):
    fake.seed(**LARGE_ORG)
    return fake


@pytest.fixture
def busy(fake):
    """Enough objects for several pages of every listing; the recovery paths list them all."""
    fake.seed(dashboards=250, monitors=50, downtimes=200)
    return fake


def lifecycle(fake):
    return [
        requests_of(fake, lambda: apply(fake)),
        requests_of(fake, lambda: apply(fake)),
        requests_of(fake, lambda: destroy(fake)),
    ]


def managed(fake):
    dashboards = [d for d in fake.dashboards.values() if "managed-by:my-metric-provision" in d.get("description", "")]
    monitors = [m for m in fake.monitors.values() if "managed-by:my-metric-provision" in m.get("tags", [])]
    downtimes = [d for d in fake.active_downtimes() if "managed-by:my-metric-provision" in d["attributes"]["message"]]
    return len(dashboards), len(monitors), len(downtimes)


def test_request_counts_are_the_same_in_an_empty_and_a_large_org():
    with FakeDatadog() as empty, FakeDatadog() as large:
        large.seed(**LARGE_ORG)
        empty_steps, large_steps = lifecycle(empty), lifecycle(large)
    assert empty_steps == large_steps
    first, second, gone = large_steps
    # no listing of dashboards or downtimes at all, one filtered monitor listing per run
    for step in large_steps:
        assert step[("GET", "/api/v1/dashboard")] == 0 and step[("GET", "/api/v2/downtime")] == 0
        assert step[("GET", "/api/v1/monitor")] == 1
    assert sum(first.values()) <= 10 and sum(second.values()) <= 10 and sum(gone.values()) <= 8


def test_the_large_org_ends_as_it_began(large):
    before = (len(large.dashboards), len(large.monitors), len(large.active_downtimes()))
    assert apply(large)[0] == 0 and apply(large)[0] == 0
    assert managed(large) == (1, 1, 2)
    assert destroy(large)[0] == 0
    assert managed(large) == (0, 0, 0)
    assert (len(large.dashboards), len(large.monitors), len(large.active_downtimes())) == before


def test_full_scan_lists_the_org_and_finds_nothing_more(busy):
    assert apply(busy)[0] == 0
    scanned = requests_of(busy, lambda: apply(busy, "--full-scan"))
    assert scanned[("GET", "/api/v1/dashboard")] == 3  # pages of 100
    assert scanned[("GET", "/api/v2/downtime")] == 7  # pages of 30
    assert sum(v for (method, _), v in scanned.items() if method == "POST") == 0
    assert managed(busy) == (1, 1, 2)


def test_dashboard_created_but_not_recorded_is_adopted_not_duplicated(busy):
    # the 2nd monitor update is the one recording the new dashboard's id: the run dies there
    busy.fail("PUT", r"/api/v1/monitor/\d+", 500, times=3, after=1)
    code, out = apply(busy)
    assert code == 3 and "HTTP 500" in out
    assert managed(busy) == (1, 1, 0)
    recovery = requests_of(busy, lambda: apply(busy))
    assert recovery[("GET", "/api/v1/dashboard")] > 0  # the one case that lists the org
    assert recovery[("POST", "/api/v1/dashboard")] == 0
    assert managed(busy) == (1, 1, 2)
    after = requests_of(busy, lambda: apply(busy))
    assert after[("GET", "/api/v1/dashboard")] == 0 and after[("POST", "/api/v1/dashboard")] == 0


def test_downtime_created_but_not_recorded_is_adopted_not_duplicated(busy):
    busy.fail("PUT", r"/api/v1/monitor/\d+", 500, times=3, after=2)
    assert apply(busy)[0] == 3
    assert managed(busy) == (1, 1, 1)
    recovery = requests_of(busy, lambda: apply(busy))
    assert recovery[("GET", "/api/v2/downtime")] > 0 and recovery[("GET", "/api/v1/dashboard")] == 0
    assert recovery[("POST", "/api/v2/downtime")] == 1  # only the one never sent
    assert managed(busy) == (1, 1, 2)
    assert requests_of(busy, lambda: apply(busy))[("GET", "/api/v2/downtime")] == 0


def test_recovery_never_adopts_a_hand_made_dashboard_with_the_same_title(fake):
    fake.dashboards["hand-000-made"] = {
        "title": "my_metric - Overview",
        "description": "made by hand",
        "layout_type": "ordered",
        "widgets": [],
    }
    fake.fail("POST", "/api/v1/dashboard", 403)
    assert apply(fake)[0] == 3  # the dashboard creation was pending: the next run scans
    assert apply(fake)[0] == 0
    assert fake.dashboards["hand-000-made"]["description"] == "made by hand"
    assert managed(fake) == (1, 1, 2)
    assert destroy(fake)[0] == 0
    assert list(fake.dashboards) == ["hand-000-made"]


def test_a_monitor_made_before_records_is_completed_from_one_scan(fake, fake_keys):
    assert apply(fake)[0] == 0
    monitor = next(iter(fake.monitors.values()))
    monitor["tags"] = [t for t in monitor["tags"] if not t.startswith("my-metric-provision-")]
    upgrade = requests_of(fake, lambda: apply(fake))
    assert upgrade[("GET", "/api/v1/dashboard")] == 1 and upgrade[("GET", "/api/v2/downtime")] == 1
    assert sum(v for (method, _), v in upgrade.items() if method == "POST") == 0
    assert managed(fake) == (1, 1, 2)
    code, out = destroy(fake)
    assert code == 0 and managed(fake) == (0, 0, 0)
    assert_no_key(out, fake_keys)


def test_an_upgrade_that_stops_midway_still_adopts_instead_of_duplicating(fake):
    assert apply(fake)[0] == 0
    monitor = next(iter(fake.monitors.values()))
    monitor["tags"] = [t for t in monitor["tags"] if not t.startswith("my-metric-provision-")]
    fake.fail("PATCH", r"/api/v2/downtime/[\w-]+", 500, times=3)  # dies after the monitor was updated
    assert apply(fake)[0] == 3
    rerun = requests_of(fake, lambda: apply(fake))
    assert sum(v for (method, _), v in rerun.items() if method == "POST") == 0
    assert managed(fake) == (1, 1, 2)


def test_destroy_full_scan_cleans_up_after_a_monitor_deleted_by_hand(fake):
    assert apply(fake)[0] == 0
    fake.monitors.clear()
    assert destroy(fake)[0] == 0 and managed(fake) == (1, 0, 2)  # records lost with the monitor
    code, out = destroy(fake, "--full-scan")
    assert code == 0, out
    assert managed(fake) == (0, 0, 0)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/dashboard?title=my_metric",  # no title filter on the dashboards list
        "/api/v2/downtime?monitor_id=1",  # no monitor filter on the downtimes list
        "/api/v1/monitor?tags=host:a",  # documented scope filter the fake does not implement
    ],
)
def test_the_fake_refuses_filters_it_does_not_honour(fake, path):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(fake.url + path)
    assert error.value.code == 400
    assert json.loads(error.value.read())["errors"]


def test_the_monitor_listing_is_filtered_by_the_server_on_the_marker_and_the_name(fake, real_assets):
    name = real_assets.monitor["definition"]["name"]
    # 150 hand-made copies with our name, and 150 monitors carrying the marker under other names.
    for i in range(150):
        fake.monitors[20_000_000 + i] = {"id": 20_000_000 + i, "name": name, "tags": ["team:a"], "type": "query alert"}
        fake.monitors[30_000_000 + i] = {
            "id": 30_000_000 + i,
            "name": f"other {i}",
            "tags": ["managed-by:my-metric-provision"],
            "type": "query alert",
        }
    first = requests_of(fake, lambda: apply(fake))
    assert first[("GET", "/api/v1/monitor")] == 1  # one page, holding nothing: the monitor is created
    assert len([m for m in fake.monitors.values() if m["name"] == name]) == 151


def test_a_marked_monitor_whose_name_only_contains_ours_is_not_adopted(fake, real_assets):
    name = real_assets.monitor["definition"]["name"]
    copy_id = 20_000_000
    fake.monitors[copy_id] = {"id": copy_id, "name": f"{name} (old copy)", "tags": ["managed-by:my-metric-provision"]}
    code, out = apply(fake)
    assert code == 0, out
    assert "created  monitor" in out and fake.monitors[copy_id]["name"] == f"{name} (old copy)"
