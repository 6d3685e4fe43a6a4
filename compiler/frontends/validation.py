"""Turning pydantic's validation errors into jobc diagnostics.

Pydantic finds the problems; this module words them the jobc way (what is wrong
and what is allowed), and for an unknown field suggests the nearest known one,
also one level down (`steps[0].command` -> `steps[0].run.command`).
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..diagnostics import Diagnostic, FieldPath, format_path

_TYPE_MESSAGES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be a mapping of fields",
    "model_attributes_type": "must be a mapping of fields",
    "dict_type": "must be a mapping of fields",
    "missing": "is required",
}


def validate(model: type[BaseModel], data: Any) -> tuple[BaseModel | None, list[Diagnostic]]:
    """Validate `data` against `model`; return the instance or the diagnostics."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        return None, [Diagnostic((), f"the spec must be a mapping of fields at the top level, not {kind}")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [to_diagnostic(model, err) for err in exc.errors(include_url=False)]


def to_diagnostic(model: type[BaseModel], err: dict) -> Diagnostic:
    path: FieldPath = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return Diagnostic(path, unknown_field_message(model, path))
    if kind == "jobc":
        return Diagnostic(path, err["msg"])
    if kind in ("greater_than_equal",):
        return Diagnostic(path, f"must be at least {ctx['ge']}")
    if kind in ("less_than_equal",):
        return Diagnostic(path, f"must be at most {ctx['le']}")
    if kind in _TYPE_MESSAGES:
        return Diagnostic(path, _TYPE_MESSAGES[kind])
    return Diagnostic(path, err["msg"])


def unknown_field_message(root: type[BaseModel], path: FieldPath) -> str:
    parent, key = path[:-1], str(path[-1])
    owner = model_at(root, parent)
    if owner is None:
        return "unknown field"
    known = field_names(owner)
    where = format_path(parent)

    def full(name: str) -> str:
        return f"{where}.{name}" if where else name

    one_down = [(f"{name}.{child_name}", child_name) for name in known
                for child in [model_at(owner, (name,))] if child is not None for child_name in field_names(child)]
    # A field that exists as written one level down (the "Job (full)" example's `command` on a step)
    # beats a near miss here; a near miss here beats a near miss one level down (`comand`).
    for dotted, child_name in one_down:
        if child_name == key:
            return f"not a {owner.__name__} field; did you mean {full(dotted)}?"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"not a {owner.__name__} field; did you mean {full(close[0])}?"
    close = difflib.get_close_matches(key, [child_name for _, child_name in one_down], n=1, cutoff=0.75)
    if close:
        dotted = next(d for d, child_name in one_down if child_name == close[0])
        return f"not a {owner.__name__} field; did you mean {full(dotted)}?"
    return f"not a {owner.__name__} field (known fields: {', '.join(known)})"


def field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def model_at(root: type[BaseModel], path: FieldPath) -> type[BaseModel] | None:
    """The model class that validates the value at `path`, if any."""
    current: Any = root
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        current = _model_in(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
