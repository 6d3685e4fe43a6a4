"""Step groups (`steps` inside a step): lowered to ir.GroupStep, walked like every step list, one scope."""

from __future__ import annotations

import pytest

from jobc import compile_spec, ir
from jobc.diagnostics import SpecError
from jobc.frontends import deepsquare
from jobc.passes.check_handles import check_handles
from jobc.site import Site

RES = {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 64, "gpusPerTask": 0}


def lower(*steps: dict) -> ir.Job:
    return deepsquare.to_ir({"resources": RES, "steps": list(steps)}, name="job.yaml")


def test_a_step_holding_steps_is_a_group_of_its_steps_with_their_paths() -> None:
    job = lower({"name": "outer", "steps": [{"name": "a", "run": {"command": "true"}}, {"steps": [{"name": "b"}]}]})
    (group,) = job.steps
    assert isinstance(group, ir.GroupStep) and group.name == "outer"
    first, inner = group.steps
    assert isinstance(first, ir.RunStep) and first.path == ("steps", 0, "steps", 0)
    assert isinstance(inner, ir.GroupStep) and inner.steps[0].path == ("steps", 0, "steps", 1, "steps", 0)


def test_an_empty_step_list_is_no_group() -> None:
    (step,) = lower({"name": "nothing", "steps": []}).steps
    assert isinstance(step, ir.NoteStep)


def test_the_walker_descends_into_groups_catch_and_finally() -> None:
    leaf = ir.NoteStep(name="leaf")
    step = ir.GroupStep(
        name="g",
        steps=(ir.GroupStep(name="inner", steps=(leaf,)),),
        catch=(ir.NoteStep(name="c"),),
        finally_steps=(ir.NoteStep(name="f"),),
    )
    assert [s.name for s in ir.walk((step,))] == ["g", "inner", "leaf", "c", "f"]
    assert [s.name for s in ir.children(step)] == ["inner", "c", "f"]
    renamed = ir.map_steps((step,), lambda s: s if isinstance(s, ir.GroupStep) else ir.NoteStep(name=f"{s.name}!"))
    assert [s.name for s in ir.walk(renamed)] == ["g", "inner", "leaf!", "c!", "f!"]


def test_launches_in_a_group_are_numbered_and_scoped_to_it() -> None:
    job = check_handles(
        lower(
            {"launch": {"handleName": "outer", "steps": []}},
            {"steps": [{"launch": {"handleName": "inner", "steps": []}}, {"dependsOn": ["inner"]}]},
        )
    )
    outer, group = job.steps
    assert outer.slot == 1 and group.steps[0].slot == 2 and group.steps[1].awaits == (2,)


def test_a_step_in_a_group_cannot_await_a_launch_of_the_enclosing_list() -> None:
    with pytest.raises(SpecError) as exc:
        check_handles(lower({"launch": {"handleName": "mon", "steps": []}}, {"steps": [{"dependsOn": ["mon"]}]}))
    (problem,) = exc.value.diagnostics
    assert problem.path == ("steps", 1, "steps", 0, "dependsOn", 0)
    assert problem.message == "no launch with handleName 'mon' before this step in the same step list"


def test_a_group_renders_as_one_subshell_whose_launches_end_with_it() -> None:
    spec = """
resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 64, gpusPerTask: 0}
steps:
  - name: group
    steps:
      - launch: {handleName: mon, steps: [{name: mon, run: {command: sleep 100}}]}
      - name: work
        run: {command: "true"}
  - name: after
"""
    script = compile_spec(spec, name="job.yaml", site=Site()).script
    body = script[script.index("jobc_step group") : script.index("jobc_step after")]
    assert "(\n    trap jobc_abort_launches EXIT" in body
    assert body.index("jobc_step work") < body.index("jobc_end_scope 1") < body.rindex(")")
