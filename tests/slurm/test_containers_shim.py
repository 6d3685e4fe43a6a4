"""Containers on the real Slurm, with the enroot and apptainer *shims* of tests/shims.

enroot and Apptainer cannot be installed here, so the shims stand in for them:
they record every call (argv, the credentials they were handed) in $JOBC_SHIM_LOG
and run the contained command on the host, so the step really runs. The tests
check what the generated script asks of the runtime (image, mounts, variables,
working directory, one container per node) and that no registry password ever
reaches a command line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jobc.site import site_from_dict

from .jobc_run import run_job

pytestmark = pytest.mark.slurm

SHIMS = Path(__file__).resolve().parents[1] / "shims"
PWNED = Path("/tmp/jobc-test-pwned")
PASSWORD = f"s3cr3t-Pa55;$(touch${{IFS}}{PWNED})'`"


def shim_site(tmp_path: Path):
    return site_from_dict(
        {
            "paths": {
                "storage_root": str(tmp_path / "storage"),
                "image_cache": str(tmp_path / "images"),
                "hosted_images": str(tmp_path / "hosted"),
                **{
                    k: str(tmp_path / "caches" / k)
                    for k in ("shared_tmp", "shared_world_tmp", "disk_tmp", "disk_world_tmp")
                },
            },
            "options": {"launch_grace": 3},
        }
    )


def shim_env(slurm, tmp_path: Path) -> dict:
    return {"PATH": f"{SHIMS}{os.pathsep}{slurm.env['PATH']}", "JOBC_SHIM_LOG": str(tmp_path / "shims.jsonl")}


def calls(tmp_path: Path, tool: str, sub: str | None = None) -> list[dict]:
    log = tmp_path / "shims.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [r for r in records if r["tool"] == tool and (sub is None or r["argv"][:1] == [sub])]


def all_argv_text(tmp_path: Path) -> str:
    log = tmp_path / "shims.jsonl"
    return "\n".join(" ".join(json.loads(line)["argv"]) for line in log.read_text().splitlines())


def cache_options(tmp_path: Path, flag: str) -> list[str]:
    """shim_site's caches mounted under /deepsquare, then their variables set to the mounted paths."""
    caches = tmp_path / "caches"
    targets = {
        "shared_tmp": "tmp",
        "shared_world_tmp": "world-tmp",
        "disk_tmp": "disk/tmp",
        "disk_world_tmp": "disk/world-tmp",
    }
    out = [word for key, target in targets.items() for word in (flag, f"{caches}/{key}:/deepsquare/{target}")]
    env = {"TMP": "tmp", "SHARED_TMP": "tmp", "SHARED_WORLD_TMP": "world-tmp", "DISK_TMP": "disk/tmp"}
    env["DISK_WORLD_TMP"] = "disk/world-tmp"
    return out + [word for var, target in env.items() for word in ("--env", f"DEEPSQUARE_{var}=/deepsquare/{target}")]


def env_keys(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == "--env"]


def mounts(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_enroot_shim_records_image_mounts_env_workdir(slurm, tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    spec = f"""
        resources: {{tasks: 2, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}}
        env:
          - {{key: JOB_VAR, value: "job value, with a comma"}}
        steps:
          - name: share a variable
            run:
              command: echo "FROM_ENV_FILE=loaded" >> "$DEEPSQUARE_ENV"
          - name: twice
            for:
              parallel: false
              items: [a, b]
              steps:
                - name: in enroot
                  run:
                    resources: {{tasks: 2}}
                    container:
                      image: library/ubuntu:24.04
                      registry: registry.example.org
                      username: john
                      password: {json.dumps(PASSWORD)}
                      mounts:
                        - {{hostDir: {host}, containerDir: /data, options: ro}}
                    workDir: {work}
                    env:
                      - {{key: STEP_VAR, value: "step value"}}
                    command: >-
                      printf '%s|%s|%s|%s|%s|%s|%s\\n' "$(pwd)" "$JOB_VAR" "$STEP_VAR" "$FROM_ENV_FILE" "$item"
                      "$STORAGE_PATH" "${{OUT-unset}}" >> "$DEEPSQUARE_OUTPUT/seen.$SLURM_PROCID"
    """
    ran = run_job(slurm, tmp_path, spec, site=shim_site(tmp_path), env=shim_env(slurm, tmp_path), timeout=90)
    assert ran.rc == 0, ran
    job = ran.res.job_id
    storage = str(ran.storage)

    # The command ran (twice, in two tasks) in workDir, with the variables of the job, the step, $DEEPSQUARE_ENV
    # and the loop, and nothing else from the host ($OUT is in the job's environment, not in the container's).
    for task in (0, 1):
        seen = (ran.storage / "output" / f"seen.{task}").read_text().splitlines()
        assert seen == [f"{work}|job value, with a comma|step value|loaded|{item}|{storage}|unset" for item in "ab"]

    # The image is imported once (the second iteration finds it in the cache), through a netrc file.
    imports = calls(tmp_path, "enroot", "import")
    assert len(imports) == 1, imports
    cache = tmp_path / "images"
    (image,) = [p for p in cache.iterdir() if p.suffix == ".sqsh"]
    argv = imports[0]["argv"]
    assert argv[:2] == ["import", "--output"] and argv[2].startswith(f"{image}.{job}.") and argv[2].endswith(".tmp")
    assert argv[3] == "docker://john@registry.example.org#library/ubuntu:24.04"
    creds = imports[0]["credentials"]
    assert creds["mode"] == "0600"
    assert creds["content"] == f"machine registry.example.org login john password {PASSWORD}\n"
    assert imports[0]["config_path"].startswith(f"{storage}/.jobc/")

    # One container per node and step: created once, started by both tasks, removed once.
    creates = calls(tmp_path, "enroot", "create")
    starts = calls(tmp_path, "enroot", "start")
    removes = calls(tmp_path, "enroot", "remove")
    names = [c["argv"][2] for c in creates]
    assert len(creates) == 2 and len(set(names)) == 2, creates
    assert all(n.startswith(f"jobc-{job}-") and n.endswith("-n1") for n in names)
    assert [c["argv"] for c in creates] == [["create", "--name", n, str(image)] for n in names]
    assert sorted(r["argv"] for r in removes) == sorted(["remove", "--force", n] for n in names)
    assert len(starts) == 4 and sorted(s["name"] for s in starts) == sorted(names * 2)
    for start in starts:
        argv = start["argv"]
        caches = cache_options(tmp_path, "--mount")
        assert argv[1 : 4 + len(caches) + 2] == [
            "--rw",
            "--mount",
            f"{storage}:{storage}",
            *caches,
            "--mount",
            f"{host}:/data:ro",
        ]
        assert "--root" not in argv
        keys = env_keys(argv)
        for key in (
            "JOB_VAR",
            "STEP_VAR",
            "FROM_ENV_FILE",
            "item",
            "JOBC_WORKDIR",
            "STORAGE_PATH",
            "DEEPSQUARE_INPUT",
            "DEEPSQUARE_OUTPUT",
            "DEEPSQUARE_ENV",
            "SLURM_PROCID",
        ):
            assert key in keys, (key, keys)
        assert "OUT" not in keys and "PATH" not in keys and "index" not in keys
        assert start["command"][:4] == ["/bin/sh", "-c", 'cd -- "$JOBC_WORKDIR" && exec "$@"', "jobc-workdir"]
        assert start["command"][4:6] == ["/bin/sh", "-c"]

    # Nothing is left behind: no lock on the node, no credentials in the job's storage.
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"jobc-{os.getuid()}/jobc-{job}-*"))
    assert not (ran.storage / ".jobc").exists()
    assert PASSWORD not in all_argv_text(tmp_path)
    assert not PWNED.exists()


def test_enroot_shim_runs_images_from_input_without_import_and_maps_root(slurm, tmp_path):
    spec = """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
        steps:
          - name: make an image
            run:
              command: mkdir -p "$DEEPSQUARE_INPUT/images" && echo squashfs > "$DEEPSQUARE_INPUT/images/tool.sqsh"
          - name: run it
            run:
              container:
                image: /input/images/tool.sqsh
                x11: true
              mapRoot: true
              workDir: output
              command: pwd > seen-pwd
    """
    ran = run_job(slurm, tmp_path, spec, site=shim_site(tmp_path), env={**shim_env(slurm, tmp_path), "DISPLAY": ":7"})
    assert ran.rc == 0, ran
    storage = str(ran.storage)
    assert calls(tmp_path, "enroot", "import") == []
    (create,) = calls(tmp_path, "enroot", "create")
    assert create["argv"][3] == f"{storage}/input/images/tool.sqsh" and create["image_exists"]
    (start,) = calls(tmp_path, "enroot", "start")
    caches = cache_options(tmp_path, "--mount")
    assert start["argv"][1 : 7 + len(caches)] == [
        "--root",
        "--rw",
        "--mount",
        f"{storage}:{storage}",
        *caches,
        "--mount",
        "/tmp/.X11-unix:/tmp/.X11-unix",
    ]
    assert "DISPLAY" in env_keys(start["argv"])
    # A relative workDir is relative to $STORAGE_PATH.
    assert (ran.storage / "output" / "seen-pwd").read_text().strip() == f"{storage}/output"


def test_apptainer_shim_records_pull_credentials_binds_pwd(slurm, tmp_path):
    host = tmp_path / "reference"
    host.mkdir()
    work = tmp_path / "report"
    work.mkdir()
    spec = f"""
        resources: {{tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}}
        steps:
          - name: report
            run:
              container:
                image: analytics/report-builder:1.4.2
                registry: ghcr.io
                username: ci-bot
                password: {json.dumps(PASSWORD)}
                apptainer: true
                mounts:
                  - {{hostDir: {host}, containerDir: /reference, options: ro}}
                  - {{hostDir: /tmp, containerDir: /scratch, options: rw}}
              mapRoot: true
              workDir: {work}
              env:
                - {{key: STEP_VAR, value: "step value"}}
              command: echo "$(pwd) $STEP_VAR ${{OUT:?}}" > "$DEEPSQUARE_OUTPUT/seen"
    """
    ran = run_job(slurm, tmp_path, spec, site=shim_site(tmp_path), env=shim_env(slurm, tmp_path))
    assert ran.rc == 0, ran
    storage = str(ran.storage)
    (pull,) = calls(tmp_path, "apptainer", "pull")
    (image,) = [p for p in (tmp_path / "images").iterdir() if p.suffix == ".sif"]
    assert pull["argv"][1].startswith(f"{image}.{ran.res.job_id}.")
    assert pull["argv"][2] == "docker://ghcr.io/analytics/report-builder:1.4.2"
    assert pull["docker_env"] == {"APPTAINER_DOCKER_USERNAME": "ci-bot", "APPTAINER_DOCKER_PASSWORD": PASSWORD}
    (run,) = calls(tmp_path, "apptainer", "exec")
    assert run["argv"] == [
        "exec",
        "--fakeroot",
        "--no-home",
        "--writable-tmpfs",
        "--pwd",
        str(work),
        "--bind",
        f"{storage}:{storage}",
        *cache_options(tmp_path, "--bind"),
        "--bind",
        f"{host}:/reference:ro",
        "--bind",
        "/tmp:/scratch",
        str(image),
        "/bin/sh",
        "-c",
        'echo "$(pwd) $STEP_VAR ${OUT:?}" > "$DEEPSQUARE_OUTPUT/seen"',
    ]
    # Apptainer keeps the host environment: the step's variables and the job's ($OUT) are there.
    assert (ran.storage / "output" / "seen").read_text() == f"{work} step value {ran.out}\n"
    assert PASSWORD not in all_argv_text(tmp_path)


def test_apptainer_shim_runs_deepsquare_hosted_image_from_its_file(slurm, tmp_path):
    hosted = tmp_path / "hosted" / "library"
    hosted.mkdir(parents=True)
    (hosted / "stable-diffusion.sif").write_text("sif\n")
    spec = """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
        steps:
          - name: hosted
            run:
              container:
                image: library/stable-diffusion.sif
                registry: registry-1.deepsquare.run
                deepsquareHosted: true
              command: echo hosted-ran
    """
    ran = run_job(slurm, tmp_path, spec, site=shim_site(tmp_path), env=shim_env(slurm, tmp_path))
    assert ran.rc == 0, ran
    assert calls(tmp_path, "apptainer", "pull") == []
    (run,) = calls(tmp_path, "apptainer", "exec")
    assert run["image"] == str(hosted / "stable-diffusion.sif") and run["image_exists"]
    assert "--fakeroot" not in run["argv"]
    assert "hosted-ran" in ran.output


def test_enroot_shim_container_is_removed_when_its_step_is_stopped_with_term(slurm, tmp_path):
    """A launch is signalled (TERM) when its scope ends: jobc_enroot's trap still removes the container."""
    spec = """
        resources: {tasks: 2, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
        steps:
          - name: image
            run:
              command: echo squashfs > "$DEEPSQUARE_INPUT/srv.sqsh"
          - name: service
            launch:
              steps:
                - name: served
                  run:
                    container: {image: /input/srv.sqsh}
                    command: touch "$STORAGE_PATH/serving"; exec sleep 60
          - name: client
            run:
              command: for i in $(seq 100); do [ -e "$STORAGE_PATH/serving" ] && break; sleep 0.1; done
    """
    ran = run_job(slurm, tmp_path, spec, site=shim_site(tmp_path), env=shim_env(slurm, tmp_path), timeout=60)
    assert ran.rc == 0, ran
    assert ran.res.elapsed < 40, "the launch was stopped, not waited for"
    verbs = [c["argv"][0] for c in calls(tmp_path, "enroot")]
    assert verbs == ["create", "start", "remove"], (verbs, ran)
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"jobc-{os.getuid()}/jobc-{ran.res.job_id}-*"))
