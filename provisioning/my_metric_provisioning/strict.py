"""Payloads checked against the datadog-api-client models. The client accepts unknown keys and makes a bad enum value
or an object no oneOf variant fits "unparsed" without raising, so the JSON is walked beside the model types, every
problem named at its JSON path; each value is judged by the client itself."""

import difflib
import inspect

from datadog_api_client.configuration import Configuration
from datadog_api_client.exceptions import OpenApiException
from datadog_api_client.model_utils import ModelComposed, ModelNormal, ModelSimple, validate_and_convert_types

from my_metric_provisioning.findings import Findings, did_you_mean


def to_model(payload, model_cls):
    return validate_and_convert_types(payload, (model_cls,), ["payload"], True, True, Configuration())


def check_payload(payload, model_cls, source: str, prefix=()) -> Findings:
    """Every problem of `payload` as a `model_cls`; `prefix` is its JSON path in the file (["definition"])."""
    found = Findings(source)
    _check(payload, (model_cls,), list(prefix), found)
    if not found:  # what the walk cannot see (validations of lengths and patterns), the client says
        try:
            to_model(payload, model_cls)
        except (OpenApiException, TypeError, ValueError) as error:
            where = list(prefix) + list(getattr(error, "path_to_item", None) or ["payload"])[1:]
            found.add(where, f"the client refuses it: {error}", "fix the value at that path.")
    return found


def required_fields(cls) -> list[str]:
    params = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in params if p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "self_"]


def _check(value, types, path, found: Findings) -> None:
    for kind in types:
        if isinstance(kind, list) and isinstance(value, list):
            for index, item in enumerate(value):
                _check(item, tuple(kind), path + [index], found)
            return
        if isinstance(kind, dict) and isinstance(value, dict):
            for key, item in value.items():
                _check(item, kind[str], path + [key], found)
            return
        if isinstance(kind, type) and issubclass(kind, ModelNormal) and isinstance(value, dict):
            return _check_model(value, kind, path, found)
        if isinstance(kind, type) and issubclass(kind, ModelComposed) and value is not None:
            return _check_one_of(value, kind, path, found)
    try:
        parsed = validate_and_convert_types(value, types, ["value"], True, True, Configuration())
        if getattr(parsed, "_unparsed", False) and not isinstance(parsed, ModelSimple):
            raise ValueError(parsed)
    except (OpenApiException, TypeError, ValueError):
        names = sorted(kind.__name__ if isinstance(kind, type) else type(kind).__name__ for kind in types)
        found.add(path, f"{value!r} has the wrong type or format.", f"give a value of type {' or '.join(names)}.")
        return
    if isinstance(parsed, ModelSimple) and parsed._unparsed:  # an enum value the model does not know
        allowed, model = sorted(map(str, type(parsed).allowed_values)), type(parsed).__name__
        found.add(path, f"{value!r} is not a {model}.", did_you_mean(value, allowed) or _one_of(allowed))


def _one_of(choices) -> str:
    return "use one of " + ", ".join(sorted(choices)) + "."


def _type_values(variant) -> set[str]:
    """The values of a oneOf variant's `type` field (a widget's "timeseries"), if it has one."""
    kinds = getattr(variant, "openapi_types", {}).get("type", ()) if isinstance(variant, type) else ()
    return {value for kind in kinds for value in getattr(kind, "allowed_values", ())}


def _check_one_of(value, cls, path, found: Findings) -> None:
    variants = cls._composed_schemas["oneOf"]
    if isinstance(value, dict) and "type" in value:
        all_types = set().union(*map(_type_values, variants))
        if all_types and value["type"] not in all_types:
            hint = did_you_mean(value["type"], all_types) or _one_of(all_types)
            found.add(path + ["type"], f"{value['type']!r} is not a {cls.__name__} type.", hint)
            return
        variants = [v for v in variants if value["type"] in _type_values(v)] or variants
    trials = []
    for variant in variants:
        trial = Findings(found.source)
        _check(value, (variant,), path, trial)
        if not trial:
            return
        trials.append(trial)
    if isinstance(value, dict):
        found.extend(min(trials, key=len))  # the variant the object comes closest to
    else:
        found.add(path, f"{value!r} has the wrong type or format.", f"give a {cls.__name__}.")


def _check_model(value: dict, cls, path, found: Findings) -> None:
    by_json_key = {json_key: name for name, json_key in cls.attribute_map.items()}
    unknown = [key for key in value if key not in by_json_key]
    for name in required_fields(cls):
        json_key = cls.attribute_map.get(name, name)
        if json_key not in value:
            misspelt = difflib.get_close_matches(json_key, unknown, n=1)
            hint = f"rename {misspelt[0]!r} to {json_key!r}." if misspelt else f"add {json_key!r}."
            found.add(path + [json_key], f"{cls.__name__} needs {json_key!r}.", hint)
    for key, item in value.items():
        name = by_json_key.get(key)
        if name is None:
            hint = did_you_mean(key, by_json_key) or f"{cls.__name__} accepts: " + ", ".join(sorted(by_json_key)) + "."
            found.add(path + [key], f"{cls.__name__} has no key {key!r}.", hint)
        elif name in cls.read_only_vars:
            found.add(path + [key], f"{key!r} is read-only in {cls.__name__}.", "remove it: Datadog sets it.")
        else:
            _check(item, cls.openapi_types[name], path + [key], found)
