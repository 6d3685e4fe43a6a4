"""resolve_defaults: step resources inherit from the job, and must fit in it; slirp4netns maps root."""

from __future__ import annotations

import pytest

from jobc import ir
from jobc.diagnostics import SpecError
from jobc.passes.resolve_defaults import resolve_defaults

from .helpers import JOB_RES, SITE, job, launch, loop, messages, run


def resolved(step: ir.AnyStep) -> ir.AnyStep:
    return resolve_defaults(job(step), SITE).steps[0]


@pytest.mark.parametrize(
    "title, given, expected",
    [
        ("nothing given: 1 task, the job's per-task sizes", ir.PartialResources(), ir.Resources(1, 4, 1000, 1)),
        ("tasks given", ir.PartialResources(tasks=2), ir.Resources(2, 4, 1000, 1)),
        (
            "zero GPUs is kept, not replaced by the job's",
            ir.PartialResources(gpus_per_task=0),
            ir.Resources(1, 4, 1000, 0),
        ),
        ("everything given", ir.PartialResources(2, 2, 500, 1), ir.Resources(2, 2, 500, 1)),
        ("exactly the job's allocation", ir.PartialResources(2, 4, 1000, 1), ir.Resources(2, 4, 1000, 1)),
    ],
)
def test_step_resources(title: str, given: ir.PartialResources, expected: ir.Resources) -> None:
    step = resolved(run(resources=given))
    assert isinstance(step, ir.RunStep) and step.resources == expected


def test_nested_steps_are_resolved() -> None:
    out = resolve_defaults(job(loop(ir.ItemsLoop(("a",)), launch(None, run()))), SITE)
    inner = out.steps[0].steps[0].steps[0]
    assert inner.resources == ir.Resources(1, 4, 1000, 1)


@pytest.mark.parametrize(
    "title, given, problems",
    [
        (
            "too many tasks",
            ir.PartialResources(tasks=3),
            [
                "asks for 12 CPUs in all, more than the job's 8",
                "asks for 12000 MB memory in all, more than the job's 8000 MB",
                "asks for 3 GPUs in all, more than the job's 2",
            ],
        ),
        (
            "more memory per CPU",
            ir.PartialResources(mem_per_cpu=1001, tasks=2),
            ["asks for 8008 MB memory in all, more than the job's 8000 MB"],
        ),
        ("more GPUs per task", ir.PartialResources(gpus_per_task=3), ["asks for 3 GPUs in all, more than the job's 2"]),
    ],
)
def test_step_larger_than_the_job(title: str, given: ir.PartialResources, problems: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        resolve_defaults(job(run(resources=given, path=("steps", 3))), SITE)
    assert messages(info.value) == [("steps[3].run.resources", p) for p in problems]


def test_every_step_too_large_is_reported() -> None:
    big = ir.PartialResources(tasks=3)
    with pytest.raises(SpecError) as info:
        resolve_defaults(
            job(
                run(resources=big, path=("steps", 0)),
                loop(ir.ItemsLoop(("a",)), run(resources=big, path=("steps", 1, "for", "steps", 0)), path=("steps", 1)),
            ),
            SITE,
        )
    assert {p for p, _ in messages(info.value)} == {"steps[0].run.resources", "steps[1].for.steps[0].run.resources"}


@pytest.mark.parametrize(
    "title, network, map_root, expected",
    [
        ("host network keeps mapRoot off", ir.Network("host"), False, False),
        ("slirp4netns maps the user to root", ir.Network("slirp4netns"), False, True),
        ("mapRoot asked for", ir.Network("host"), True, True),
    ],
)
def test_map_root(title: str, network: ir.Network, map_root: bool, expected: bool) -> None:
    assert resolved(run(network=network, map_root=map_root)).map_root is expected


def test_already_resolved_steps_are_left_alone() -> None:
    step = run(resources=ir.Resources(100, 100, 100, 100))
    assert resolved(step) is step
    assert JOB_RES.cpus == 8
