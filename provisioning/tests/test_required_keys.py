"""Every required key of the dashboard and the monitor, at every level, deleted or misspelled in turn,
gives a finding at that key's JSON path with a hint, never an exception."""

import copy

import pytest
from datadog_api_client.model_utils import ModelComposed, ModelNormal
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from my_metric_provisioning.assets import Assets, integration_metrics, known_metrics
from my_metric_provisioning.findings import json_path
from my_metric_provisioning.rules import RECOMMENDED_MONITOR_KEYS, check_dashboard, check_monitor
from my_metric_provisioning.strict import required_fields

from .common import REPO_INTEGRATION

pytestmark = pytest.mark.filterwarnings("error")

ASSETS = Assets.load(REPO_INTEGRATION)
ALLOWED = integration_metrics(ASSETS.integration_dir) | set(known_metrics())


def _models(types):
    return [t for t in types if isinstance(t, type) and issubclass(t, (ModelNormal, ModelComposed))]


def _variant(value: dict, cls):
    """The oneOf variant of `cls` that `value` is an instance of: the one whose keys it has and needs."""
    fitting = []
    for variant in cls._composed_schemas.get("oneOf", []):
        if not (isinstance(variant, type) and issubclass(variant, ModelNormal)):
            continue
        keys = set(variant.attribute_map.values())
        required = {variant.attribute_map.get(name, name) for name in required_fields(variant)}
        type_field = variant.openapi_types.get("type")
        allowed_types = {v for t in type_field or () for v in getattr(t, "allowed_values", ())}
        if set(value) <= keys and required <= set(value) and (not allowed_types or value.get("type") in allowed_types):
            fitting.append(variant)
    assert len(fitting) >= 1, f"no variant of {cls.__name__} fits {sorted(value)}"
    return fitting[0]


def required_keys(value, types, path):
    """(path of the object, key) for every required key of every object in `value`, from the client's models."""
    if isinstance(value, list):
        for kind in types:
            if isinstance(kind, list):
                for index, item in enumerate(value):
                    yield from required_keys(item, tuple(kind), path + [index])
        return
    models = _models(types)
    if not isinstance(value, dict) or not models:
        return
    cls = models[0]
    if issubclass(cls, ModelComposed):
        cls = _variant(value, cls)
    for name in required_fields(cls):
        yield path, cls.attribute_map.get(name, name)
    for key, item in value.items():
        name = {json_key: attr for attr, json_key in cls.attribute_map.items()}.get(key)
        if name is not None:
            yield from required_keys(item, cls.openapi_types[name], path + [key])


def at(document, path):
    for part in path:
        document = document[part]
    return document


def misspelled(key):
    return key + key[-1]


DASHBOARD_KEYS = list(required_keys(ASSETS.dashboard, (Dashboard,), []))
MONITOR_KEYS = [
    (["definition"] + path, key) for path, key in required_keys(ASSETS.monitor["definition"], (Monitor,), [])
]
RECOMMENDED_KEYS = [([], key) for key in sorted(RECOMMENDED_MONITOR_KEYS)]


def test_the_walk_covers_every_level():
    dashboard_paths = {json_path(path + [key]) for path, key in DASHBOARD_KEYS}
    assert {"$.title", "$.layout_type", "$.widgets"} <= dashboard_paths
    assert "$.widgets[1].definition.widgets[0].definition.requests[0].queries[0].query" in dashboard_paths
    assert "$.widgets[2].definition.widgets[0].definition.requests[0].formulas[0].formula" in dashboard_paths
    assert {"$.definition.query", "$.definition.type"} <= {json_path(p + [k]) for p, k in MONITOR_KEYS}
    assert len(DASHBOARD_KEYS) > 50


def check(kind, document):
    if kind == "dashboard":
        return check_dashboard(document, ALLOWED)
    return check_monitor(document, ALLOWED)


CASES = [("dashboard", ASSETS.dashboard, path, key) for path, key in DASHBOARD_KEYS] + [
    ("monitor", ASSETS.monitor, path, key) for path, key in MONITOR_KEYS + RECOMMENDED_KEYS
]


@pytest.mark.parametrize("mistake", ["deleted", "misspelled"])
@pytest.mark.parametrize(
    "kind, asset, path, key", CASES, ids=[f"{kind}:{json_path(path + [key])}" for kind, _, path, key in CASES]
)
def test_required_key(kind, asset, path, key, mistake):
    document = copy.deepcopy(asset)
    parent = at(document, path)
    value = parent.pop(key)
    if mistake == "misspelled":
        parent[misspelled(key)] = value
    findings = check(kind, document)
    where = json_path(path + [key])
    at_key = [f for f in findings if f.path == where]
    assert at_key, f"no finding at {where}: {[str(f) for f in findings]}"
    assert all(f.hint for f in at_key), [str(f) for f in at_key]
    assert any(repr(key) in f.message for f in at_key), [str(f) for f in at_key]
    if mistake == "misspelled":
        assert any(repr(misspelled(key)) in f.hint for f in at_key), [str(f) for f in at_key]
