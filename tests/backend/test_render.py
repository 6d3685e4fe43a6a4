"""render_script: one backend renders every container, whichever frontend lowered it.

A bfabric docker command compiled for docker, podman, enroot and Apptainer becomes the same `ir.Container`
node as a DeepSquare container, and `backend/containers.py` renders both: the tests look at the IR, at the
calls the backend makes, and at the rendered lines.
"""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobc import compile_spec, ir
from jobc.backend import containers
from jobc.backend.render import path_texts
from jobc.diagnostics import InModule, format_path
from jobc.frontends import data_to_ir
from jobc.options import AppOptions, CompileOptions
from jobc.passes import run_passes
from jobc.site import Site
from jobc.source import load

APP = textwrap.dedent("""\
    commands:
      dispatch: {type: shell, command: dispatch}
      process:
        type: docker
        image: ghcr.io/org/app:1
        command: run --fast
        env: {MODE: quick}
        mounts: {read_only: [[/data, /in]], share_bfabric_config: false}
    version: "1.0"
    submitter: {name: s}
    """)

JOB = textwrap.dedent("""\
    resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}
    steps:
      - name: boxed
        run:
          command: run --fast
          container: {image: "org/app:1", registry: ghcr.io, apptainer: APPTAINER, mounts: [{hostDir: /data, containerDir: /in, options: ro}]}
    """)


def app_options(runtime: str) -> CompileOptions:
    return CompileOptions(app=AppOptions(workunit_ref="1", app_id=1, app_name="a", container_runtime=runtime))


def app_ir(runtime: str, engine: str = "docker") -> ir.Job:
    text = APP.replace("type: docker\n", f"type: docker\n    engine: {engine}\n")
    return run_passes(data_to_ir(load(text, "yaml").data, name="app.yaml", options=app_options(runtime)), Site())


def process_step(job: ir.Job) -> ir.RunStep:
    [step] = [s for s in ir.run_steps(job) if s.name == "process"]
    return step


@pytest.mark.parametrize(
    "runtime, engine, expected",
    [
        ("docker", "docker", "docker"),
        ("docker", "podman", "podman"),
        ("enroot", "docker", "enroot"),
        ("apptainer", "docker", "apptainer"),
    ],
)
def test_a_docker_command_becomes_a_container_node(runtime: str, engine: str, expected: str) -> None:
    c = process_step(app_ir(runtime, engine)).container
    assert c is not None and c.runtime == expected
    assert c.mounts[-1] == ir.Mount("/data", "/in", True, ("commands", "process", "mounts", "read_only", 0))
    assert c.env == (ir.EnvVar("MODE", "quick", ("commands", "process", "env", "MODE")),)
    assert (c.mount_storage, c.start_in_work_dir, c.keep_entrypoint) == (False, False, True)
    if expected in ("enroot", "apptainer"):
        assert (c.registry, c.image, c.image_location) == ("ghcr.io", "org/app:1", ir.ImageLocation.CACHE)
    else:
        assert (c.registry, c.image, c.image_location) == (None, "ghcr.io/org/app:1", ir.ImageLocation.ENGINE)


@pytest.mark.parametrize("runtime", ["docker", "podman", "enroot", "apptainer"])
def test_both_frontends_go_through_the_same_container_code(runtime: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []
    wrapper = containers.task_wrapper

    def spy(step: ir.RunStep, site: Site):
        if step.container is not None:
            seen.append((step.path[0], step.container.runtime))
        return wrapper(step, site)

    monkeypatch.setattr(containers, "task_wrapper", spy)
    engine, app_runtime = (runtime, "docker") if runtime in ("docker", "podman") else ("docker", runtime)
    compile_spec(
        APP.replace("type: docker\n", f"type: docker\n    engine: {engine}\n"),
        name="app.yaml",
        options=app_options(app_runtime),
    )
    if runtime in ("enroot", "apptainer"):
        compile_spec(JOB.replace("APPTAINER", str(runtime == "apptainer").lower()), name="job.yaml")
        assert seen == [("commands", runtime), ("steps", runtime)]
    else:
        assert seen == [("commands", runtime)]


def test_the_same_image_is_the_same_cache_file_from_either_frontend() -> None:
    """One naming rule: the bfabric image ghcr.io/org/app:1 and the DeepSquare one (registry ghcr.io) share a file."""
    app = process_step(app_ir("apptainer")).container
    job = run_passes(data_to_ir(load(JOB.replace("APPTAINER", "true"), "yaml").data, name="job.yaml"), Site())
    [step] = list(ir.run_steps(job))
    assert (app.image_source, app.image_file) == (step.container.image_source, step.container.image_file)


@pytest.mark.parametrize(
    "runtime, line",
    [
        (
            "docker",
            'docker run --user "$(id -u)":"$(id -g)" --rm --mount type=bind,"$(jobc_csv '
            'source="${JOBC_WORK_DIR}")","$(jobc_csv target="${JOBC_WORK_DIR}")" --mount '
            "type=bind,source=/data,target=/in,readonly --env MODE=quick ghcr.io/org/app:1 run --fast "
            '"${JOBC_CHUNK_DIR}"',
        ),
        ("enroot", 'jobc_enroot "$JOBC_IMAGE_CACHE"/org_app_1-'),
        (
            "apptainer",
            'apptainer run --no-home --writable-tmpfs --mount type=bind,"$(jobc_csv source="${JOBC_WORK_DIR}")","$(jobc_csv '
            'destination="${JOBC_WORK_DIR}")" --bind /data:/in:ro "$JOBC_IMAGE_CACHE"/org_app_1-',
        ),
    ],
)
def test_rendered_lines(runtime: str, line: str) -> None:
    script = compile_spec(APP, name="app.yaml", options=app_options(runtime)).script
    assert line in script, script


_PART = st.one_of(
    st.sampled_from(["steps", "for", "launch", "catch", "run", "k\x01ey"]),
    st.integers(min_value=0, max_value=3),
    st.builds(lambda name: InModule(name, None), st.sampled_from(["m.yaml", "n.yaml"])),
)


@given(st.lists(st.lists(_PART, max_size=8).map(tuple), max_size=12))
def test_path_texts_remembers_format_path_whatever_the_order_of_the_paths(paths):
    """Each path's text is made from the nearest shorter one already made: the same text as format_path's,
    whichever paths came before (parents or not, module parts and escaped keys included)."""
    path_text = path_texts()
    for path in paths + paths[::-1]:
        assert path_text(path) == format_path(path)


def test_format_path_continues_the_text_of_a_shorter_path():
    assert format_path(("for", "steps", 2), "steps[0]") == "steps[0].for.steps[2]"
    assert format_path((InModule("m.yaml", None), "steps", 1), "steps[3].use") == "steps[1]"


@pytest.mark.parametrize(
    "steps",
    ["steps: []\n", "steps:\n  - name: l\n    for: {items: [a, b], steps: []}\n"],
    ids=["job", "sequential-loop"],
)
def test_an_empty_step_list_is_a_no_op_body_not_a_syntax_error(steps, tmp_path):
    """The Reference types step lists `[Step!]!`, so `[]` is a valid spec: bash refuses an empty `{ }` or
    `( )`, so the body is `:`."""
    import subprocess

    from support import shellcheck_binary

    head = "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}\n"
    script = compile_spec(head + steps, name="job.yaml").script
    path = tmp_path / "job.sh"
    path.write_text(script)
    assert ": # no steps" in script
    syntax = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    lint = subprocess.run(
        [shellcheck_binary(), "--shell=bash", "--severity=style", "--norc", str(path)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
