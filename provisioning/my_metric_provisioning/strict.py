"""Strict deserialisation of payloads into datadog-api-client models.

The client accepts unknown keys and turns bad enums or unknown oneOf variants into
"unparsed" objects without raising, so the raw JSON is walked alongside the model
types and every such case is reported with its JSON path.
"""

from __future__ import annotations

import functools
import inspect
from datetime import date, datetime
from uuid import UUID

from datadog_api_client.configuration import Configuration
from datadog_api_client.exceptions import OpenApiException
from datadog_api_client.model_utils import (
    ModelComposed,
    ModelNormal,
    ModelSimple,
    OpenApiModel,
    none_type,
    validate_and_convert_types,
)

from my_metric_provisioning.findings import Findings, did_you_mean, misspelling_hint

_PRIMITIVES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def required_fields(cls) -> list[str]:
    params = inspect.signature(cls.__init__).parameters.values()
    return [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        and p.name != "self_"
    ]


def _type_values(cls) -> set[str]:
    """Allowed values of a model's `type` discriminator field, if it has one."""
    if not (isinstance(cls, type) and issubclass(cls, ModelNormal)):
        return set()
    types = cls.openapi_types.get("type")
    if not types:
        return set()
    for candidate in types:
        if isinstance(candidate, type) and issubclass(candidate, ModelSimple):
            return set(getattr(candidate, "allowed_values", ()))
    return set()


def _matches_primitive(value, kind) -> bool:
    if kind is none_type:
        return value is None
    if kind is bool:
        return isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in (str, datetime, date, UUID):
        return isinstance(value, str)
    return isinstance(value, kind)


def _check(value, types, path, found: Findings) -> None:
    types = tuple(types)
    if value is None:
        if none_type not in types:
            found.add(path, "null is not allowed here.", "remove the key or give it a value.")
        return
    if isinstance(value, list):
        for kind in types:
            if isinstance(kind, list):
                for index, item in enumerate(value):
                    _check(item, kind, path + [index], found)
                return
        if list in types:
            return
    if isinstance(value, dict):
        for kind in types:
            if isinstance(kind, dict):
                for key, item in value.items():
                    _check(item, kind[str], path + [key], found)
                return
        models = [k for k in types if isinstance(k, type) and issubclass(k, OpenApiModel)]
        if models:
            return _check_model(value, models[0], path, found)
        if dict in types:
            return
    for kind in types:
        if isinstance(kind, type) and issubclass(kind, ModelSimple):
            return _check_enum(value, kind, path, found)
        if isinstance(kind, type) and issubclass(kind, ModelComposed):
            return _check_composed(value, kind, path, found)
        if isinstance(kind, type) and not isinstance(kind, (list, dict)) and _matches_primitive(value, kind):
            return
    found.add(path, f"{value!r} has the wrong type; expected {_expected(types)}.", "fix the value's type.")


def _expected(types) -> str:
    return " or ".join(_describe(k) for k in types if k is not none_type)


def _describe(kind) -> str:
    if isinstance(kind, list):
        return "a list"
    if isinstance(kind, dict):
        return "an object"
    if isinstance(kind, type) and issubclass(kind, OpenApiModel):
        return f"a {kind.__name__}"
    return _PRIMITIVES.get(kind, getattr(kind, "__name__", str(kind)))


def _check_enum(value, cls, path, found: Findings) -> None:
    allowed = getattr(cls, "allowed_values", None)
    if allowed and value not in allowed:
        hint = did_you_mean(value, allowed) or "use one of " + ", ".join(sorted(map(str, allowed))) + "."
        found.add(path, f"{value!r} is not a valid {cls.__name__}.", hint)


def _check_composed(value, cls, path, found: Findings) -> None:
    variants = cls._composed_schemas.get("oneOf", [])
    if isinstance(value, dict) and "type" in value:
        # Try the variants whose `type` matches first: the usual answer, found without trying thirty others.
        variants = sorted(variants, key=lambda v: value["type"] not in _type_values(v))
    results = []
    for variant in variants:
        trial = Findings(found.source)
        _check(value, (variant,), path, trial)
        if not trial:
            return
        results.append((variant, trial))
    if isinstance(value, dict) and "type" in value:
        all_types = set().union(*(_type_values(v) for v in variants if isinstance(v, type)))
        matching = [(v, e) for v, e in results if value["type"] in _type_values(v)]
        if all_types and not matching:
            hint = did_you_mean(value["type"], all_types) or "use one of " + ", ".join(sorted(all_types)) + "."
            found.add(path + ["type"], f"unknown {cls.__name__} type {value['type']!r}.", hint)
            return
        if matching:
            results = matching
    if not isinstance(value, dict):
        found.add(path, f"{value!r} has the wrong type; expected {_describe(cls)}.", "fix the value's type.")
    elif results:
        found.extend(min(results, key=lambda item: len(item[1]))[1])


def _missing_key_hint(cls, json_key: str, present, by_json_key) -> str:
    unknown = [key for key in present if key not in by_json_key]
    expected = _expected(cls.openapi_types[_attribute(cls, json_key)])
    return misspelling_hint(json_key, unknown) or f"add {json_key!r} ({expected})."


@functools.lru_cache(maxsize=4096)
def _unknown_key_hint(key: str, cls) -> str:
    # Cached: the oneOf trials ask the same question of many variants, and difflib is the slow part.
    keys = sorted(cls.attribute_map.values())
    return did_you_mean(key, keys) or f"{cls.__name__} accepts: " + ", ".join(keys) + "."


def _attribute(cls, json_key: str) -> str:
    return next((name for name, key in cls.attribute_map.items() if key == json_key), json_key)


def _check_model(value, cls, path, found: Findings) -> None:
    if issubclass(cls, ModelComposed):
        return _check_composed(value, cls, path, found)
    if not isinstance(value, dict):
        found.add(path, f"expected an object ({cls.__name__}).", "")
        return
    by_json_key = {json_key: name for name, json_key in cls.attribute_map.items()}
    for name in required_fields(cls):
        json_key = cls.attribute_map.get(name, name)
        if json_key not in value:
            hint = _missing_key_hint(cls, json_key, value, by_json_key)
            found.add(path + [json_key], f"missing required key {json_key!r} ({cls.__name__}).", hint)
    for key, item in value.items():
        name = by_json_key.get(key)
        if name is None:
            found.add(path + [key], f"unknown key {key!r} in {cls.__name__}.", _unknown_key_hint(key, cls))
        elif name in cls.read_only_vars:
            found.add(
                path + [key],
                f"{key!r} is read-only in {cls.__name__}.",
                "remove it: Datadog sets it and rejects or ignores it on create.",
            )
        else:
            _check(item, cls.openapi_types[name], path + [key], found)


def check_payload(payload, model_cls, source: str, prefix=()) -> Findings:
    """Walk `payload` against `model_cls`, then deserialise it, and report everything the client let through.

    `prefix` is the JSON path of the payload inside its file (e.g. ["definition"] for a monitor asset).
    """
    found = Findings(source)
    _check_model(payload, model_cls, list(prefix), found)
    if found:
        # The client raises bare TypeErrors on a missing required key; the walk has already said it better.
        return found
    try:
        model = to_model(payload, model_cls)
    except (OpenApiException, TypeError, ValueError) as exc:
        where = list(prefix) + list(getattr(exc, "path_to_item", ["payload"]))[1:]
        found.add(where, f"the client cannot deserialise it: {exc}", "fix the value at that path.")
        return found
    if getattr(model, "_unparsed", False):
        found.add(list(prefix), f"{model_cls.__name__} has an unparsed part.", "compare with the API reference.")
    return found


def to_model(payload, model_cls):
    return validate_and_convert_types(payload, (model_cls,), ["payload"], True, True, Configuration())
