"""The one generic walker over the step tree: each pass writes only the cases it changes.

A step's nested step lists are its attributes named in `STEP_LISTS` (the body of a loop, a launch or a
group, then `catch`, then `finally_steps`). The walker reads them by name, so it needs no import of the
IR's classes (`ir` re-exports it).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Callable, Iterator, TypeVar

STEP_LISTS = ("steps", "catch", "finally_steps")

Node = TypeVar("Node")


def evolve(node: Node, **changes: Any) -> Node:
    """`dataclasses.replace` for the IR's frozen nodes: a copy of `node` with `changes`, made without `__init__`.

    `replace` calls `__init__` with every field, which made it most of the passes' time on a large job
    (a step has some thirty fields; every step gets copied). A copy of a valid node is valid, so only the
    names are checked, and a required step field (`ir.required()`) that is set to None."""
    kind = type(node)
    names, required = _FIELDS.get(kind) or _fields_of(kind)
    if not names.issuperset(changes):
        unknown = ", ".join(sorted(changes.keys() - names))
        raise TypeError(f"{kind.__name__} has no field {unknown}")
    for name in required:
        if name in changes and changes[name] is None:
            missing = ", ".join(n for n in required if n in changes and changes[n] is None)
            raise TypeError(f"{kind.__name__}() missing required keyword argument(s): {missing}")
    new = object.__new__(kind)
    state = new.__dict__
    state.update(node.__dict__)
    state.update(changes)
    return new


_FIELDS: dict[type, tuple[frozenset[str], tuple[str, ...]]] = {}


def _fields_of(kind: type) -> tuple[frozenset[str], tuple[str, ...]]:
    found = _FIELDS.get(kind)
    if found is None:
        found = _FIELDS[kind] = (
            frozenset(f.name for f in fields(kind)),
            tuple(f.name for f in fields(kind) if f.metadata.get("required")),
        )
    return found


_LISTS: dict[type, tuple[str, ...]] = {}  # each step kind's names among STEP_LISTS, looked up once


def _lists_of(kind: type) -> tuple[str, ...]:
    found = _LISTS.get(kind)
    if found is None:
        found = _LISTS[kind] = tuple(name for name in STEP_LISTS if name in _fields_of(kind)[0])
    return found


def children(step: Any) -> tuple[Any, ...]:
    """The steps nested in `step`: its body's, then its catch's, then its finally's."""
    found: tuple[Any, ...] = ()
    for name in _LISTS.get(type(step)) or _lists_of(type(step)):
        nested = getattr(step, name)
        if nested:
            found = found + tuple(nested) if found else tuple(nested)
    return found


def map_steps(steps: tuple[Any, ...], fn: Callable[[Any], Any]) -> tuple[Any, ...]:
    """Rebuild the tree bottom-up, applying `fn` to every step after its nested step lists.

    A step list in which no step changed is returned as it is (the same tuple), so its step is not copied."""
    out = []
    changed = False
    for step in steps:
        nested = None
        for name in _LISTS.get(type(step)) or _lists_of(type(step)):
            before = getattr(step, name)
            if before:
                after = map_steps(before, fn)
                if after is not before:
                    nested = nested or {}
                    nested[name] = after
        mapped = fn(evolve(step, **nested) if nested else step)
        changed = changed or mapped is not step
        out.append(mapped)
    return tuple(out) if changed else steps


def walk(steps: tuple[Any, ...]) -> Iterator[Any]:
    """Every step, parents before children, in source order.

    One iterator per open step list on a stack, not one generator per level: a step `yield from`-ed up
    through every level above it made a walk of a deep tree cost its depth per step."""
    stack = [iter(steps)]
    while stack:
        for step in stack[-1]:
            yield step
            nested = children(step)
            if nested:
                stack.append(iter(nested))
                break
        else:
            stack.pop()
