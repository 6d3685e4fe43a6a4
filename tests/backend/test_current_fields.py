"""DeepSquare's current fields in the generated script: mountHome, readOnlyRootFS, shell ENTRYPOINT, the
empty command and the job's `gpus`, as exact srun and #SBATCH lines.

The enroot settings are also checked where enroot reads them: `jobc_enroot` runs here, outside Slurm,
against the enroot shim (tests/shims/enroot), which records the environment `enroot start` was given.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from test_containers import SHIMS, caches, srun_command, step_lines

from jobc import compile_spec
from jobc.diagnostics import SpecError

IMAGE = '"$JOBC_IMAGE_CACHE"/library_ubuntu_24.04-'


def compile_job(steps: str, resources: str = "{tasks: 2, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}"):
    text = f"resources: {resources}\nsteps:\n" + textwrap.indent(textwrap.dedent(steps), "  ")
    return compile_spec(text, name="job.yaml")


def srun_of(script: str, name: str) -> str:
    return srun_command(step_lines(script, name))


def container_step(container: str, command: str = "echo hi", shell: str | None = None, extra: str = "") -> str:
    shell_line = f"\n    shell: {shell}" if shell else ""
    return f"""
- name: c
  run:{shell_line}
    command: {json.dumps(command)}
    container: {container}{extra}
"""


def after_image(srun: str, image_end: str) -> str:
    return srun.split(image_end, 1)[1]


@pytest.mark.parametrize(
    ("container", "words"),
    [
        ("{image: library/ubuntu:24.04}", "ENROOT_MOUNT_HOME=n --no-entrypoint --rw --mount"),
        ("{image: library/ubuntu:24.04, mountHome: true}", "ENROOT_MOUNT_HOME=y --no-entrypoint --rw --mount"),
        (
            "{image: library/ubuntu:24.04, readOnlyRootFS: true}",
            "ENROOT_MOUNT_HOME=n ENROOT_ROOTFS_WRITABLE=n --no-entrypoint --mount",
        ),
        (
            "{image: library/ubuntu:24.04, mountHome: false, readOnlyRootFS: false}",
            "ENROOT_MOUNT_HOME=n --no-entrypoint --rw --mount",
        ),
    ],
)
def test_enroot_home_and_root_filesystem_settings(container: str, words: str) -> None:
    srun = srun_of(compile_job(container_step(container)).script, "c")
    assert after_image(srun, ".sqsh ").startswith(words), srun


@pytest.mark.parametrize(
    ("flags", "options"),
    [
        ("", "--no-home --writable-tmpfs --pwd"),
        (", mountHome: true", "--writable-tmpfs --pwd"),
        (", readOnlyRootFS: true", "--no-home --pwd"),
        (", mountHome: true, readOnlyRootFS: true", "--pwd"),
    ],
)
def test_apptainer_home_and_root_filesystem_flags(flags: str, options: str) -> None:
    srun = srun_of(compile_job(container_step(f"{{image: library/ubuntu:24.04, apptainer: true{flags}}}")).script, "c")
    assert srun.split("apptainer exec ", 1)[1].startswith(options), srun


def test_entrypoint_enroot_hands_literal_words_to_the_image_entrypoint() -> None:
    command = "--model \"my model\" '' '$HOME' ; `id` a\\ b"
    srun = srun_of(compile_job(container_step("{image: library/ubuntu:24.04}", command, "ENTRYPOINT")).script, "c")
    # no shell and no work-directory wrapper: the image's /etc/rc runs its ENTRYPOINT with these words
    assert srun.endswith(
        f"ENROOT_MOUNT_HOME=n --rw --mount \"$STORAGE_PATH:$STORAGE_PATH\" {caches('--mount')} -- --model 'my model' '' '$HOME' ';' "
        "'`id`' 'a b'"
    ), srun


def test_entrypoint_apptainer_runs_the_runscript_in_the_work_dir() -> None:
    container = "{image: library/ubuntu:24.04, apptainer: true}"
    srun = srun_of(compile_job(container_step(container, "serve --port 8080", "ENTRYPOINT")).script, "c")
    assert '-- apptainer run --no-home --writable-tmpfs --pwd "$STORAGE_PATH" ' in srun
    assert srun.endswith(".sif serve --port 8080"), srun


@pytest.mark.parametrize("shell", [None, "/bin/bash", "ENTRYPOINT"])
@pytest.mark.parametrize(
    ("container", "end"),
    [
        ("{image: library/ubuntu:24.04}", f'--mount "$STORAGE_PATH:$STORAGE_PATH" {caches("--mount")} --'),
        ("{image: library/ubuntu:24.04, apptainer: true}", ".sif"),
    ],
)
def test_empty_command_in_a_container_runs_the_image_default(shell, container: str, end: str) -> None:
    script = compile_job(container_step(container, "", shell)).script
    lines = step_lines(script, "c")
    srun = srun_command(lines)
    assert srun.endswith(end), srun
    runner = srun.split("jobc_enroot " if "jobc_enroot" in srun else "apptainer ", 1)[1]
    assert runner.startswith(('"', "run ")) and " -c " not in runner, srun  # no shell at all


def test_empty_command_on_the_host_runs_nothing_with_a_warning() -> None:
    result = compile_job("- name: h\n  run:\n    command: ''\n")
    assert srun_of(result.script, "h").endswith("-- /bin/sh -c ''")
    assert [(w.path, w.message) for w in result.warnings] == [
        (("steps", 0, "run", "command"), "is empty: without a container, this step runs nothing")
    ]


@pytest.mark.parametrize("shell", ["/bin/bash", "/bin/ash", "/bin/sh"])
def test_host_steps_with_any_shell_render(shell: str) -> None:
    """The grid cannot render a host step that sets `shell` (a template error); jobc runs it with that shell."""
    result = compile_job(f"- name: h\n  run:\n    shell: {shell}\n    command: echo hi\n")
    assert srun_of(result.script, "h").endswith(f"-- {shell} -c 'echo hi'")


def test_entrypoint_in_a_network_namespace_has_no_host_shell() -> None:
    """The grid starts `unshare … ENTRYPOINT -c` on the host with slirp4netns; jobc's namespace runs the container."""
    steps = container_step("{image: library/ubuntu:24.04}", "--help", "ENTRYPOINT", "\n    network: slirp4netns")
    srun = srun_of(compile_job(steps).script, "c")
    assert "ENTRYPOINT" not in srun
    assert "jobc_netns slirp4netns -- jobc_enroot" in srun and srun.endswith("-- --help"), srun


GPUS = "{tasks: 2, cpusPerTask: 1, memPerCpu: 512, gpus: 2}"


def test_job_gpus_is_one_sbatch_directive_and_steps_get_none_unless_they_ask() -> None:
    script = compile_job(
        """
        - name: none
          run: {command: nvidia-smi}
        - name: one
          run: {command: nvidia-smi, resources: {gpusPerTask: 1}}
        - name: two tasks
          run: {command: nvidia-smi, resources: {tasks: 2, gpusPerTask: 1}}
        """,
        GPUS,
    ).script
    directives = [line for line in script.split("\n") if line.startswith("#SBATCH")]
    assert directives == [
        "#SBATCH --job-name=job",
        "#SBATCH --ntasks=2",
        "#SBATCH --cpus-per-task=1",
        "#SBATCH --mem-per-cpu=512M",
        "#SBATCH --gpus=2",
    ]
    assert "\nexport GPUS=2 CPUS=2 MEM=1024\n" in script and "GPUS_PER_TASK=" not in script
    assert "--gpus-per-task=0 --gres=none" in srun_of(script, "none")
    assert "--ntasks=1 --cpus-per-task=1 --mem-per-cpu=512M --gpus-per-task=1 " in srun_of(script, "one")
    assert "--ntasks=2 --cpus-per-task=1 --mem-per-cpu=512M --gpus-per-task=1 " in srun_of(script, "'two tasks'")
    assert "inherits" not in script  # a `gpus` job gives its steps no GPUs by default


def test_reference_gpus_per_task_is_unchanged() -> None:
    script = compile_job(
        "- name: s\n  run: {command: nvidia-smi}\n", "{tasks: 2, cpusPerTask: 1, memPerCpu: 1, gpusPerTask: 1}"
    ).script
    assert "#SBATCH --gpus-per-task=1\n" in script and "#SBATCH --gpus=" not in script
    assert "\nexport GPUS_PER_TASK=1 GPUS=2 CPUS=2 MEM=2\n" in script
    assert "--gpus-per-task=1 " in srun_of(script, "s")


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ("{gpusPerTask: 3}", "asks for 3 GPUs in all, more than the job's 2"),
        ("{tasks: 2, gpusPerTask: 2}", "asks for 4 GPUs in all, more than the job's 2"),
    ],
)
def test_steps_asking_more_gpus_than_the_job_are_errors(resources: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        compile_job(f"- run: {{command: x, resources: {resources}}}\n", GPUS)
    assert [(d.path, d.message) for d in caught.value.diagnostics] == [(("steps", 0, "run", "resources"), message)]


def test_a_job_without_gpus_gives_none() -> None:
    script = compile_job("- name: s\n  run: {command: x}\n", "{tasks: 1, cpusPerTask: 1, memPerCpu: 1, gpus: 0}").script
    assert "#SBATCH --gpus" not in script and "--gpus-per-task" not in srun_of(script, "s")
    assert "\nexport GPUS=0 CPUS=1 MEM=1\n" in script


@pytest.mark.parametrize(
    ("flags", "home", "writable"),
    [("", "n", None), (", mountHome: true, readOnlyRootFS: true", "y", "n")],
)
def test_enroot_shim_is_given_the_settings_in_its_environment(tmp_path: Path, flags: str, home: str, writable) -> None:
    """`jobc_enroot` hands its ENROOT_* words to `enroot start` as its environment, never as options."""
    script = compile_job(container_step(f"{{image: /img.sqsh{flags}}}", "true")).script
    functions = script[script.index("# In a step:") : script.index("# ---- running the job")]
    (tmp_path / "functions.sh").write_text(functions)
    (tmp_path / "img.sqsh").write_text("squashfs")
    srun = srun_of(script, "c")
    words = [
        w
        for w in srun.split("jobc_enroot ", 1)[1].split(" -- ", 1)[0].split()
        if w.startswith(("ENROOT_", "--rw", "--no-entrypoint"))
    ]
    node_tmp = tmp_path / "tmp"
    node_tmp.mkdir()
    driver = 'eval "$(cat "$1")"; shift; jobc_enroot "$@" -- sh -c "echo ran"'
    env = {
        **os.environ,
        "PATH": f"{SHIMS}:{os.environ['PATH']}",
        "JOBC_SHIM_LOG": str(tmp_path / "shims.jsonl"),
        "TMPDIR": str(node_tmp),
        "SLURM_JOB_ID": "7",
        "SLURM_STEP_ID": "0",
        "SLURMD_NODENAME": "n1",
        "ENROOT_MOUNT_HOME": "y",  # a site default, overridden
    }
    result = subprocess.run(
        ["bash", "-c", driver, "driver", str(tmp_path / "functions.sh"), str(tmp_path / "img.sqsh"), *words],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ran\n"
    [start] = [json.loads(line) for line in (tmp_path / "shims.jsonl").read_text().splitlines() if '"start"' in line]
    expected = {"ENROOT_MOUNT_HOME": home} | ({"ENROOT_ROOTFS_WRITABLE": writable} if writable else {})
    assert start["settings"] == expected
    assert not any(a.startswith("ENROOT_") for a in start["argv"])
    # A shell command replaces the image's entrypoint: enroot runs an rc script that only execs it.
    assert start["rc"]["content"] == 'exec "$@"\n' and start["rc"]["mode"][-3:] in ("644", "600", "640")
    assert list((node_tmp / f"jobc-{os.getuid()}").iterdir()) == []  # the last task removed lock and rc
    assert ("--rw" in start["argv"]) == (writable is None)


def test_schema_covers_the_current_fields() -> None:
    from jobc.schema import job_schema

    defs = job_schema()["$defs"]
    resources = defs["JobResources"]
    assert {"gpus", "gpusPerTask"} <= set(resources["properties"])
    given = [{"properties": {name: {"not": {"const": None}}}, "required": [name]} for name in ("gpus", "gpusPerTask")]
    assert resources["oneOf"] == given  # a field given as null counts as absent, as in jobc
    container = defs["ContainerRun"]["properties"]
    assert {"mountHome", "readOnlyRootFS"} <= set(container) and container["mounts"]["deprecated"] is True
    assert "ENTRYPOINT" in defs["StepRun"]["properties"]["shell"]["anyOf"][0]["enum"]


def test_docker_and_podman_honour_the_ir_fields_too() -> None:
    """No frontend sets them for docker yet; the IR means the same for every runtime."""
    from jobc import ir
    from jobc.backend import containers
    from jobc.site import Site

    c = ir.Container(image="app:1", runtime="podman", mount_home=True, read_only_root=True)
    c = ir.Container(**{**c.__dict__, "image_location": ir.ImageLocation.ENGINE})
    step = ir.RunStep(command="x", container=c)
    wrapper = " ".join(containers.task_wrapper(step, Site()))
    assert wrapper.startswith(
        'jobc_engine podman run --rm --read-only --mount type=bind,"$(jobc_csv source="${HOME}")","$(jobc_csv '
        'target="${HOME}")" app:1'
    ), wrapper
    assert containers.uses_csv(c)
