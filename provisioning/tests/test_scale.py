"""Reading the org costs the same number of requests in an empty and in a large org: one filtered monitor listing,
then one read per recorded object. Only a create whose answer was lost, or a run that died while creating, lists
the dashboards or downtimes."""

import json
import urllib.error
import urllib.request

import pytest
from my_metric_provisioning.provision import MANAGED_BY

from .common import LARGE_ORG, apply, destroy, managed, plan, requests_of
from .fake_datadog import FakeDatadog

pytestmark = pytest.mark.usefixtures("fake_keys")


def lifecycle(fake):
    """Requests, by (method, route), of: first apply, plan, second apply, destroy."""
    steps = [lambda: apply(fake), lambda: plan(fake), lambda: apply(fake), lambda: destroy(fake)]
    return [requests_of(fake, step) for step in steps]


def writes(requests) -> int:
    return sum(n for (method, _), n in requests.items() if method != "GET")


def test_request_counts_are_the_same_in_an_empty_and_a_large_org():
    with FakeDatadog() as empty, FakeDatadog() as large:
        large.seed(**LARGE_ORG)
        empty_steps, large_steps = lifecycle(empty), lifecycle(large)
    assert empty_steps == large_steps
    first, planned, second, gone = large_steps
    for step in large_steps:
        assert step[("GET", "/api/v1/dashboard")] == 0 and step[("GET", "/api/v2/downtime")] == 0
    assert writes(planned) == 0 and writes(second) == 0
    assert sum(planned.values()) == sum(second.values()) == 4  # monitor listing, dashboard, two downtimes
    assert writes(first) == 5 and writes(gone) == 4
    assert (len(large.dashboards), len(large.monitors), len(large.active_downtimes())) == (10_000, 5_000, 1_000)


def test_a_lost_create_answer_lists_the_org_once_to_adopt_the_object(fake):
    fake.seed(dashboards=250, monitors=50, downtimes=200)
    fake.fail("POST", "/api/v1/dashboard", 504, made=True)
    first = requests_of(fake, lambda: apply(fake))
    assert first[("GET", "/api/v1/dashboard")] == 3  # 250 dashboards in pages of 100
    assert first[("POST", "/api/v1/dashboard")] == 1 and managed(fake) == (1, 1, 2)
    assert requests_of(fake, lambda: apply(fake))[("GET", "/api/v1/dashboard")] == 0


def test_a_lookup_never_adopts_a_hand_made_dashboard_with_the_same_title(fake):
    fake.dashboards["hand-000-made"] = {"title": "my_metric - Overview", "description": "made by hand", "widgets": []}
    fake.fail("POST", "/api/v1/dashboard", 502)
    assert apply(fake)[0] == 3
    assert apply(fake)[0] == 0
    assert fake.dashboards["hand-000-made"]["description"] == "made by hand" and managed(fake) == (1, 1, 2)
    assert destroy(fake)[0] == 0 and list(fake.dashboards) == ["hand-000-made"]


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
    assert error.value.code == 400 and json.loads(error.value.read())["errors"]


def test_the_monitor_is_found_by_its_marker_whatever_its_name(fake, real_assets):
    name = real_assets.monitor["definition"]["name"]
    for i in range(150):  # hand-made copies with our name: never ours
        fake.monitors[20_000_000 + i] = {"id": 20_000_000 + i, "name": name, "tags": ["team:a"], "type": "query alert"}
    first = requests_of(fake, lambda: apply(fake))
    assert first[("GET", "/api/v1/monitor")] == 2  # the filtered listing before and after creating ours
    assert len([m for m in fake.monitors.values() if m["name"] == name]) == 151
    ours = next(m for m in fake.monitors.values() if MANAGED_BY in m["tags"])
    ours["name"] = "renamed in the UI"
    assert apply(fake)[0] == 0 and managed(fake) == (1, 1, 2) and ours["name"] == name
