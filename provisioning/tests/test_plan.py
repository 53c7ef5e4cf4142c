"""plan: each object create / update / unchanged / missing against the live org, a field diff for an update, exit 0
when nothing is to change and 4 when something is; fields the server adds or normalises are not differences."""

from datetime import timedelta

import pytest
from my_metric_provisioning.reconcile import Difference, describe, differences, same_recurrence_starts

from .common import WEEKNIGHT, apply, plan, reported, writes

pytestmark = pytest.mark.usefixtures("fake_keys")
CHANGES = 4


def test_on_an_empty_org_everything_is_to_create_and_nothing_is_written(fake):
    code, out = plan(fake)
    assert code == CHANGES, out
    kinds = ("monitor", "dashboard", "downtime weekend", "downtime weeknights")
    assert reported(out) == dict.fromkeys(kinds, ("create", None))
    assert writes(fake) == 0 and fake.monitors == {}


def test_right_after_apply_nothing_differs(fake):
    assert apply(fake)[0] == 0
    before = len(fake.requests)
    code, out = plan(fake)
    assert code == 0 and [action for action, _ in reported(out).values()] == ["unchanged"] * 4, out
    # one monitor listing, then one read per recorded object; no write
    assert [method for method, _ in fake.requests[before:]] == ["GET"] * 4


def test_a_threshold_edited_in_the_ui_is_an_update_with_path_live_and_sent_values(fake):
    assert apply(fake)[0] == 0
    [(monitor_id, monitor)] = fake.monitors.items()
    monitor["options"]["thresholds"]["critical"] = 950
    written = writes(fake)
    code, out = plan(fake)
    assert code == CHANGES
    assert reported(out)["monitor"] == ("update", str(monitor_id))
    assert "$.options.thresholds.critical: 950 -> 800" in [line.strip() for line in out.splitlines()]
    assert reported(out)["dashboard"][0] == "unchanged" and writes(fake) == written


def test_what_the_server_adds_or_reorders_is_not_a_difference(fake):
    assert apply(fake)[0] == 0
    [monitor] = fake.monitors.values()
    monitor["tags"] = list(reversed(monitor["tags"]))
    monitor["restricted_roles"] = None
    monitor["options"]["evaluation_delay"] = 0
    [dashboard] = fake.dashboards.values()
    dashboard["widgets"][0]["definition"]["title_align"] = "left"
    dashboard = dict(reversed(dashboard.items()))
    downtime = next(iter(fake.downtimes.values()))
    downtime["attributes"]["notify_end_types"] = downtime["attributes"].get("notify_end_types", ["expired"])
    downtime["relationships"] = {"created_by": {"data": {"id": "someone"}}}
    code, out = plan(fake)
    assert code == 0, out


def test_a_week_later_the_moved_starts_are_the_same_recurrences(fake, clock):
    assert apply(fake)[0] == 0
    clock.now += timedelta(days=7)  # same working hour a week later: the next occurrences are a week later too
    code, out = plan(fake)
    assert code == 0, out


def test_a_downtime_rule_edited_in_the_ui_is_an_update(fake):
    assert apply(fake)[0] == 0
    downtime = next(d for d in fake.downtimes.values() if "weekend]" in d["attributes"]["message"])
    downtime["attributes"]["schedule"]["recurrences"][0]["duration"] = "2h"
    code, out = plan(fake)
    assert code == CHANGES
    assert reported(out)["downtime weekend"][0] == "update"
    assert '$.data.attributes.schedule.recurrences[0].duration: "2h" -> "49h"' in out


LOSSES = {  # what happened by hand to a recorded object
    "dashboard deleted": ("dashboard", lambda fake, i: fake.dashboards.pop(i)),
    "dashboard without its marker": ("dashboard", lambda fake, i: fake.dashboards[i].update(description="mine now")),
    "downtime deleted": ("downtime weekend", lambda fake, i: fake.downtimes.pop(i)),
}


@pytest.mark.parametrize("loss", LOSSES)
def test_an_object_deleted_by_hand_or_no_longer_marked_is_missing(fake, loss):
    kind, lose = LOSSES[loss]
    assert apply(fake)[0] == 0
    object_id = reported(plan(fake)[1])[kind][1]
    lose(fake, object_id)
    code, out = plan(fake)
    assert code == CHANGES and reported(out)[kind] == ("missing", object_id)


def test_the_catch_up_is_created_at_night_and_canceled_by_day(fake, clock):
    clock.now = WEEKNIGHT
    code, out = plan(fake)
    assert reported(out)["downtime catch-up"] == ("create", None)
    assert apply(fake)[0] == 0
    clock.now = WEEKNIGHT + timedelta(hours=12)  # Thursday 11:30 in Paris
    code, out = plan(fake)
    assert code == CHANGES and reported(out)["downtime catch-up"][0] == "cancel"


def test_a_failure_exits_3_and_names_the_call(fake):
    fake.fail("GET", "/api/v1/monitor", 403)
    code, out = plan(fake)
    assert code == 3 and "list the monitor" in out


def test_differences_look_only_at_what_is_sent():
    sent = {"a": 1, "b": {"c": [1, 2]}, "tags": ["x", "y"], "empty": None}
    live = {"a": 1, "b": {"c": [1, 2], "added": 3}, "tags": ["y", "x"], "id": 7}
    assert differences(sent, live) == []
    assert differences({"flag": True}, {"flag": 1}) == [Difference("$.flag", 1, True)]
    assert differences({"n": 800}, {"n": 800.0}) == []
    assert differences({"l": [1]}, {"l": [1, 2]}) == [Difference("$.l", [1, 2], [1])]
    assert differences({"tags": ["a"]}, {"tags": ["b"]}) == [Difference("$.tags", ["b"], ["a"])]
    assert differences({"tags": []}, {"tags": ["x"]}) == [Difference("$.tags", ["x"], [])]  # emptied on purpose
    assert differences({"n": 1}, {"n": [1]}) == [Difference("$.n", [1], 1)]
    assert [describe(d) for d in differences({"x": {"y": "new"}}, {})] == ['$.x: (absent) -> {"y": "new"}']
    path, values = describe(Difference("$.q", {"b": 2, "a": 1}, "x" * 300)).split(": ", 1)
    live, sent = values.split(" -> ")
    assert path == "$.q" and live == '{"a": 1, "b": 2}' and len(sent) == 200 and sent.endswith("x...")
    assert describe(Difference("$.q", "x" * 198, "y" * 199)) == f'$.q: "{"x" * 198}" -> "{"y" * 196}...'


def test_a_start_the_live_rule_does_not_reach_is_kept():
    rule = "FREQ=WEEKLY;BYDAY=SA"
    sent = {"schedule": {"recurrences": [{"rrule": rule, "start": "2026-05-30T05:00:00", "duration": "49h"}]}}
    earlier = {"schedule": {"recurrences": [{"rrule": rule, "start": "2026-05-23T05:00:00", "duration": "49h"}]}}
    other_hour = {"schedule": {"recurrences": [{"rrule": rule, "start": "2026-05-23T06:00:00", "duration": "49h"}]}}
    assert same_recurrence_starts(sent, earlier)["schedule"]["recurrences"][0]["start"] == "2026-05-23T05:00:00"
    assert same_recurrence_starts(sent, other_hour) == sent
    unreadable = {"schedule": {"recurrences": [{"rrule": rule, "start": "0", "duration": "49h"}]}}
    assert same_recurrence_starts(sent, unreadable) == sent
