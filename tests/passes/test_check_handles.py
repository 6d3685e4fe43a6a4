"""check_handles: dependsOn names an earlier launch of the same step list; handles are unique."""

from __future__ import annotations

import pytest

from jobc import ir
from jobc.diagnostics import SpecError
from jobc.passes.check_handles import check_handles

from . import helpers
from .helpers import SITE, job, launch, loop, messages, run


def note(*depends: str, path: tuple) -> ir.NoteStep:
    return helpers.note(depends_on=depends, path=path)


def test_awaits_the_slot_of_the_named_launch_case_insensitively() -> None:
    out = check_handles(
        job(
            launch("First", path=("steps", 0)),
            launch("second", path=("steps", 1)),
            note("SECOND", "first", path=("steps", 2)),
        ),
        SITE,
    )
    first, second, waiter = out.steps
    assert (first.handle, first.slot) == ("first", 1)
    assert (second.handle, second.slot) == ("second", 2)
    assert waiter.depends_on == ("second", "first") and waiter.awaits == (2, 1)


def test_slots_number_launches_across_the_job_in_source_order() -> None:
    out = check_handles(
        job(
            launch("a", launch("b", path=("steps", 0, "launch", "steps", 0)), path=("steps", 0)),
            loop(ir.ItemsLoop(("x",)), launch(None, path=("steps", 1, "for", "steps", 0)), path=("steps", 1)),
            launch(None, path=("steps", 2)),
        ),
        SITE,
    )
    assert out.steps[0].slot == 1 and out.steps[0].steps[0].slot == 2
    assert out.steps[1].steps[0].slot == 3 and out.steps[2].slot == 4


@pytest.mark.parametrize(
    "title, steps, expected",
    [
        (
            "unknown handle",
            [note("nope", path=("steps", 0))],
            [("steps[0].dependsOn[0]", "no launch with handleName 'nope' before this step in the same step list")],
        ),
        (
            "defined after the step",
            [note("later", path=("steps", 0)), launch("later", path=("steps", 1))],
            [("steps[0].dependsOn[0]", "no launch with handleName 'later' before this step in the same step list")],
        ),
        (
            "a launch of an inner step list",
            [
                launch("outer", launch("inner", path=("steps", 0, "launch", "steps", 0)), path=("steps", 0)),
                note("inner", path=("steps", 1)),
            ],
            [
                (
                    "steps[1].dependsOn[0]",
                    "no launch with handleName 'inner' before this step in the same step list (known: outer)",
                )
            ],
        ),
        (
            "a launch of the outer step list",
            [
                launch("outer", path=("steps", 0)),
                loop(ir.ItemsLoop(("a",)), note("outer", path=("steps", 1, "for", "steps", 0)), path=("steps", 1)),
            ],
            [
                (
                    "steps[1].for.steps[0].dependsOn[0]",
                    "no launch with handleName 'outer' before this step in the same step list",
                )
            ],
        ),
        (
            "duplicate handle, other case",
            [launch("job_1", path=("steps", 0)), launch("JOB_1", path=("steps", 1))],
            [("steps[1].launch.handleName", "handle 'job_1' is already used by another launch of this step list")],
        ),
        (
            "every problem at once",
            [note("a", "b", path=("steps", 0)), launch("x", path=("steps", 1)), launch("X", path=("steps", 2))],
            [
                ("steps[0].dependsOn[0]", "no launch with handleName 'a' before this step in the same step list"),
                ("steps[0].dependsOn[1]", "no launch with handleName 'b' before this step in the same step list"),
                ("steps[2].launch.handleName", "handle 'x' is already used by another launch of this step list"),
            ],
        ),
    ],
)
def test_problems(title: str, steps: list, expected: list[tuple[str, str]]) -> None:
    with pytest.raises(SpecError) as info:
        check_handles(job(*steps), SITE)
    assert messages(info.value) == expected


def test_same_handle_in_different_step_lists_is_fine() -> None:
    check_handles(
        job(
            launch("h", launch("h", path=("steps", 0, "launch", "steps", 0)), path=("steps", 0)),
            loop(
                ir.ItemsLoop(("a",)),
                launch("h", path=("steps", 1, "for", "steps", 0)),
                note("h", path=("steps", 1, "for", "steps", 1)),
                path=("steps", 1),
            ),
        ),
        SITE,
    )


def test_a_launch_may_depend_on_an_earlier_launch() -> None:
    out = check_handles(
        job(launch("a", path=("steps", 0)), ir.LaunchStep(handle="b", depends_on=("a",), path=("steps", 1))), SITE
    )
    assert out.steps[1].awaits == (1,)


def test_run_steps_keep_their_fields() -> None:
    out = check_handles(job(launch("a", path=("steps", 0)), run("echo", depends_on=("A",), path=("steps", 1))), SITE)
    assert out.steps[1].command == "echo" and out.steps[1].awaits == (1,)
