"""Small IR builders for the pass tests."""

from __future__ import annotations

from jobc import ir
from jobc.site import Site

JOB_RES = ir.Resources(tasks=2, cpus_per_task=4, mem_per_cpu=1000, gpus_per_task=1)
SITE = Site()


def job(*steps: ir.AnyStep, **fields) -> ir.Job:
    fields.setdefault("resources", JOB_RES)
    return ir.Job(name="t", steps=tuple(steps), **fields)


# The nodes record where their fields are written, as the DeepSquare frontend does: the passes report there.


def run(command: str = "true", path: tuple = ("steps", 0), **fields) -> ir.RunStep:
    where = (
        ("depends_on", path + ("dependsOn",)),
        ("resources", path + ("run", "resources")),
        ("command", path + ("run", "command")),
    )
    return ir.RunStep(command=command, path=path, **{"field_paths": where, **fields})


def launch(handle: str | None, *steps: ir.AnyStep, path: tuple = ("steps", 0), **fields) -> ir.LaunchStep:
    where = (("depends_on", path + ("dependsOn",)), ("handle", path + ("launch", "handleName")))
    return ir.LaunchStep(handle=handle, steps=tuple(steps), path=path, **{"field_paths": where, **fields})


def loop(over, *steps: ir.AnyStep, path: tuple = ("steps", 0), **fields) -> ir.LoopStep:
    where = (("depends_on", path + ("dependsOn",)), ("over", path + ("for", "range")))
    return ir.LoopStep(over=over, steps=tuple(steps), path=path, **{"field_paths": where, **fields})


def note(path: tuple = ("steps", 0), **fields) -> ir.NoteStep:
    return ir.NoteStep(path=path, **{"field_paths": (("depends_on", path + ("dependsOn",)),), **fields})


def messages(exc) -> list[tuple[str, str]]:
    from jobc.diagnostics import format_path

    return [(format_path(d.path), d.message) for d in exc.diagnostics]
