"""Races under the real Slurm (issue 14).

- Quick parallel loops never end the job with exit code 127 (`wait -n` answering "no children" while ended
  iterations are still unreported).
"""
from __future__ import annotations

import json

import pytest

from .jobc_run import run_job

pytestmark = pytest.mark.slurm

RES = {"tasks": 4, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0}


def test_thousands_of_rounds_of_quick_parallel_iterations_never_end_127(slurm, tmp_path):
    """3,000 rounds of a four-item parallel loop whose steps only print their names, in one job (with the old
    helper, counting `wait -n` returns, this job ended 127 after 6 s)."""
    rounds = 3000
    spec = json.dumps({"resources": RES, "steps": [
        {"name": "round", "for": {"range": {"begin": 1, "end": rounds}, "steps": [
            {"name": "loop", "for": {"parallel": True, "items": ["a", "b", "c", "d"], "steps": [{"name": "it"}]}}]}},
        {"name": "last", "run": {"command": 'echo "$SLURM_STEP_ID" > "$OUT/last"'}}]})
    ran = run_job(slurm, tmp_path, spec, name="job.json", timeout=240)
    assert ran.rc == 0, ran
    steps = ran.output.splitlines()
    assert steps.count("jobc: step loop") == rounds, ran.output[-2000:]
    assert steps.count("jobc: step it") == 4 * rounds
    assert ran.read("last").strip().isdigit()  # the job went on to a real Slurm step after the loops
