"""bfabric docker commands run by a real podman under the real Slurm (Debian's podman, as root, with runc).

The image is built by the test from a busybox-static root filesystem (`podman import`; no registry). How
podman is set up on a node is the site's business: here a CONTAINERS_CONF in the job's environment (runc,
cgroupfs) and the site profile's `options.podman_args` (ulimits runc can set in this sandbox). Containers must not outlive
their step: podman's conmon leaves the Slurm step, so jobc names each container and removes it when the
step is stopped; a cancelled job and a failing chunk leave none.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from jobc import compile_spec
from jobc.options import AppOptions, CompileOptions
from jobc.site import site_from_dict

from .jobc_run import shellcheck_bin, wait_until

pytestmark = pytest.mark.slurm

CONTAINERS_CONF = """\
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""


@pytest.fixture(scope="module")
def podman(tmp_path_factory) -> dict:
    podman = shutil.which("podman")
    assert podman, "podman is a test dependency (Debian package podman, installed by tests/run.sh)"
    root = tmp_path_factory.mktemp("podman")
    conf = root / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    rootfs = root / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    for name in ("sh", "cat", "echo", "touch", "hostname", "sleep", "env", "printf", "test"):
        (rootfs / "bin" / name).symlink_to("busybox")
    image = f"localhost/jobc-busybox:{uuid.uuid4().hex[:8]}"
    env = {"CONTAINERS_CONF": str(conf), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(
        [podman, "import", "-", image], stdin=tar.stdout, env=env, check=True, capture_output=True, timeout=120
    )
    tar.wait()
    yield {"image": image, "env": env, "podman": podman}
    subprocess.run([podman, "rmi", "-f", image], env=env, capture_output=True, timeout=120)


def app(image: str, process: dict) -> str:
    return json.dumps(
        {
            "versions": [
                {
                    "version": "1.0",
                    "commands": {
                        "dispatch": {
                            "type": "exec",
                            "command": 'sh -c \'mkdir -p "$2/c1" && echo hello > "$2/c1/inputs.yml"\' d',
                        },
                        "process": {"type": "docker", "engine": "podman", "image": image, **process},
                    },
                }
            ],
        }
    )


def compile_app(tmp_path: Path, spec: str, work: Path) -> Path:
    site = site_from_dict(
        {
            "paths": {"storage_root": str(tmp_path / "storage")},
            "options": {
                "launch_grace": 3,
                # below the sandbox's hard limits: runc may not raise them
                "podman_args": ["--ulimit=nproc=4096:4096", "--ulimit=nofile=1024:1024"],
            },
        }
    )
    options = CompileOptions(app=AppOptions(workunit_ref="7", app_id=1, app_name="podman", work_dir=str(work)))
    script = tmp_path / "job.sh"
    script.write_text(compile_spec(spec, name="app.yaml", site=site, options=options).script)
    sc = subprocess.run([shellcheck_bin(), "-x", str(script)], capture_output=True, text=True)
    assert sc.returncode == 0, sc.stdout + sc.stderr
    return script


def containers_of(podman: dict, job_id: str) -> list[str]:
    out = subprocess.run(
        [podman["podman"], "ps", "-a", "--format", "{{.Names}}"],
        env=podman["env"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return [name for name in out.split() if name.startswith(f"jobc-{job_id}-")]


def test_process_runs_in_a_podman_container(slurm, podman, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "ref.txt").write_text("reference\n")
    work = tmp_path / "work"
    process = {
        "entrypoint": "/bin/sh",
        "command": '-c \'cat "$1/inputs.yml" /ref/ref.txt > "$1/result.txt"; echo "$MODE $(hostname)" >> "$1/result.txt";'
        ' touch /ref/written 2>/dev/null && echo writable >> "$1/result.txt"; exit 0\' process',
        "env": {"MODE": "a b,c"},
        "hostname": "chunk-worker",
        "mounts": {"read_only": [[str(data), "/ref"]], "share_bfabric_config": False},
    }
    res = slurm.submit(compile_app(tmp_path, app(podman["image"], process), work), timeout=180, env=podman["env"])
    assert res.returncode == 0, res.output
    assert (work / "c1" / "result.txt").read_text() == "hello\nreference\na b,c chunk-worker\n"
    assert not (data / "written").exists()  # the read-only mount is read-only
    assert containers_of(podman, res.job_id) == []  # --rm: gone once it ended


def test_a_failing_chunk_leaves_no_container(slurm, podman, tmp_path: Path) -> None:
    work = tmp_path / "work"
    process = {"entrypoint": "/bin/sh", "command": "-c 'exit 3' process", "mounts": {"share_bfabric_config": False}}
    res = slurm.submit(compile_app(tmp_path, app(podman["image"], process), work), timeout=180, env=podman["env"])
    assert res.returncode == 3, res
    assert containers_of(podman, res.job_id) == []


def test_a_cancelled_job_leaves_no_container(slurm, podman, tmp_path: Path) -> None:
    work = tmp_path / "work"
    process = {
        "entrypoint": "/bin/sh",
        "command": "-c 'touch \"$1/up\"; sleep 120' process",
        "mounts": {"share_bfabric_config": False},
    }
    script = compile_app(tmp_path, app(podman["image"], process), work)
    job_id = slurm.sbatch(script, f"--output={tmp_path / 'job.out'}", env={**slurm.env, **podman["env"]})
    assert wait_until(lambda: (work / "c1" / "up").exists() and containers_of(podman, job_id), timeout=90), (
        tmp_path / "job.out"
    ).read_text()
    [name] = containers_of(podman, job_id)
    slurm.scancel(job_id)
    slurm.wait_job_gone(job_id, timeout=90)
    assert wait_until(lambda: not containers_of(podman, job_id), timeout=20), (
        f"container {name} outlived job {job_id}:\n" + (tmp_path / "job.out").read_text()
    )
    time.sleep(1)
    assert containers_of(podman, job_id) == []
