"""The JSON Schemas of both spec kinds, from the same models that validate them.

pydantic writes the structure; this module makes it a schema that draft 2020-12 validators (ajv in strict mode,
check-jsonschema) and editors (yaml-language-server) accept: pydantic's leftover constraint names become
`minimum`/`maximum`, `discriminator` (an OpenAPI keyword) goes, every property gets a readable title and the
description of `descriptions.py`, and the models' `exactly_one_of`,
`at_most_one_of` and `given_together` become `anyOf`/`not`/`dependentRequired`. A top-level `"$schema"` key is
allowed, as jobc ignores it. Output is deterministic (`jobc schema` sorts keys).
"""

from __future__ import annotations

import copy
import re
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
JOB_ID = "urn:jobc:schema:deepsquare-job"
APP_ID = "urn:jobc:schema:bfabric-app"
SCHEMA_KEY = "$schema"
_SCHEMA_PROPERTY = {
    "type": "string",
    "title": "JSON Schema",
    "description": "The JSON Schema of this file, for editors and validators; jobc ignores it.",
}
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
_WORDS = {
    "cpus": "CPUs",
    "gpus": "GPUs",
    "mpi": "MPI",
    "dns": "DNS",
    "url": "URL",
    "ips": "IPs",
    "id": "ID",
    "uid": "UID",
    "fs": "FS",
    "x11": "X11",
    "s3": "S3",
    "http": "HTTP",
    "mac": "MAC",
}


def job_schema() -> dict[str, Any]:
    from .descriptions import JOB as DESCRIPTIONS
    from .frontends.deepsquare_models import Job

    defs = _definitions([Job], DESCRIPTIONS)
    root = defs.pop("Job")
    root["properties"][SCHEMA_KEY] = dict(_SCHEMA_PROPERTY)
    return {
        "$schema": DRAFT,
        "$id": JOB_ID,
        **root,
        "title": "DeepSquare job (jobc)",
        "$defs": defs,
    }


def app_schema() -> dict[str, Any]:
    """An app spec file: `versions` (AppSpec), or a single version's fields at the top level."""
    from .descriptions import APP as DESCRIPTIONS
    from .frontends.bfabric.models import AppSpec, AppVersionMultiTemplate

    defs = _definitions([AppSpec, AppVersionMultiTemplate], DESCRIPTIONS)
    single = copy.deepcopy(defs["AppVersionMultiTemplate"])
    single["title"] = "A single app version (the whole file)"
    single["properties"][SCHEMA_KEY] = dict(_SCHEMA_PROPERTY)
    defs["AppVersionFile"] = single
    defs["AppSpec"]["properties"][SCHEMA_KEY] = dict(_SCHEMA_PROPERTY)
    return {
        "$schema": DRAFT,
        "$id": APP_ID,
        "title": "bfabric app spec (jobc)",
        "description": "An app specification: its versions, or a single version's fields at the top level.",
        "anyOf": [{"$ref": "#/$defs/AppSpec"}, {"$ref": "#/$defs/AppVersionFile"}],
        "$defs": defs,
    }


def models_of(roots: list[type]) -> dict[str, type]:
    """Every model reachable from `roots`, by class name (the name of its `$defs` entry)."""
    from pydantic import BaseModel

    found: dict[str, type] = {}

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ in found:
                return
            found[tp.__name__] = tp
            for field in tp.model_fields.values():
                visit(field.annotation)
            return
        for arg in getattr(tp, "__args__", ()) or ():
            visit(arg)
        for meta in getattr(tp, "__metadata__", ()) or ():
            visit(meta)
        origin = getattr(tp, "__origin__", None)
        if origin is not None and getattr(tp, "__metadata__", None):
            visit(origin)

    for root in roots:
        visit(root)
    return found


def property_name(model: type, name: str) -> str:
    field = model.model_fields[name]
    return field.alias or name


def _definitions(roots: list[type], descriptions: dict[str, dict[str, str]]) -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    _, top = models_json_schema([(root, "validation") for root in roots], by_alias=True)
    defs: dict[str, Any] = top["$defs"]
    for name, model in models_of(roots).items():
        entry = defs[name]
        for field_name in model.model_fields:
            key = property_name(model, field_name)
            prop = entry["properties"][key]
            prop["title"] = title(key)
            description = descriptions.get(name, {}).get(key)
            if description:
                prop["description"] = description
            if prop.get("default", ...) is None:
                del prop["default"]
        entry.update(_exclusivity(model))
    _clean(defs)
    return defs


def title(name: str) -> str:
    """`targetPort` -> `Target port`, `cpusPerTask` -> `CPUs per task`, `mac_address` -> `MAC address`."""
    words = [w for w in re.split(r"_|(?<=[a-z0-9])(?=[A-Z])", name) if w]
    words = [_WORDS.get(w.lower(), w.lower()) for w in words]
    first = words[0]
    return " ".join([first[0].upper() + first[1:], *words[1:]])


def _given(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def _exclusivity(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rules: list[dict[str, Any]] = []
    exactly, at_most = getattr(model, "exactly_one_of", ()), getattr(model, "at_most_one_of", ())
    for names, at_least_one in ((exactly, True), (at_most, False)):
        if not names:
            continue
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        both = [
            {"required": [a, b], "properties": {a: {"not": {"type": "null"}}, b: {"not": {"type": "null"}}}}
            for a, b in pairs
        ]
        rules.append({"not": {"anyOf": both}})
        if at_least_one:
            rules.append({"anyOf": [_given(n) for n in names]})
    if rules:
        out["allOf"] = rules
    names = getattr(model, "given_together", ())
    if names:
        out["dependentRequired"] = {n: [m for m in names if m != n] for n in names}
    return out


def _clean(node: Any) -> None:
    """pydantic's constraint names as JSON Schema keywords; no `discriminator` (ajv's strict mode refuses it);
    a mapping whose keys follow a pattern (`env`) allows no other key."""
    from .frontends.fields import merge_keywords

    if isinstance(node, dict):
        node.pop("discriminator", None)
        if "patternProperties" in node and "properties" not in node:  # a dict whose keys have a rule: only those
            node.setdefault("additionalProperties", False)
        bounds = {_BOUNDS[k]: node.pop(k) for k in list(node) if k in _BOUNDS and not isinstance(node[k], dict)}
        if bounds:
            merge_keywords(node, bounds)
        for value in node.values():
            _clean(value)
    elif isinstance(node, list):
        for value in node:
            _clean(value)
