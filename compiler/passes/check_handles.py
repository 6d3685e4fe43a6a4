"""Check `launch` handles and `dependsOn`, and give every launch a slot number.

Rules (the project's decisions 5 and 6): a handle is case-insensitive and unique
among the launches of one step list; `dependsOn` may only name a launch of the
same step list that comes before it. Every step list is its own level: a loop's,
a launch's, a group's (`steps` inside a step), a `catch` and a `finally`. Handles are stored lower-cased. Slots number
launches across the whole job, in source order, for the script's PID variables.
"""

from __future__ import annotations

import operator

from .. import ir
from ..diagnostics import Diagnostic, error, fail


def check_handles(job: ir.Job, site: object = None) -> ir.Job:
    problems: list[Diagnostic] = []
    counter = [0]
    steps = _scope(job.steps, problems, counter)
    if problems:
        fail(problems)
    return ir.evolve(job, steps=steps)


def _scope(steps: tuple[ir.AnyStep, ...], problems: list[Diagnostic], counter: list[int]) -> tuple[ir.AnyStep, ...]:
    seen: dict[str, int] = {}
    out = []
    for step in steps:
        awaits = []
        for i, name in enumerate(step.depends_on):
            if name.lower() not in seen:
                problems.append(error(step.at("depends_on") + (i,), _unknown(name, seen)))
            else:
                awaits.append(seen[name.lower()])
        if step.depends_on or step.awaits:  # most steps depend on nothing: no copy of them
            step = ir.evolve(step, depends_on=tuple(n.lower() for n in step.depends_on), awaits=tuple(awaits))
        if isinstance(step, ir.LaunchStep):
            counter[0] += 1
            slot = counter[0]
            handle = step.handle.lower() if step.handle else None
            if handle is not None:
                if handle in seen:
                    problems.append(
                        error(
                            step.at("handle"), f"handle {handle!r} is already used by another launch of this step list"
                        )
                    )
                seen[handle] = slot
            step = ir.evolve(step, handle=handle, slot=slot, steps=_scope(step.steps, problems, counter))
        elif isinstance(step, (ir.LoopStep, ir.GroupStep, ir.ModuleStep)):
            body = _scope(step.steps, problems, counter)
            if body is not step.steps:
                step = ir.evolve(step, steps=body)
        if step.catch or step.finally_steps:
            catch = _scope(step.catch, problems, counter)
            step = ir.evolve(step, catch=catch, finally_steps=_scope(step.finally_steps, problems, counter))
        out.append(step)
    if all(map(operator.is_, out, steps)):  # nothing in this step list changed: its step is not copied
        return steps
    return tuple(out)


def _unknown(name: str, seen: dict[str, int]) -> str:
    if seen:
        return f"no launch with handleName {name!r} before this step in the same step list (known: {', '.join(seen)})"
    return f"no launch with handleName {name!r} before this step in the same step list"
