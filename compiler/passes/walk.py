"""One generic walker over the step tree, so each pass writes only the cases it changes."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterator

from .. import ir


def children(step: ir.AnyStep) -> tuple[ir.AnyStep, ...]:
    return step.steps if isinstance(step, (ir.LoopStep, ir.LaunchStep)) else ()


def map_steps(steps: tuple[ir.AnyStep, ...], fn: Callable[[ir.AnyStep], ir.AnyStep]) -> tuple[ir.AnyStep, ...]:
    """Rebuild the tree bottom-up, applying `fn` to every step after its children."""
    out = []
    for step in steps:
        if isinstance(step, (ir.LoopStep, ir.LaunchStep)):
            step = replace(step, steps=map_steps(step.steps, fn))
        out.append(fn(step))
    return tuple(out)


def walk(steps: tuple[ir.AnyStep, ...]) -> Iterator[ir.AnyStep]:
    """Every step, parents before children, in source order."""
    for step in steps:
        yield step
        yield from walk(children(step))


def run_steps(job: ir.Job) -> Iterator[ir.RunStep]:
    return (s for s in walk(job.steps) if isinstance(s, ir.RunStep))
