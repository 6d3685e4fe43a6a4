"""Give each `for` loop its variable, and warn about ranges that run no iteration.

An `items` loop exports `$item`, a `range` loop `$index` (decision 8). An inner
loop of the same kind shadows the outer variable for its body. A range whose
increment points away from its end (`begin: 1, end: 3, increment: -1`) is valid
and empty; it is most likely a mistake, so it gets a warning.

The reference also mentions `{{ .Item }}`. Splicing an item into a command would
let the item's text become shell syntax, so it is not substituted: a command that
uses it gets a warning pointing to `$item`.
"""

from __future__ import annotations

import re

from .. import ir
from ..diagnostics import Diagnostic, warning

_GO_ITEM = re.compile(r"\{\{\s*\.Item\s*\}\}")


def lower_loops(job: ir.Job, site: object = None) -> ir.Job:
    notes: list[Diagnostic] = []

    def lower(step: ir.AnyStep) -> ir.AnyStep:
        if not isinstance(step, ir.LoopStep):
            return step
        if isinstance(step.over, ir.RangeLoop):
            r = step.over
            if not r.values():
                notes.append(
                    warning(
                        step.at("over"), f"runs no iteration: from {r.begin} by {r.increment} never reaches {r.end}"
                    )
                )
            return ir.evolve(step, variable="index")
        return ir.evolve(step, variable="item")

    steps = ir.map_steps(job.steps, lower)
    for step in ir.walk(steps):
        if isinstance(step, ir.RunStep) and _GO_ITEM.search(step.command):
            notes.append(warning(step.at("command"), '{{ .Item }} is not substituted by jobc; use "$item"'))
    return ir.evolve(job, steps=steps, warnings=job.warnings + tuple(notes))
