"""`bench/run.py --slurm-only` keeps working: tiny sizes (3 steps, one job of each script) under the real Slurm it
starts through the harness. It checks that every figure was produced, never what it is: timings are never a
test's pass or fail."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slurm

ROOT = Path(__file__).resolve().parents[2]


def test_slurm_bench_runs_with_tiny_sizes() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--slurm-only", "--tiny", "--here"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {
        cells[0]: cells[1:]
        for line in proc.stdout.splitlines()
        if line.startswith("| ")
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    measured, ratio, target = rows["Slurm: 3 trivial steps, jobc's script vs the same srun lines by hand"]
    assert re.fullmatch(r"\d+ vs \d+ ms", measured), measured
    assert re.match(r"\d+\.\d{3}× \(rounds ", ratio), ratio
    assert target == "≤ 1.1×"
    per_step, per_job = rows["jobc's code outside Slurm (srun is /bin/true): per step; per job"][0].split("; ")
    assert re.fullmatch(r"-?\d+\.\d\d", per_step) and re.fullmatch(r"-?\d+\.\d ms", per_job), (per_step, per_job)
    helpers = rows["per step, empty $DEEPSQUARE_ENV: marker; subshell; env loading; all"][0]
    assert re.fullmatch(r"(-?\d+\.\d+; ){3}-?\d+\.\d+ ms", helpers), helpers
    assert "Slurm 22.05" in proc.stdout or "Slurm 24.11" in proc.stdout
