"""DeepSquare's current container fields on the real Slurm, with the enroot and apptainer *shims*.

mountHome and readOnlyRootFS (what enroot is told in its environment, the flags apptainer gets), and
`shell: ENTRYPOINT` / the empty command (the words handed to the image, no shell; the runscript's exit
status is the step's). The shims record each call and run the contained command on the host.
"""

from __future__ import annotations

import pytest

from .jobc_run import run_job
from .test_containers_shim import calls, shim_env, shim_site

pytestmark = pytest.mark.slurm


def test_enroot_shim_gets_home_and_root_filesystem_settings_and_entrypoint_words(slurm, tmp_path):
    spec = """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 128, gpus: 0}
        steps:
          - name: defaults
            run:
              command: echo defaults > "$DEEPSQUARE_OUTPUT/defaults"
              container: {image: library/ubuntu:24.04}
          - name: home, read-only
            run:
              command: echo set > "$DEEPSQUARE_OUTPUT/set"
              container: {image: library/ubuntu:24.04, mountHome: true, readOnlyRootFS: true}
          - name: entrypoint
            run:
              shell: ENTRYPOINT
              command: sh -c 'printf "[%s]" "$@" > words' sh $DEEPSQUARE_OUTPUT '' "a b"
              container: {image: library/ubuntu:24.04}
    """
    ran = run_job(slurm, tmp_path, spec, site=shim_site(tmp_path), env=shim_env(slurm, tmp_path), timeout=90)
    assert ran.rc == 0, ran
    defaults, settings, entrypoint = calls(tmp_path, "enroot", "start")
    assert defaults["settings"] == {"ENROOT_MOUNT_HOME": "n"} and "--rw" in defaults["argv"]
    # A shell command replaces the image's ENTRYPOINT (an rc script that only execs it); ENTRYPOINT keeps it.
    assert defaults["rc"]["content"] == 'exec "$@"\n' and entrypoint["rc"] is None
    assert settings["settings"] == {"ENROOT_MOUNT_HOME": "y", "ENROOT_ROOTFS_WRITABLE": "n"}
    assert "--rw" not in settings["argv"]
    assert (ran.storage / "output" / "defaults").read_text() == "defaults\n"
    assert (ran.storage / "output" / "set").read_text() == "set\n"
    # The words follow the container's name, as the image's /etc/rc hands them to its ENTRYPOINT: no shell,
    # `$DEEPSQUARE_OUTPUT` stays literal, the empty word is kept.
    assert entrypoint["command"] == ["sh", "-c", 'printf "[%s]" "$@" > words', "sh", "$DEEPSQUARE_OUTPUT", "", "a b"]
    assert (ran.storage / "words").read_text() == "[$DEEPSQUARE_OUTPUT][][a b]"


def test_apptainer_shim_flags_and_the_runscript_exit_status(slurm, tmp_path):
    spec = """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 128, gpusPerTask: 0}
        steps:
          - name: defaults
            run:
              command: echo defaults > "$DEEPSQUARE_OUTPUT/defaults"
              container: {image: library/ubuntu:24.04, apptainer: true}
          - name: home, read-only
            run:
              shell: ENTRYPOINT
              command: sh -c 'echo "$0" > "$1"' literal '$DEEPSQUARE_OUTPUT'
              container: {image: library/ubuntu:24.04, apptainer: true, mountHome: true, readOnlyRootFS: true}
          - name: default command
            run:
              command: ""
              container: {image: library/ubuntu:24.04, apptainer: true}
    """
    env = shim_env(slurm, tmp_path) | {"JOBC_SHIM_RUNSCRIPT_EXIT": "3"}
    ran = run_job(slurm, tmp_path, spec, site=shim_site(tmp_path), env=env, timeout=90)
    # The image's default command failed: so does the step, and the job (the grid loses this status).
    assert ran.rc != 0, ran
    defaults, entrypoint, default = [c for c in calls(tmp_path, "apptainer") if c["argv"][0] in ("exec", "run")]
    assert defaults["argv"][:3] == ["exec", "--no-home", "--writable-tmpfs"]
    assert entrypoint["argv"][:2] == ["run", "--pwd"]
    assert "--no-home" not in entrypoint["argv"] and "--writable-tmpfs" not in entrypoint["argv"]
    assert entrypoint["command"] == ["sh", "-c", 'echo "$0" > "$1"', "literal", "$DEEPSQUARE_OUTPUT"]
    assert default["argv"][0] == "run" and default["argv"][-1] == default["image"] and default["command"] == []
    assert (tmp_path / "storage" / str(ran.res.job_id) / "$DEEPSQUARE_OUTPUT").read_text() == "literal\n"
