"""Strict deserialisation of payloads into datadog-api-client models.

The client accepts unknown keys and turns bad enums or unknown oneOf variants into
"unparsed" objects without raising, so the raw JSON is walked alongside the model
types and every such case is reported with its JSON path.
"""

from __future__ import annotations

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

from my_metric_provisioning.findings import Finding, did_you_mean, json_path

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


def _check(value, types, path, source) -> list[Finding]:
    types = tuple(types)
    if value is None:
        if none_type in types:
            return []
        return [Finding(source, json_path(path), "null is not allowed here.", "remove the key or give it a value.")]
    if isinstance(value, list):
        for kind in types:
            if isinstance(kind, list):
                errors = []
                for index, item in enumerate(value):
                    errors += _check(item, kind, path + [index], source)
                return errors
        if list in types:
            return []
    if isinstance(value, dict):
        for kind in types:
            if isinstance(kind, dict):
                errors = []
                for key, item in value.items():
                    errors += _check(item, kind[str], path + [key], source)
                return errors
        models = [k for k in types if isinstance(k, type) and issubclass(k, OpenApiModel)]
        if models:
            return _check_model(value, models[0], path, source)
        if dict in types:
            return []
    for kind in types:
        if isinstance(kind, type) and issubclass(kind, ModelSimple):
            return _check_enum(value, kind, path, source)
        if isinstance(kind, type) and issubclass(kind, ModelComposed):
            return _check_composed(value, kind, path, source)
        if isinstance(kind, type) and not isinstance(kind, (list, dict)) and _matches_primitive(value, kind):
            return []
    expected = " or ".join(_PRIMITIVES.get(k, getattr(k, "__name__", str(k))) for k in types if k is not none_type)
    return [
        Finding(source, json_path(path), f"{value!r} has the wrong type; expected {expected}.", "fix the value's type.")
    ]


def _check_enum(value, cls, path, source) -> list[Finding]:
    allowed = getattr(cls, "allowed_values", None)
    if allowed and value not in allowed:
        hint = did_you_mean(value, allowed) or "use one of " + ", ".join(sorted(map(str, allowed))) + "."
        return [Finding(source, json_path(path), f"{value!r} is not a valid {cls.__name__}.", hint)]
    return []


def _check_composed(value, cls, path, source) -> list[Finding]:
    variants = cls._composed_schemas.get("oneOf", [])
    results = []
    for variant in variants:
        errors = _check(value, (variant,), path, source)
        if not errors:
            return []
        results.append((variant, errors))
    if isinstance(value, dict) and "type" in value:
        all_types = set().union(*(_type_values(v) for v in variants if isinstance(v, type)))
        matching = [(v, e) for v, e in results if value["type"] in _type_values(v)]
        if all_types and not matching:
            hint = did_you_mean(value["type"], all_types) or "use one of " + ", ".join(sorted(all_types)) + "."
            return [
                Finding(source, json_path(path + ["type"]), f"unknown {cls.__name__} type {value['type']!r}.", hint)
            ]
        if matching:
            results = matching
    return min(results, key=lambda item: len(item[1]))[1] if results else []


def _check_model(value, cls, path, source) -> list[Finding]:
    if issubclass(cls, ModelComposed):
        return _check_composed(value, cls, path, source)
    if not isinstance(value, dict):
        return [Finding(source, json_path(path), f"expected an object ({cls.__name__}).", "")]
    errors = []
    by_json_key = {json_key: name for name, json_key in cls.attribute_map.items()}
    for name in required_fields(cls):
        if cls.attribute_map.get(name, name) not in value:
            errors.append(
                Finding(
                    source,
                    json_path(path),
                    f"missing required key {cls.attribute_map.get(name, name)!r} ({cls.__name__}).",
                    "add it.",
                )
            )
    for key, item in value.items():
        name = by_json_key.get(key)
        if name is None:
            hint = did_you_mean(key, by_json_key) or f"{cls.__name__} accepts: " + ", ".join(sorted(by_json_key)) + "."
            errors.append(Finding(source, json_path(path + [key]), f"unknown key {key!r} in {cls.__name__}.", hint))
            continue
        if name in cls.read_only_vars:
            errors.append(
                Finding(
                    source,
                    json_path(path + [key]),
                    f"{key!r} is read-only in {cls.__name__}.",
                    "remove it: Datadog sets it and rejects or ignores it on create.",
                )
            )
            continue
        errors += _check(item, cls.openapi_types[name], path + [key], source)
    return errors


def check_payload(payload, model_cls, source: str) -> list[Finding]:
    """Deserialise `payload` into `model_cls` and report everything the client let through."""
    errors = _check_model(payload, model_cls, [], source)
    try:
        model = validate_and_convert_types(payload, (model_cls,), ["payload"], True, True, Configuration())
    except OpenApiException as exc:
        where = json_path(list(getattr(exc, "path_to_item", []))[1:])
        errors.append(Finding(source, where, f"the client cannot deserialise it: {exc}", "fix the value at that path."))
        return errors
    if not errors and getattr(model, "_unparsed", False):
        errors.append(
            Finding(source, "$", f"{model_cls.__name__} has an unparsed part.", "compare with the API reference.")
        )
    return errors


def to_model(payload, model_cls):
    return validate_and_convert_types(payload, (model_cls,), ["payload"], True, True, Configuration())
