"""StepWriter: the step tree written as bash lines, one piece per top-level step, every spec value quoted.

The goldens and the flow tests run whole scripts; these look at the writer's own seams on IR built by hand:
the pieces it hands the template, an empty scope, quoting of names, conditions and handles, and the indent of
an srun line's continuation lines under nesting.
"""

from __future__ import annotations

import shlex

from jobc import ir
from jobc.backend.features import features
from jobc.backend.steps import StepWriter
from jobc.diagnostics import format_path
from jobc.site import Site

RES = ir.Resources(tasks=1, cpus_per_task=1, mem_per_cpu=512, gpus_per_task=0)


def pieces(*steps: ir.AnyStep) -> list[str]:
    job = ir.Job(name="j", resources=RES, steps=steps)
    return list(StepWriter(job, Site(), features(job), None, format_path).top_level())


def test_each_top_level_step_is_one_piece_and_the_scope_ends_with_its_launches() -> None:
    note = ir.NoteStep(name="first", path=("steps", 0))
    launch = ir.LaunchStep(name="bg", slot=1, path=("steps", 1), steps=(ir.NoteStep(path=("steps", 1, "steps", 0)),))
    assert pieces(note, launch) == [
        '  # steps[0] "first"\n  jobc_step first\n  :',
        "\n\n"
        '  # steps[1] "bg"\n'
        "  jobc_step bg\n"
        "  {\n"
        "    jobc_enter_group\n"
        "    # steps[1].steps[0]\n"
        "    jobc_step 'steps[1].steps[0]'\n"
        "    :\n"
        "  } &\n"
        "  jobc_launched 1 \"$!\" 15 'steps[1]'",  # no handle: shown by its place in the spec
        "\n\n  jobc_end_scope 1",
    ]


def test_an_empty_scope_is_a_no_op_command() -> None:
    """bash refuses an empty `( )`: the scope's body is `:`."""
    [text] = pieces(ir.GroupStep(name="g", path=("steps", 0)))
    assert text == '  # steps[0] "g"\n  jobc_step g\n  (\n    : # no steps\n  )'


def test_names_conditions_and_handles_are_quoted() -> None:
    hostile = "x'; touch /tmp/owned; '$(id)"
    group = ir.GroupStep(name=hostile, condition=hostile, path=("steps", 0))
    launch = ir.LaunchStep(
        handle=hostile, slot=1, path=("steps", 1), steps=(ir.NoteStep(path=("steps", 1, "steps", 0)),)
    )
    first, second, _ = pieces(group, launch)
    quoted = shlex.quote(hostile)
    assert f"  jobc_step {quoted}\n" in first
    assert f"  if jobc_if {quoted} {quoted}; then\n" in first
    assert second.endswith(f'  jobc_launched 1 "$!" 15 {quoted}')
    assert all(shlex.split(line, comments=True) is not None for line in (first + second).splitlines())


def test_an_srun_line_goes_on_under_its_step_at_any_depth() -> None:
    run = ir.RunStep(command="true", resources=RES, path=("steps", 0, "steps", 0, "steps", 0))
    loop = ir.LoopStep(
        over=ir.ItemsLoop(items=("a", "b")), variable="item", steps=(run,), path=("steps", 0, "steps", 0)
    )
    [text] = pieces(ir.GroupStep(steps=(loop,), path=("steps", 0)))
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("srun "))
    depth = len(lines[start]) - len(lines[start].lstrip())
    assert depth == 2 + 2 + 6 + 2  # the job's steps, the group, the loop's body, the run step's subshell
    continued = lines[start + 1 : next(i for i in range(start, len(lines)) if not lines[i].endswith("\\")) + 1]
    assert continued and all(line.startswith(" " * (depth + 2)) and line[depth + 2] != " " for line in continued)
    assert lines[start - 1] == " " * depth + "jobc_load_env"
