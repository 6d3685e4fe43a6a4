"""run_passes: the order of the passes, and problems of several passes reported together."""

from __future__ import annotations

import pytest

from jobc import ir, passes
from jobc.diagnostics import SpecError
from jobc.passes import PASSES, run_passes

from .helpers import SITE, job, launch, messages, note, run


def test_order() -> None:
    assert [p.__name__ for p in PASSES] == [
        "resolve_defaults",
        "check_handles",
        "lower_loops",
        "plan_containers",
        "plan_networks",
        "plan_transport",
    ]


def test_problems_of_several_passes_are_all_reported() -> None:
    spec = job(
        note(depends_on=("nope",), path=("steps", 0)),
        run(resources=ir.PartialResources(tasks=3), path=("steps", 1)),
    )
    with pytest.raises(SpecError) as info:
        run_passes(spec, SITE)
    assert [p for p, _ in messages(info.value)] == [
        "steps[1].run.resources",
        "steps[1].run.resources",
        "steps[1].run.resources",
        "steps[0].dependsOn[0]",
    ]


def test_a_later_pass_that_cannot_cope_does_not_hide_the_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(job, site):
        raise KeyError("needs the lowered IR")

    monkeypatch.setattr(passes, "PASSES", (passes.check_handles, broken))
    with pytest.raises(SpecError) as info:
        run_passes(job(note(depends_on=("x",), path=("steps", 0))), SITE)
    assert len(info.value.diagnostics) == 1


def test_a_bug_without_problems_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(job, site):
        raise KeyError("bug")

    monkeypatch.setattr(passes, "PASSES", (broken,))
    with pytest.raises(KeyError):
        run_passes(job(), SITE)


def test_valid_job_goes_through_every_pass() -> None:
    out = run_passes(
        job(launch("a", run(path=("steps", 0, "launch", "steps", 0))), note(depends_on=("a",), path=("steps", 1))), SITE
    )
    assert out.steps[0].slot == 1 and out.steps[1].awaits == (1,)
    assert out.steps[0].steps[0].resources == ir.Resources(1, 4, 1000, 1)


def test_a_pass_reports_at_the_field_the_frontend_recorded() -> None:
    """An app spec's command lives at versions[0].commands.process.command: a pass's warning points there."""
    where = ("versions", 0, "commands", "process")
    step = ir.RunStep(
        command="echo {{ .Item }}",
        argv=("echo", "{{ .Item }}"),
        path=where,
        field_paths=(("command", where + ("command",)),),
    )
    out = run_passes(job(step), SITE)
    assert [(w.path, w.message) for w in out.warnings] == [
        (where + ("command",), '{{ .Item }} is not substituted by jobc; use "$item"')
    ]


def test_a_field_not_recorded_is_reported_at_its_node() -> None:
    with pytest.raises(SpecError) as info:
        run_passes(job(ir.NoteStep(depends_on=("nope",), path=("versions", 3))), SITE)
    assert [p for p, _ in messages(info.value)] == ["versions[3][0]"]
