"""features(job): what a script needs, decided once from the IR (the templates only read it)."""

from __future__ import annotations

import pytest

from jobc import ir
from jobc.backend.features import features, loop_shellcheck_codes
from jobc.passes import run_passes
from jobc.site import Site

RES = ir.Resources(1, 1, 512, 0)


def planned(*steps: ir.AnyStep) -> ir.Job:
    return run_passes(ir.Job(name="t", resources=RES, steps=steps), Site())


def run(**fields) -> ir.RunStep:
    return ir.RunStep(command="true", path=("steps", 0), **fields)


def test_a_plain_job_needs_no_optional_part() -> None:
    f = features(planned(run()))
    assert not (f.task or f.groups or f.parallel or f.launches or f.image_cache or f.enroot or f.netns or f.csv)
    assert f.secrets == ()


def test_steps_in_background_groups() -> None:
    inner = run()
    job = planned(ir.LoopStep(over=ir.ItemsLoop(("a",)), parallel=True, steps=(inner,), path=("steps", 0)))
    f = features(job)
    assert f.task and f.groups and f.parallel and not f.launches
    [step] = list(ir.run_steps(job))
    assert f.in_group == {id(step)}


@pytest.mark.parametrize(
    "runtime, task, csv",
    [
        ("docker", True, True),  # the engines' runner lives in the task library; a run-time mount path is CSV-quoted
        ("podman", True, True),
        ("enroot", True, False),  # enroot's runner lives in the task library; its mounts are HOST:DIR
        ("apptainer", True, True),
    ],
)
def test_containers(runtime: str, task: bool, csv: bool) -> None:
    mount = ir.Mount(ir.Word((ir.Var(ir.Place.HOME),)), "/home", False)
    f = features(planned(run(container=ir.Container(image="app:1", runtime=runtime, mounts=(mount,)))))
    assert (f.task, f.csv, f.enroot) == (task, csv, runtime == "enroot")
    assert f.image_cache == (runtime in ("enroot", "apptainer"))


def test_secrets_in_step_order() -> None:
    password = ir.Secret("pw", "steps[1].run.container.password")
    key = ir.Secret("k", "steps[0].run.customNetworkInterfaces[0].wireguard.privateKey")
    wg = ir.Wireguard(("10.0.0.2/32",), key)
    job = planned(
        run(network=ir.Network("slirp4netns", (), (wg,))),
        run(container=ir.Container(image="app:1", username="u", password=password)),
    )
    assert features(job).secrets == (key, password)


@pytest.mark.parametrize(
    "over, inner_variable, codes",
    [
        (ir.ItemsLoop(("one",)), None, ["SC2043"]),
        (ir.ItemsLoop(("it's", "b")), None, ["SC2089", "SC2090"]),
        (ir.ItemsLoop(("a", "b")), "item", ["SC2165", "SC2167"]),
        (ir.RangeLoop(1, 3), "item", []),
    ],
)
def test_loop_shellcheck_codes(over, inner_variable: str | None, codes: list[str]) -> None:
    inner = (
        ()
        if inner_variable is None
        else (ir.LoopStep(over=ir.ItemsLoop(("x", "y")), steps=(), variable=inner_variable),)
    )
    loop = ir.LoopStep(over=over, steps=inner, variable="item" if isinstance(over, ir.ItemsLoop) else "index")
    assert loop_shellcheck_codes(loop) == codes
