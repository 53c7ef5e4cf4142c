"""Every required key of the committed dashboard, monitor and downtimes, at every level, deleted or misspelt in turn,
is a finding at that key's JSON path with a hint (naming the misspelt key), never an exception."""

import copy

import pytest
from datadog_api_client.model_utils import ModelComposed, ModelNormal
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest
from my_metric_provisioning.assets import Assets, integration_metrics, known_metrics
from my_metric_provisioning.findings import json_path
from my_metric_provisioning.rules import check_dashboard, check_downtime, check_monitor
from my_metric_provisioning.strict import required_fields, to_model

from .common import REPO_INTEGRATION

pytestmark = pytest.mark.filterwarnings("error")

ASSETS = Assets.load(REPO_INTEGRATION)
ALLOWED = integration_metrics(ASSETS.integration_dir) | set(known_metrics())


def required_keys(model, path):
    """(path of the object, key) of every required key of every object, as the client itself read the file."""
    if isinstance(model, list):
        for index, item in enumerate(model):
            yield from required_keys(item, path + [index])
    elif isinstance(model, ModelComposed):
        [variant] = model._composed_instances  # the oneOf variant the client chose
        yield from required_keys(variant, path)
    elif isinstance(model, ModelNormal):
        cls = type(model)
        yield from ((path, cls.attribute_map[name]) for name in required_fields(cls))
        for name, value in model._data_store.items():
            yield from required_keys(value, path + [cls.attribute_map[name]])


def at(document, path):
    for part in path:
        document = document[part]
    return document


def cases(kind, document, model, prefix=()):
    # apply links the downtimes to the monitor it made: the files have no monitor_identifier
    found = [(list(prefix) + path, key) for path, key in required_keys(model, [])]
    return [(kind, document, path, key) for path, key in found if "monitor_identifier" not in path + [key]]


DOWNTIME = ASSETS.downtimes["weekend"]
LINKED = copy.deepcopy(DOWNTIME)
LINKED["data"]["attributes"]["monitor_identifier"] = {"monitor_id": 1}
CASES = [
    *cases("dashboard", ASSETS.dashboard, to_model(ASSETS.dashboard, Dashboard)),
    *cases("monitor", ASSETS.monitor, to_model(ASSETS.monitor["definition"], Monitor), ["definition"]),
    *cases("downtime", DOWNTIME, to_model(LINKED, DowntimeCreateRequest)),
]


def test_the_walk_reaches_every_level():
    paths = {json_path(path + [key]) for _, _, path, key in CASES}
    assert {"$.title", "$.layout_type", "$.definition.query", "$.definition.type"} <= paths
    assert "$.widgets[2].definition.widgets[0].definition.requests[0].formulas[0].formula" in paths
    assert "$.data.attributes.schedule.recurrences[0].rrule" in paths
    assert len(paths) > 50


def check(kind, document):
    if kind == "dashboard":
        return check_dashboard(document, ALLOWED)
    if kind == "monitor":
        return check_monitor(document, ALLOWED)
    return check_downtime(document, "downtimes/weekend.json")


@pytest.mark.parametrize("mistake", ["deleted", "misspelt"])
@pytest.mark.parametrize(
    "kind, document, path, key", CASES, ids=[f"{kind}:{json_path(path + [key])}" for kind, _, path, key in CASES]
)
def test_a_required_key_deleted_or_misspelt_is_named_at_its_path(kind, document, path, key, mistake):
    document = copy.deepcopy(document)
    parent = at(document, path)
    value = parent.pop(key)
    if mistake == "misspelt":
        parent[key + key[-1]] = value
    at_key = [f for f in check(kind, document) if f.path == json_path(path + [key])]
    assert at_key and all(f.hint for f in at_key), [str(f) for f in at_key]
    if mistake == "misspelt":
        assert any(repr(key + key[-1]) in f.hint for f in at_key), [str(f) for f in at_key]
