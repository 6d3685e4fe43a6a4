"""Job-level `gpus` (DeepSquare's current form) under the real Slurm with the harness's fake GPUs.

The job asks sbatch for `--gpus=N`; a step gets no GPU unless it asks for `gpusPerTask`
(DeepSquare's rule), and `$GPUS` is the job's total while `$GPUS_PER_TASK` is not set.
"""

from __future__ import annotations

import re

import pytest

from .jobc_run import run_job

pytestmark = pytest.mark.slurm


@pytest.mark.slurm_both
def test_job_gpus_steps_get_none_unless_they_ask(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        """
        resources: {tasks: 2, cpusPerTask: 1, memPerCpu: 100, gpus: 2}
        steps:
          - name: env
            run:
              shell: /bin/bash
              command: |
                printf '%s\\n' "GPUS=$GPUS" "GPUS_PER_TASK=${GPUS_PER_TASK-unset}" > "$OUT/env"
                scontrol show job -o "$SLURM_JOB_ID" | grep -o 'TresPerJob=[^ ]*' > "$OUT/job"
          - name: none by default
            run:
              shell: /bin/bash
              command: echo "${CUDA_VISIBLE_DEVICES-unset}" > "$OUT/none"
          - name: one
            run:
              shell: /bin/bash
              resources: {gpusPerTask: 1}
              command: echo "$CUDA_VISIBLE_DEVICES" > "$OUT/one"
          - name: one per task
            run:
              shell: /bin/bash
              resources: {tasks: 2, gpusPerTask: 1}
              command: echo "$CUDA_VISIBLE_DEVICES" > "$OUT/task-$SLURM_PROCID"
    """,
    )
    assert ran.rc == 0, ran
    assert ran.read("env").split() == ["GPUS=2", "GPUS_PER_TASK=unset"]
    assert re.fullmatch(r"TresPerJob=gres[:/]gpu:2", ran.read("job").strip())  # 22.05 writes gres:gpu
    assert ran.read("none").strip() in ("unset", "", "NoDevFiles")
    assert len(ran.read("one").strip().split(",")) == 1
    for procid in range(2):
        assert len(ran.read(f"task-{procid}").strip().split(",")) == 1
