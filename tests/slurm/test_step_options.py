"""StepRun options under real Slurm: workDir, mapRoot, shell, disableCpuBinding, mpi."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest

from .jobc_run import compile_job, run_job, site_profile

pytestmark = pytest.mark.slurm

RES = {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0}


def spec(*steps, resources=RES) -> str:
    return json.dumps({"resources": resources, "steps": list(steps)})


def run(command: str, **options) -> dict:
    return {"run": {"command": command, **options}}


def test_work_dir_on_the_host(slurm, tmp_path):
    absolute = tmp_path / "host dir"
    absolute.mkdir()
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            run('pwd > "$OUT/default"; mkdir -p "sub dir/deeper"'),
            run('pwd > "$OUT/absolute"; touch here', workDir=str(absolute)),
            run('pwd > "$OUT/relative"', workDir="sub dir/deeper"),
            run('pwd > "$OUT/after"'),
        ),
    )
    assert ran.rc == 0, ran
    assert ran.read("default").strip() == str(ran.storage)
    assert ran.read("absolute").strip() == str(absolute)
    assert (absolute / "here").exists()
    # A relative workDir is relative to $STORAGE_PATH; the next step is back there.
    assert ran.read("relative").strip() == str(ran.storage / "sub dir" / "deeper")
    assert ran.read("after").strip() == str(ran.storage)


def test_missing_work_dir_fails_the_step(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            run('pwd > "$OUT/where"', workDir=str(tmp_path / "missing")),
        ),
    )
    assert ran.rc != 0, ran
    assert not (ran.out / "where").exists()


UID_REPORT = 'id -u > "$OUT/uid-$TAG"; tr -s " " < /proc/self/uid_map > "$OUT/map-$TAG"'


@pytest.mark.slurm_both
def test_map_root_as_root(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            run(UID_REPORT.replace("$TAG", "mapped"), mapRoot=True),
            run(UID_REPORT.replace("$TAG", "plain")),
        ),
    )
    assert ran.rc == 0, ran
    assert ran.read("uid-mapped").strip() == "0"
    # A user namespace that maps one uid (the caller) to root, not the initial namespace.
    assert ran.read("map-mapped").split() == ["0", "0", "1"]
    assert ran.read("map-plain").split() == ["0", "0", "4294967295"]


@pytest.fixture
def shared_dir():
    """A directory that the `nobody` user can write to (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="jobc-test-nobody-"))
    os.chmod(base, 0o755)
    for sub in ("storage", "out"):
        (base / sub).mkdir()
        os.chmod(base / sub, 0o1777)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_map_root_makes_an_unprivileged_user_root(slurm, tmp_path, shared_dir):
    script = compile_job(
        tmp_path,
        spec(
            run(UID_REPORT.replace("$TAG", "mapped") + '; touch "$OUT/owned-by-mapped"', mapRoot=True),
            run(UID_REPORT.replace("$TAG", "plain")),
        ),
        name="job.json",
        site=site_profile(shared_dir),
    )
    out = shared_dir / "out"
    res = slurm.submit(script, timeout=60, env={"OUT": str(out)}, extra_args=["--uid=nobody", "--gid=nogroup"])
    assert res.returncode == 0, res
    nobody = str(pwd.getpwnam("nobody").pw_uid)
    assert (out / "uid-plain").read_text().strip() == nobody
    assert (out / "uid-mapped").read_text().strip() == "0"
    assert (out / "map-mapped").read_text().split() == ["0", nobody, "1"]
    # Mapped root is not root on the host: files it creates belong to nobody.
    assert str((out / "owned-by-mapped").stat().st_uid) == nobody


SHELL_REPORT = 'readlink -f "/proc/$$/exe" > "$OUT/exe-$TAG"'


def test_shell_choices(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            run(
                SHELL_REPORT.replace("$TAG", "bash") + '; [[ -n $BASH_VERSION ]] && echo yes > "$OUT/bashism"',
                shell="/bin/bash",
            ),
            run(SHELL_REPORT.replace("$TAG", "sh"), shell="/bin/sh"),
            run(SHELL_REPORT.replace("$TAG", "default")),
        ),
    )
    assert ran.rc == 0, ran
    assert ran.read("exe-bash").strip() == os.path.realpath("/bin/bash")
    assert ran.read("bashism").strip() == "yes"
    assert ran.read("exe-sh").strip() == os.path.realpath("/bin/sh")
    assert ran.read("exe-default").strip() == os.path.realpath("/bin/sh")  # the reference's default


def test_shell_ash(slurm, tmp_path):
    """/bin/ash runs the command where it exists; where it does not (Debian has no ash by default),
    the step fails and the job's output names the missing shell."""
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            run(SHELL_REPORT.replace("$TAG", "ash"), shell="/bin/ash"),
            run('touch "$OUT/after"'),
        ),
    )
    if os.path.exists("/bin/ash"):
        assert ran.rc == 0, ran
        assert ran.read("exe-ash").strip() == os.path.realpath("/bin/ash")
    else:
        assert ran.rc != 0, ran
        assert "/bin/ash: No such file or directory" in ran.output, ran
        assert not (ran.out / "after").exists()
        assert not (ran.storage / ".jobc").exists()


BIND_MPI_REPORT = (
    'echo "bind=${SLURM_CPU_BIND_TYPE-unset} mpi=${SLURM_MPI_TYPE-unset} pmi=${PMI_RANK-unset}" > "$OUT/$TAG"'
)


def test_disable_cpu_binding_and_mpi(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            run(BIND_MPI_REPORT.replace("$TAG", "plain")),
            run(BIND_MPI_REPORT.replace("$TAG", "nobind"), disableCpuBinding=True),
            run(BIND_MPI_REPORT.replace("$TAG", "none"), mpi="none"),
            run(BIND_MPI_REPORT.replace("$TAG", "pmi2"), mpi="pmi2"),
        ),
    )
    assert ran.rc == 0, ran
    assert ran.read("plain").split() == ["bind=unset", "mpi=unset", "pmi=unset"]
    assert ran.read("nobind").split()[0] == "bind=none"
    # mpi: none reaches srun: no PMI for the task (pmi2, for contrast, sets it up).
    assert ran.read("none").split()[1:] in (["mpi=unset", "pmi=unset"], ["mpi=none", "pmi=unset"])
    assert ran.read("pmi2").split()[1:] == ["mpi=pmi2", "pmi=0"]
