"""srun lines: iteration names told apart, inherited resources said out loud, resources in readable units."""

from __future__ import annotations

import pytest

from jobc import compile_spec, ir
from jobc.backend.srun import inherited_note, job_name, memory, resources_text


@pytest.mark.parametrize("mb, text", [(4096, "4 GiB"), (1024, "1 GiB"), (512, "512 MiB"), (1500, "1500 MiB")])
def test_memory(mb: int, text: str) -> None:
    assert memory(mb) == text


def test_resources_text() -> None:
    assert resources_text(ir.Resources(4, 8, 4096, 1)) == "4 tasks × 8 CPUs, 4 GiB/CPU, 1 GPU/task"
    assert resources_text(ir.Resources(1, 1, 512, 0)) == "1 task × 1 CPU, 512 MiB/CPU"
    assert resources_text(ir.Resources(1, 2, 512, 2), ("cpus_per_task", "gpus_per_task")) == "2 CPUs/task, 2 GPUs/task"


def step(inherited: tuple[str, ...], res: ir.Resources) -> ir.RunStep:
    return ir.RunStep(command="true", resources=res, inherited=inherited)


@pytest.mark.parametrize(
    "title, inherited, res, note",
    [
        (
            "many CPUs and a GPU taken from the job",
            ("cpus_per_task", "mem_per_cpu", "gpus_per_task"),
            ir.Resources(1, 8, 4096, 1),
            "inherits the job's 8 CPUs/task, 4 GiB/CPU, 1 GPU/task (the step states none of its own)",
        ),
        (
            "one CPU, no GPU: nothing worth saying",
            ("cpus_per_task", "mem_per_cpu", "gpus_per_task"),
            ir.Resources(1, 1, 4096, 0),
            "",
        ),
        ("CPUs stated by the step", ("mem_per_cpu", "gpus_per_task"), ir.Resources(1, 8, 4096, 0), ""),
        (
            "only the GPU inherited",
            ("gpus_per_task",),
            ir.Resources(1, 8, 4096, 1),
            "inherits the job's 1 GPU/task (the step states none of its own)",
        ),
    ],
)
def test_inherited_note(title: str, inherited, res, note: str) -> None:
    assert inherited_note(step(inherited, res)) == note


def test_job_name_of_an_iteration_carries_its_values() -> None:
    named = ir.RunStep(command="true", name="train it's", path=("steps", 0))
    assert job_name(named) == "'train it'\"'\"'s'"
    assert job_name(named, ("item", "index")) == "'train it'\"'\"'s'\" [item=${item:0:40}, index=${index:0:40}]\""


SPEC = """\
resources: {tasks: 1, cpusPerTask: 2, memPerCpu: 512, gpusPerTask: 0}
steps:
  - name: outer
    for:
      items: [a, b]
      steps:
        - name: inner
          for:
            range: {begin: 1, end: 2}
            steps:
              - name: leaf
                run: {command: "true", resources: {cpusPerTask: 1}}
        - name: shadow
          for:
            items: [x]
            steps:
              - name: deep
                run: {command: "true"}
"""


def test_names_in_nested_loops_and_the_inherited_note_in_the_script() -> None:
    script = compile_spec(SPEC).script
    assert 'srun --job-name=leaf" [item=${item:0:40}, index=${index:0:40}]"' in script
    # the inner items loop shadows the outer one's $item: it is named once, as the inner value
    assert 'srun --job-name=deep" [item=${item:0:40}]"' in script
    lines = script.splitlines()
    at = lines.index('              # steps[0].for.steps[1].for.steps[0] "deep" (job.yaml:17)')
    assert lines[at + 1].strip() == "# inherits the job's 2 CPUs/task, 512 MiB/CPU (the step states none of its own)"
    assert (
        "inherits"
        not in lines[lines.index('              # steps[0].for.steps[0].for.steps[0] "leaf" (job.yaml:11)') + 1]
    )
