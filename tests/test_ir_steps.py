"""How step kinds are declared so that Python 3.9 (no `kw_only` dataclasses) builds the same IR as 3.13."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from jobc import ir

STEP_KINDS = [ir.RunStep, ir.LoopStep, ir.LaunchStep, ir.GroupStep, ir.NoteStep, ir.ModuleStep]


@pytest.mark.parametrize(
    "build,missing",
    [
        (lambda: ir.RunStep(name="a"), "command"),
        (lambda: ir.LoopStep(steps=()), "over"),
        (lambda: ir.ModuleStep(module="m", file="f"), "source"),
        (lambda: ir.ModuleStep(), "module, source, file"),
    ],
    ids=["run", "loop", "module-source", "module-all"],
)
def test_a_step_without_a_required_field_is_refused(build, missing: str) -> None:
    with pytest.raises(TypeError, match=rf"missing required keyword argument\(s\): {missing}$"):
        build()


def test_a_required_field_given_is_kept_and_survives_replace() -> None:
    step = ir.RunStep(command="true", name="a")
    assert (step.command, step.name, step.shell) == ("true", "a", "/bin/sh")
    assert dataclasses.replace(step, name="b").command == "true"


def test_every_step_kind_is_declared_with_ir_kw_only() -> None:
    """A step kind written `kw_only=True` breaks 3.9; one without KW_ONLY takes positional arguments on 3.10+."""
    for kind in STEP_KINDS:
        params = kind.__dataclass_params__
        assert params.frozen, kind.__name__
        if sys.version_info >= (3, 10):
            assert all(f.kw_only for f in dataclasses.fields(kind)), kind.__name__


@pytest.mark.skipif(sys.version_info < (3, 10), reason="Python 3.9 has no keyword-only dataclass fields")
def test_steps_take_keyword_arguments_only() -> None:
    with pytest.raises(TypeError):
        ir.NoteStep("a")  # type: ignore[misc]


def test_evolve_copies_like_replace_and_leaves_the_node_as_it_was() -> None:
    step = ir.RunStep(command="true", name="a", path=("steps", 0), resources=ir.PartialResources(tasks=2))
    res = ir.Resources(2, 1, 512, 0)
    evolved = ir.evolve(step, resources=res, map_root=True)
    assert evolved == dataclasses.replace(step, resources=res, map_root=True)
    assert type(evolved) is ir.RunStep and hash(evolved) == hash(
        dataclasses.replace(step, resources=res, map_root=True)
    )
    assert step.resources == ir.PartialResources(tasks=2) and not step.map_root
    with pytest.raises(dataclasses.FrozenInstanceError):
        evolved.name = "b"  # type: ignore[misc]
    container = ir.Container(image="ubuntu")
    assert ir.evolve(container, registry="r") == dataclasses.replace(container, registry="r")


def test_evolve_refuses_an_unknown_field_and_a_required_one_set_to_none() -> None:
    step = ir.LoopStep(over=ir.ItemsLoop(("a",)))
    with pytest.raises(TypeError, match="LoopStep has no field nmae$"):
        ir.evolve(step, nmae="x")
    with pytest.raises(TypeError, match=r"LoopStep\(\) missing required keyword argument\(s\): over$"):
        ir.evolve(step, over=None)
