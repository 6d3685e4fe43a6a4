"""The one generic walker over the step tree: each pass writes only the cases it changes.

A step's nested step lists are its attributes named in `STEP_LISTS` (the body of a loop, a launch or a
group, then `catch`, then `finally_steps`). The walker reads them by name, so it needs no import of the
IR's classes (`ir` re-exports it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Iterator

STEP_LISTS = ("steps", "catch", "finally_steps")


def children(step: Any) -> tuple[Any, ...]:
    """The steps nested in `step`: its body's, then its catch's, then its finally's."""
    body, catch, finally_steps = (getattr(step, name, ()) for name in STEP_LISTS)
    if catch or finally_steps:
        return tuple(body) + tuple(catch) + tuple(finally_steps)
    return tuple(body)


def map_steps(steps: tuple[Any, ...], fn: Callable[[Any], Any]) -> tuple[Any, ...]:
    """Rebuild the tree bottom-up, applying `fn` to every step after its nested step lists.

    A step list in which no step changed is returned as it is (the same tuple), so its step is not copied."""
    out = []
    changed = False
    for step in steps:
        nested = None
        for name in STEP_LISTS:
            before = getattr(step, name, ())
            if before:
                after = map_steps(before, fn)
                if after is not before:
                    nested = nested or {}
                    nested[name] = after
        mapped = fn(replace(step, **nested) if nested else step)
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
