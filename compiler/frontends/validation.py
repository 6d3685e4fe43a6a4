"""Turning pydantic's validation errors into jobc diagnostics, for every spec kind.

Pydantic finds the problems; this module words them the jobc way (what is wrong
and what is allowed), and for an unknown field suggests the nearest known one,
also one level down (`steps[0].command` -> `steps[0].run.command`). Locations
are shown as the user's file has them: pydantic's tags of discriminated unions
(`dispatch.docker.image`) are left out.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..diagnostics import Diagnostic, FieldPath, format_path
from ..patterns import Pattern

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
    "too_short": "must not be empty",
}


def validate(model: type[BaseModel], data: Any, prefix: FieldPath = ()) -> tuple[BaseModel | None, list[Diagnostic]]:
    """Validate `data` (found at `prefix` in the file) against `model`; return the instance or the diagnostics."""
    if not isinstance(data, dict):
        kind = _kind(data)
        if not prefix:
            return None, [Diagnostic((), f"the spec must be a mapping of fields at the top level, not {kind}")]
        return None, [Diagnostic(prefix, f"must be a mapping of fields, not {kind}")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, _once([to_diagnostic(model, err, prefix) for err in exc.errors(include_url=False)])


def _kind(value: Any) -> str:
    """What a value is, in YAML's words (never a Python class name)."""
    value = getattr(value, "value", value)  # a typed YAML scalar (source.Plain)
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    return "a list" if isinstance(value, list) else "a string"


def _once(problems: list[Diagnostic]) -> list[Diagnostic]:
    """Each problem said once: a field that is missing because it is misspelt is the typo's problem only."""
    suggested = {_suggestion(d.message) for d in problems} - {None}
    out: dict[Diagnostic, None] = {}
    for d in problems:
        if d.message == "is required" and format_path(d.path) in suggested:
            continue
        out.setdefault(d)
    return list(out)


def _suggestion(message: str) -> str | None:
    """The field an unknown-field message suggests in the same mapping (`...; did you mean a.b.command?`)."""
    if not message.startswith("unknown field; did you mean "):
        return None
    return message.removeprefix("unknown field; did you mean ").split("?")[0]


def to_diagnostic(root: type[BaseModel], err: dict, prefix: FieldPath = ()) -> Diagnostic:
    from dataclasses import replace

    diag = _diagnostic(root, err, prefix)
    hint = _hint(root, err, diag)
    return replace(diag, hint=hint) if hint else diag


_UNIT = Pattern(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT])i?B?\s*\Z", re.I)
_POSIX_KEY = Pattern(r"[A-Za-z_][A-Za-z0-9_]*(=|\Z)")
_MB = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}


def _hint(root: type[BaseModel], err: dict, diag: Diagnostic) -> str | None:
    """What to write instead, for the mistakes people make most (see compiler/messages.py)."""
    value = err.get("input")
    text = getattr(value, "text", value)
    name = next((p for p in reversed(diag.path) if isinstance(p, str)), "")
    if err["type"] in ("int_type", "int_parsing") and isinstance(text, str):
        unit = _UNIT.match(text)
        if unit and name.lower().startswith("mem"):
            mb = float(unit.group(1)) * _MB[unit.group(2).upper()]
            return f"{name} is in MB, without a unit: write {mb:.0f} for {text.strip()}"
        if re.match(r"\s*[0-9.]+\s*[A-Za-z]+\s*\Z", text):
            return f"{name} is a plain number, without a unit"
    if err["type"] in ("model_type", "model_attributes_type") and isinstance(text, str) and _POSIX_KEY.match(text):
        model = model_at(root, _without_tags(root, tuple(err["loc"])))
        if model is not None and {"key", "value"} <= set(field_names(model)):
            key, sep, rest = text.partition("=")
            return f"write {{key: {key}, value: {rest}}}" if sep else f"write {{key: {text}, value: ...}}"
    if diag.message.startswith("must be a list of {key, value} mappings") and isinstance(value, dict) and value:
        key, item = next(iter(value.items()))
        return f"write {name}: [{{key: {key}, value: {getattr(item, 'text', item)}}}]"
    return None


def _diagnostic(root: type[BaseModel], err: dict, prefix: FieldPath = ()) -> Diagnostic:
    loc = tuple(err["loc"])
    if loc and loc[-1] == "[key]":
        inner = _diagnostic(root, {**err, "loc": loc[:-1], "type": _key_kind(err["type"])}, prefix)
        return Diagnostic(inner.path, f"the name {inner.message}", at_key=True)
    path = prefix + _without_tags(root, loc)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return Diagnostic(path, unknown_field_message(root, loc, prefix))
    if kind == "jobc":
        return Diagnostic(path, err["msg"])
    if kind == "union_tag_invalid":
        return Diagnostic(path + (_unquote(ctx["discriminator"]),), f"must be one of {', '.join(_tags_at(root, loc))}")
    if kind == "union_tag_not_found":
        return Diagnostic(path, f"needs a {_unquote(ctx['discriminator'])}: {' or '.join(_tags_at(root, loc))}")
    if kind in ("model_attributes_type", "model_type") and _tags_at(root, loc):
        tags = " or ".join(_tags_at(root, loc))
        return Diagnostic(path, f"must be a mapping of fields with a type ({tags})")
    if kind == "literal_error":
        return Diagnostic(path, f"must be one of {_unquote(ctx.get('expected', '')).replace(' or ', ', ')}")
    if kind == "greater_than_equal":
        return Diagnostic(path, f"must be at least {ctx['ge']}")
    if kind == "less_than_equal":
        return Diagnostic(path, f"must be at most {ctx['le']}")
    return Diagnostic(path, _TYPE_MESSAGES.get(kind, err["msg"]))


def _key_kind(kind: str) -> str:
    """A mapping key's error, reported at the key itself (it is not a field, so not an unknown one)."""
    return "key_" + kind if kind == "extra_forbidden" else kind


def _unquote(text: str) -> str:
    return text.replace("'", "")


def unknown_field_message(root: type[BaseModel], loc: tuple, prefix: FieldPath = ()) -> str:
    owner, _ = _walk(root, loc[:-1])
    if not (isinstance(owner, type) and issubclass(owner, BaseModel)):
        return "unknown field"
    key = str(loc[-1])
    known = field_names(owner)
    where = format_path(prefix + _without_tags(root, loc[:-1]))
    kind = "unknown field"

    def full(name: str) -> str:
        return f"{where}.{name}" if where else name

    one_down = [
        (f"{name}.{child_name}", child_name)
        for name in known
        for child in _direct_models(owner.model_fields[_attr(owner, name)].annotation)
        for child_name in field_names(child)
    ]
    # A field that exists as written one level down (the "Job (full)" example's `command` on a step)
    # beats a near miss here; a near miss here beats a near miss one level down (`comand`).
    for dotted, child_name in one_down:
        if child_name == key:
            return f"{kind}; did you mean {full(dotted)}?"
    same_but_case = [name for name in known if name.lower() == key.lower()]
    if same_but_case:
        return f"{kind}; did you mean {full(same_but_case[0])}? (field names are case-sensitive)"
    import difflib  # a near miss is looked for only in a spec with an unknown field

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"{kind}; did you mean {full(close[0])}?"
    close = difflib.get_close_matches(key, [child_name for _, child_name in one_down], n=1, cutoff=0.75)
    if close:
        dotted = next(d for d, child_name in one_down if child_name == close[0])
        return f"{kind}; did you mean {full(dotted)}?"
    return f"{kind} (known fields here: {', '.join(known)})"


def field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _attr(model: type[BaseModel], name: str) -> str:
    """The attribute of the field the user writes as `name` (its alias, or its own name)."""
    return next(n for n, info in model.model_fields.items() if (info.alias or n) == name)


def model_at(root: type[BaseModel], path: FieldPath) -> type[BaseModel] | None:
    """The model class that validates the value at `path` (a location without tags), if any."""
    model, _ = _walk(root, tuple(path))
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _without_tags(root: type[BaseModel], loc: tuple) -> FieldPath:
    return tuple(part for part, is_tag in _walk(root, loc)[1] if not is_tag)


def _walk(root: type[BaseModel], loc: tuple) -> tuple[Any, list[tuple[Any, bool]]]:
    """The model that validates the value at `loc` (or None), and each element of `loc` marked if it is a tag."""
    model: Any = root
    marked: list[tuple[Any, bool]] = []
    i = 0
    while i < len(loc):
        part = loc[i]
        marked.append((part, False))
        i += 1
        if isinstance(part, int) or part == "[key]":
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            model = None
            continue
        names = {(info.alias or n): n for n, info in model.model_fields.items()}
        if part not in names:
            model = None
            continue
        model, kind = _child(model.model_fields[names[part]].annotation, loc[i] if i < len(loc) else None)
        if kind in ("tag", "key") and i < len(loc):
            marked.append((loc[i], kind == "tag"))
            i += 1
    return model, marked


def _child(annotation: Any, nxt: Any) -> tuple[Any, str]:
    """The model under a field of this type; "tag" or "key" when the next location element is a union tag or a
    mapping key (list indexes are ints and skip themselves)."""
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, ""
    if origin is dict:
        return _child(typing.get_args(annotation)[1], None)[0], "key"
    if origin in (list, tuple):
        return _child(typing.get_args(annotation)[0], None)[0], ""
    options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if len(options) == 1:
        return _child(options[0], nxt)
    models = [m for m in (_child(arg, None)[0] for arg in options) if m is not None]
    if len(models) == 1:
        return models[0], ""
    for model in models:
        if "type" in model.model_fields and nxt in typing.get_args(model.model_fields["type"].annotation):
            return model, "tag"
    return None, ""


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _direct_models(annotation: Any) -> list[type[BaseModel]]:
    """The model of a field holding one mapping (not a list or a mapping of them), if any."""
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (list, tuple, dict):
        return []
    options = [_unwrap(arg) for arg in typing.get_args(annotation) if arg is not type(None)] or [annotation]
    models = [m for m in options if isinstance(m, type) and issubclass(m, BaseModel)]
    return models if len(models) == 1 else []


def _tags_at(root: type[BaseModel], loc: tuple) -> list[str]:
    """The tags of the discriminated union that validates the value at `loc` (none if it is not one)."""
    parent, _ = _walk(root, loc[:-1])
    if not (loc and isinstance(parent, type) and issubclass(parent, BaseModel)):
        return []
    names = {(info.alias or n): n for n, info in parent.model_fields.items()}
    if loc[-1] not in names:
        return []
    annotation = _unwrap(parent.model_fields[names[loc[-1]]].annotation)
    options = [_unwrap(arg) for arg in typing.get_args(annotation) if arg is not type(None)]
    if len(options) == 1:
        options = [_unwrap(arg) for arg in typing.get_args(options[0]) if arg is not type(None)]
    tags = []
    for model in options:
        if isinstance(model, type) and issubclass(model, BaseModel) and "type" in model.model_fields:
            tags += list(typing.get_args(model.model_fields["type"].annotation))
    return tags if len(tags) > 1 else []


def valid_part(model: type[BaseModel], data: Any, problems: list[Diagnostic]) -> Any:
    """`data` without the fields that hold its problems, if that leaves a valid spec (else None).

    The passes' checks (a `dependsOn` naming no launch) then still run on the rest, so one run
    reports a typo and a bad reference together. An unknown field is dropped; a bad or incomplete
    value drops the nearest optional field holding it. Dropping a launch or a handle would make its
    references look wrong, so then nothing is salvaged.
    """
    import copy

    data = copy.deepcopy(data)
    for _ in range(5):
        for problem in problems:
            where = _droppable(model, data, problem)
            if where is None or any(part in ("launch", "handleName") for part in where):
                return None
            _drop(data, where)
        try:
            model.model_validate(data)
            return data
        except ValidationError as exc:
            problems = [to_diagnostic(model, err) for err in exc.errors(include_url=False)]
    return None


def _droppable(model: type[BaseModel], data: Any, problem: Diagnostic) -> FieldPath | None:
    path = tuple(problem.path)
    if problem.message.startswith("unknown field"):
        return path
    for end in range(len(path), 0, -1):
        here = path[:end]
        if not isinstance(here[-1], str):
            continue
        owner = model_at(model, here[:-1])
        names = {(info.alias or n): info for n, info in owner.model_fields.items()} if owner else {}
        if here[-1] in names and not names[here[-1]].is_required():
            return here
    return None


def _drop(data: Any, path: FieldPath) -> None:
    for part in path[:-1]:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(data, dict):
        data.pop(path[-1], None)
