"""Compile a spec with jobc and run the script on the test cluster.

Shared by the real-Slurm tests of generated scripts. Every compiled script is
also checked with shellcheck (the generated script must stay clean).
"""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from support import shellcheck_binary

from jobc import compile_spec
from jobc.options import CompileOptions
from jobc.site import Site, site_from_dict


def shellcheck_bin() -> str:
    return str(shellcheck_binary())


def site_profile(tmp_path: Path, sbatch: dict | None = None, **options) -> Site:
    """A site profile whose storage root and caches are under tmp_path, with a short launch grace."""
    caches = {
        key: str(tmp_path / "caches" / key) for key in ("shared_tmp", "shared_world_tmp", "disk_tmp", "disk_world_tmp")
    }
    data: dict = {
        "paths": {"storage_root": str(tmp_path / "storage"), **caches},
        "options": {"launch_grace": 3, **options},
    }
    if sbatch:
        data["sbatch"] = sbatch
    return site_from_dict(data)


def compile_job(
    tmp_path: Path,
    spec: str,
    *,
    name: str = "job.yaml",
    site: Site | None = None,
    sbatch: list[str] | tuple = (),
    job_name: str | None = None,
) -> Path:
    """Compile `spec` (YAML or JSON text) into tmp_path/job.sh, shellcheck it, return its path."""
    site = (site or site_profile(tmp_path)).with_sbatch(list(sbatch))
    spec_file = tmp_path / name
    spec_file.write_text(textwrap.dedent(spec))
    # The spec's path, so that a module it uses (DeepSquare `use: ./dir`) is found next to it.
    result = compile_spec(
        spec_file.read_text(), name=str(spec_file), site=site, options=CompileOptions(job_name=job_name)
    )
    script = tmp_path / "job.sh"
    script.write_text(result.script)
    script.chmod(0o755)
    sc = subprocess.run([shellcheck_bin(), "-x", str(script)], capture_output=True, text=True)
    assert sc.returncode == 0, f"shellcheck findings in the generated script:\n{sc.stdout}{sc.stderr}"
    return script


@dataclass(repr=False)
class Ran:
    res: object  # harness JobResult
    out: Path  # the directory passed to the job as $OUT
    storage: Path  # $STORAGE_PATH of the job

    @property
    def rc(self) -> int:
        return self.res.returncode

    @property
    def output(self) -> str:
        return self.res.output

    def read(self, name: str) -> str:
        return (self.out / name).read_text()

    def __str__(self) -> str:
        files = sorted(p.name for p in self.out.iterdir()) if self.out.exists() else []
        return f"{self.res}\n--- files in $OUT: {files}"

    __repr__ = __str__


def out_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    os.chmod(out, 0o777)
    return out


def run_job(
    cluster,
    tmp_path: Path,
    spec: str,
    *,
    timeout: float = 60,
    env: dict | None = None,
    extra_args: tuple | list = (),
    **compile_kw,
) -> Ran:
    """Compile and submit with `sbatch --wait`; the job sees $OUT, a directory for its evidence."""
    script = compile_job(tmp_path, spec, **compile_kw)
    out = out_dir(tmp_path)
    res = cluster.submit(script, timeout=timeout, env={"OUT": str(out), **(env or {})}, extra_args=extra_args)
    storage = tmp_path / "storage" / str(res.job_id)
    return Ran(res, out, storage)


def job_steps(cluster, job_id: str) -> list[str]:
    """The job's steps that squeue still lists (`squeue -s`)."""
    r = cluster.run(["squeue", "-h", "-s", "-j", str(job_id), "-o", "%i %j"], check=False)
    return [line for line in r.stdout.splitlines() if line.strip()] if r.returncode == 0 else []


def assert_no_steps_left(cluster, job_id: str, timeout: float = 8) -> None:
    """Once the job has ended, Slurm finishes killing its steps within KillWait: none may remain."""
    left: list[str] = []

    def gone() -> bool:
        left[:] = job_steps(cluster, job_id)
        return not left

    assert wait_until(gone, timeout=timeout), f"steps of job {job_id} still listed by squeue -s: {left}"


def wait_until(predicate, timeout: float = 10, interval: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def sleep_until_signalled(seconds: int) -> str:
    """Shell text: `sleep` that a trap interrupts at once (a trap waits for a foreground child to end).

    Slurm signals every process of a step, so the sleep may die before the shell runs its trap; the
    shell then waits for the trap instead of going on to the next command.
    """
    return f"sleep {seconds} & wait $! || {{ sleep 5 & wait $!; }}"
