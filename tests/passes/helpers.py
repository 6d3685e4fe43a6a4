"""Small IR builders for the pass tests."""

from __future__ import annotations

from jobc import ir
from jobc.site import Site

JOB_RES = ir.Resources(tasks=2, cpus_per_task=4, mem_per_cpu=1000, gpus_per_task=1)
SITE = Site()


def job(*steps: ir.AnyStep, **fields) -> ir.Job:
    fields.setdefault("resources", JOB_RES)
    return ir.Job(name="t", steps=tuple(steps), **fields)


def run(command: str = "true", path: tuple = ("steps", 0), **fields) -> ir.RunStep:
    return ir.RunStep(command=command, path=path, **fields)


def launch(handle: str | None, *steps: ir.AnyStep, path: tuple = ("steps", 0), **fields) -> ir.LaunchStep:
    return ir.LaunchStep(handle=handle, steps=tuple(steps), path=path, **fields)


def loop(over, *steps: ir.AnyStep, path: tuple = ("steps", 0), **fields) -> ir.LoopStep:
    return ir.LoopStep(over=over, steps=tuple(steps), path=path, **fields)


def messages(exc) -> list[tuple[str, str]]:
    from jobc.diagnostics import format_path

    return [(format_path(d.path), d.message) for d in exc.diagnostics]
