"""Decision 13 as written in docs/decisions.md: workDir is a `cd` inside the step, not `srun --chdir=workDir`.

(tests/slurm/test_step_options.py runs it under the real Slurm.)
"""

from __future__ import annotations

from jobc import compile_spec
from jobc.site import site_from_dict

SPEC = """\
resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 64, gpusPerTask: 0}
steps:
  - name: in-sub
    run: {command: pwd, workDir: sub/dir}
  - name: absolute
    run: {command: pwd, workDir: /scratch/x}
  - name: default
    run: {command: pwd}
"""


def test_work_dir_is_a_cd_inside_the_step_and_srun_starts_in_storage_path() -> None:
    script = compile_spec(SPEC, name="job.yaml", site=site_from_dict({})).script
    srun_lines = [line for line in script.splitlines() if line.lstrip().startswith("srun ")]
    assert len(srun_lines) == 3
    assert all('--chdir="$STORAGE_PATH"' in line for line in srun_lines), srun_lines
    assert "--chdir=sub" not in script and "--chdir=/scratch" not in script
    assert 'export JOBC_WORKDIR="$STORAGE_PATH"/sub/dir' in script
    assert "export JOBC_WORKDIR=/scratch/x" in script
    assert script.count("""/bin/sh -c 'cd -- "$JOBC_WORKDIR" && exec "$@"' jobc-workdir""") == 2
