"""Under the real Slurm, each iteration's step carries its item or index in its name ($SLURM_JOB_NAME)."""

from __future__ import annotations

import json

import pytest

from .jobc_run import run_job

pytestmark = pytest.mark.slurm


def test_iterations_are_named_apart(slurm, tmp_path):
    long = "x" * 60
    record = 'printf "%s" "$SLURM_JOB_NAME" > "$OUT/name-$SLURM_STEP_ID"'
    ran = run_job(
        slurm,
        tmp_path,
        json.dumps(
            {
                "resources": {"tasks": 2, "cpusPerTask": 1, "memPerCpu": 64, "gpusPerTask": 0},
                "steps": [
                    {
                        "name": "sweep",
                        "for": {
                            "parallel": True,
                            "items": ["0.1", "it's", long],
                            "steps": [
                                {
                                    "name": "count",
                                    "for": {
                                        "range": {"begin": 1, "end": 2},
                                        "steps": [{"name": "train one", "run": {"command": record}}],
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ),
        name="job.json",
    )
    assert ran.rc == 0, ran
    names = sorted(p.read_text() for p in ran.out.glob("name-*"))
    assert names == sorted(
        f"train one [item={item[:40]}, index={index}]" for item in ("0.1", "it's", long) for index in (1, 2)
    )
