"""The benchmark command keeps working (tiny sizes, one round, this interpreter's jobc); its figures are not
checked: timings are never a test's pass or fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runs_with_tiny_sizes() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--tiny", "--here", "--no-peer"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].split("|")[1].strip() == "figure"
    figures = {row.split("|")[1].strip() for row in rows[2:]}
    assert {"cold `jobc compile` minimal job", "`jobc --help`", "completion (`jobc comp<TAB>`)"} <= figures
    assert "the floor and one pydantic model, ending as jobc ends (for scale)" in figures
    assert "50 flat steps" in figures and "500 steps nested 5 deep" in figures and "500 flat steps, JSON" in figures


def test_bench_startup_selection_leaves_out_the_large_specs() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--tiny", "--here", "--no-peer", "--startup"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = {line.split("|")[1].strip() for line in proc.stdout.splitlines() if line.startswith("| ")}
    assert {"cold `jobc compile` minimal job", "`jobc --help`", "app spec in-process (jobc; peer skipped)"} <= figures
    assert not any("steps" in figure or "specs" in figure for figure in figures)


def test_startup_parts_splits_a_cold_compile() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "startup_parts.py"), "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split("|")[1:-1] for line in proc.stdout.splitlines() if line.startswith("| ")]
    parts = {part.strip(): float(ms) for part, ms in rows[1:]}
    assert len(parts) == 9 and all(ms > 0 for ms in parts.values())
    assert parts["all of the above but the second compile"] == max(parts.values())
