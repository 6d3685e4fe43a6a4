"""`if`, `catch` and `finally`: lowered onto every step kind, scoped like any step list, rendered once each."""

from __future__ import annotations

import pytest

from jobc import compile_spec, ir
from jobc.diagnostics import SpecError
from jobc.passes.check_handles import check_handles
from jobc.site import Site

from .test_groups import lower


def script_of(*steps: dict) -> str:
    import json

    spec = {"resources": {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 64, "gpusPerTask": 0}, "steps": list(steps)}
    return compile_spec(json.dumps(spec), name="job.json", site=Site()).script


def steps_function(script: str) -> str:
    return script[script.index("jobc_steps() {") : script.index("\n}\n", script.index("jobc_steps() {"))]


@pytest.mark.parametrize(
    "body",
    [
        {"run": {"command": "true"}},
        {"for": {"parallel": False, "items": ["a"], "steps": []}},
        {"launch": {"steps": []}},
        {"steps": [{"name": "x"}]},
        {},
    ],
    ids=["run", "for", "launch", "group", "note"],
)
def test_every_step_kind_carries_if_catch_and_finally_with_their_paths(body: dict) -> None:
    (step,) = lower({"name": "s", "if": "-n $X", "catch": [{"name": "c"}], "finally": [{"name": "f"}], **body}).steps
    assert step.condition == "-n $X"
    assert [(s.name, s.path) for s in step.catch] == [("c", ("steps", 0, "catch", 0))]
    assert [(s.name, s.path) for s in step.finally_steps] == [("f", ("steps", 0, "finally", 0))]
    assert step.at("condition") == ("steps", 0, "if")


def test_empty_if_catch_and_finally_count_as_absent() -> None:
    (step,) = lower({"name": "s", "if": "", "catch": [], "finally": []}).steps
    assert (step.condition, step.catch, step.finally_steps) == (None, (), ())


def test_catch_and_finally_are_step_lists_of_their_own_for_depends_on() -> None:
    with pytest.raises(SpecError) as exc:
        check_handles(
            lower(
                {"launch": {"handleName": "mon", "steps": []}},
                {"name": "s", "catch": [{"dependsOn": ["mon"]}], "finally": [{"dependsOn": ["mon"]}]},
            )
        )
    assert [(d.path, d.message) for d in exc.value.diagnostics] == [
        (p, "no launch with handleName 'mon' before this step in the same step list")
        for p in (("steps", 1, "catch", 0, "dependsOn", 0), ("steps", 1, "finally", 0, "dependsOn", 0))
    ]


def test_launches_of_catch_and_finally_get_their_own_slots() -> None:
    job = check_handles(
        lower(
            {
                "catch": [{"launch": {"handleName": "a", "steps": []}}, {"dependsOn": ["a"]}],
                "finally": [{"launch": {"handleName": "a", "steps": []}}],
            }
        )
    )
    (step,) = job.steps
    assert step.catch[0].slot == 1 and step.catch[1].awaits == (1,) and step.finally_steps[0].slot == 2
    assert isinstance(step, ir.NoteStep)


def test_the_if_text_is_one_quoted_word_and_nothing_is_exported() -> None:
    body = steps_function(script_of({"name": "s", "if": "$A == 'x y' && $(id -u) -eq 0", "run": {"command": "true"}}))
    assert "if jobc_if s '$A == '\"'\"'x y'\"'\"' && $(id -u) -eq 0'; then" in body
    assert "CONDITION" not in body


def test_only_a_job_with_finally_keeps_its_step_shells_through_sigterm() -> None:
    plain = script_of({"name": "s", "catch": [{"name": "c", "run": {"command": "true"}}], "run": {"command": "false"}})
    assert "( jobc_steps ) &" in plain and "trap '' HUP INT TERM; jobc_steps" not in plain
    assert "jobc_finally_srun" not in plain
    fin = script_of({"name": "s", "finally": [{"name": "f", "run": {"command": "true"}}], "run": {"command": "false"}})
    assert "( trap '' HUP INT TERM; jobc_steps ) &" in fin
    body = steps_function(fin)
    assert body.count("jobc_finally_srun srun") == 1 and body.count(" srun --") == 2  # the finally's srun only
    assert body.count("jobc_step f") == 1  # run once, never from a trap


def test_a_launch_guards_its_steps_inside_its_background_group() -> None:
    body = steps_function(
        script_of({"name": "l", "launch": {"steps": [{"name": "x"}]}, "finally": [{"name": "f"}]}),
    )
    group = body[body.index("{\n    jobc_enter_group") : body.index("} &")]
    assert "JOBC_BODY_RC=$?" in group and "jobc_step f" in group and 'exit "$JOBC_STEP_RC"' in group


def test_the_schema_has_the_control_flow_fields() -> None:
    from jobc.schema import job_schema

    step = job_schema()["$defs"]["Step"]["properties"]
    assert {"if", "steps", "catch", "finally"} <= set(step)
    assert "Step" in str(step["catch"]) and "Step" in str(step["finally"]) and "Step" in str(step["steps"])
