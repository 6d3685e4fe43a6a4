#!/usr/bin/env python3
"""The runtime overhead of jobc's generated script under the real Slurm (issue 15).

    python bench/slurm_overhead.py [--steps 50] [--rounds 11] [--tiny]    (as root: it starts a throw-away Slurm)

A DeepSquare job of STEPS sequential trivial steps (`run: {command: "true"}`, the job's resources) is compiled
with jobc, and a hand-written sbatch script is made of the very `srun` lines of jobc's steps (taken from the
generated script, so only jobc's own code differs). Both are submitted alternately, one job at a time, to a real
Slurm started by the test harness (tests/harness/cluster.py), ROUNDS times each after one warm-up job each.

What is timed is the batch script's run: every job is the same small wrapper, which takes `$EPOCHREALTIME`, runs
the script under test with `bash` and takes `$EPOCHREALTIME` again. `sbatch --wait` is no clock: it polls every
2 s; nor are Slurm's Start and End times (1 s resolution). The job's start (scheduling, the batch step's launch)
and its end are the same for both scripts, so leaving them out makes the ratio stricter, not kinder.

The per-step cost of jobc's helpers (the step marker, the step's subshell, loading $DEEPSQUARE_ENV) is measured
outside Slurm too, where srun's own time hides nothing: both scripts run under bash with `srun` a no-op (/bin/true
on PATH), at STEPS and 5 × STEPS steps, so the slope is the cost per step and the rest is the cost per job; and
each helper alone in a loop. It reports; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

TARGET = 1.1
WRAPPER = """#!/bin/bash
{directives}
start=$EPOCHREALTIME
rc=0
bash "$BENCH_SCRIPT" || rc=$?
end=$EPOCHREALTIME
printf '%s %s %s\\n' "$start" "$end" "$rc" > "$BENCH_TIMES.part"
mv "$BENCH_TIMES.part" "$BENCH_TIMES"
"""


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def spec_text(steps: int) -> str:
    lines = ["resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}", "steps:"]
    lines += [f'  - name: s{i}\n    run: {{command: "true"}}' for i in range(steps)]
    return "\n".join(lines) + "\n"


def compile_job(jobc: list[str], work: Path, steps: int) -> Path:
    """jobc's script for STEPS trivial steps, its storage under work/storage (a site profile says so)."""
    site = work / "site.toml"
    site.write_text(f'[paths]\nstorage_root = "{work / "storage"}"\n', encoding="utf-8")
    spec = work / f"steps{steps}.yaml"
    spec.write_text(spec_text(steps), encoding="utf-8")
    script = work / f"jobc-{steps}.sh"
    subprocess.run(
        [*jobc, "compile", "--site", str(site), str(spec), "-o", str(script)], check=True, capture_output=True
    )
    return script


def srun_lines(script: str) -> list[str]:
    """Each srun command of the script, its continuation lines joined, as it stands in the script."""
    commands, current = [], None
    for line in script.splitlines():
        stripped = line.strip()
        if current is None and stripped.startswith("srun "):
            current = stripped
        elif current is not None:
            current = current[:-1].rstrip() + " " + stripped
        if current is not None and not current.endswith("\\"):
            commands.append(current)
            current = None
    return commands


def hand_written(jobc_script: Path, work: Path) -> Path:
    """The same #SBATCH lines and srun lines as jobc's script, and only what they need: the storage directory."""
    text = jobc_script.read_text(encoding="utf-8")
    directives = [line for line in text.splitlines() if line.startswith("#SBATCH ")]
    lines = ["#!/bin/bash", *directives, "set -euo pipefail"]
    lines += [f'STORAGE_PATH="{work / "storage"}/$SLURM_JOB_ID"', 'mkdir -p "$STORAGE_PATH"']
    lines += srun_lines(text)
    script = work / f"hand-{jobc_script.stem.split('-')[-1]}.sh"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return script


class Job:
    def __init__(self, cluster, work: Path, directives: list[str]) -> None:
        self.cluster, self.work = cluster, work
        self.wrapper = work / "wrapper.sh"
        self.wrapper.write_text(WRAPPER.format(directives="\n".join(directives)), encoding="utf-8")
        self.count = 0

    def run(self, script: Path, timeout: float = 600) -> float:
        """Submit the wrapper around SCRIPT, wait until the job is gone, return the script's wall seconds."""
        self.count += 1
        times = self.work / f"times-{self.count}"
        output = self.work / f"job-{self.count}.out"
        job_id = self.cluster.sbatch(
            self.wrapper,
            f"--output={output}",
            cwd=self.work,
            env={"BENCH_SCRIPT": str(script), "BENCH_TIMES": str(times)},
        )
        end = time.monotonic() + timeout
        checked = time.monotonic()
        while not times.exists():
            if time.monotonic() > end:
                self.cluster.scancel(job_id)
                sys.exit(f"bench: job {job_id} ({script.name}) ran past {timeout} s")
            if time.monotonic() - checked > 2:  # a job that ended without writing its times
                checked = time.monotonic()
                state = self.cluster.run(["squeue", "-h", "-j", job_id, "-o", "%T"], check=False).stdout.strip()
                if state not in ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING") and not times.exists():
                    sys.exit(f"bench: job {job_id} ({script.name}) ended ({state or 'gone'}): {_read(output)}")
            time.sleep(0.05)
        self.cluster.wait_job_gone(job_id)
        start, stop, rc = times.read_text().split()
        if rc != "0":
            sys.exit(f"bench: {script.name} exited {rc} in job {job_id}:\n{_read(output)[-3000:]}")
        return float(stop) - float(start)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def under_slurm(cluster, jobc_script: Path, hand_script: Path, rounds: int) -> dict[str, list[float]]:
    """Wall seconds of each script's runs: one warm-up each, then ROUNDS rounds of one job each, alternating."""
    directives = [line for line in jobc_script.read_text().splitlines() if line.startswith("#SBATCH ")]
    job = Job(cluster, jobc_script.parent, directives)
    times: dict[str, list[float]] = {"jobc": [], "hand": []}
    job.run(jobc_script)
    job.run(hand_script)
    for i in range(rounds):
        order = [("jobc", jobc_script), ("hand", hand_script)]
        for name, script in order if i % 2 == 0 else order[::-1]:
            times[name].append(job.run(script))
        log(f"bench: slurm round {i + 1}/{rounds}: jobc {times['jobc'][-1]:.3f} s, hand {times['hand'][-1]:.3f} s")
    return times


def no_op_srun(work: Path) -> dict[str, str]:
    """The environment of a run outside Slurm: a job id, and an `srun` on PATH that is /bin/true.

    An external no-op, not a shell function: the hand-written script forks and execs each srun as Slurm's does,
    so what differs is jobc's code alone (bash 5.1 and later exec the last command of a subshell without a fork
    of its own).
    """
    bin_dir = work / "no-op-bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "srun").exists():
        (bin_dir / "srun").symlink_to(shutil.which("true") or "/bin/true")
    return {**os.environ, "SLURM_JOB_ID": "1", "HOME": str(work), "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def outside_slurm(script: Path) -> float:
    """Wall seconds of SCRIPT under bash with a no-op srun, outside Slurm (timed in bash: no Python start-up)."""
    timed = 's=$EPOCHREALTIME; bash "$0" >/dev/null 2>&1 || exit; e=$EPOCHREALTIME; echo "$s $e"'
    run = subprocess.run(["bash", "-c", timed, str(script)], env=no_op_srun(script.parent), capture_output=True)
    if run.returncode != 0:
        sys.exit(f"bench: {script.name} failed outside Slurm (exit {run.returncode})")
    start, end = run.stdout.split()
    return float(end) - float(start)


HELPER_LOOP = r"""
set -euo pipefail
DEEPSQUARE_ENV=$1 JOBC_RUN=$2 ROUNDS=$3
eval "$(sed -n '/^# ---- jobc.s runtime helpers/,/^# ---- running the job/p' "$4")"
nothing() { :; }
bare() { srun; }
marker() { jobc_step s0; }
subshell() { ( srun ); }
load_env() { jobc_load_env; }
step() { jobc_step s0; ( jobc_load_env; srun ); }
labels=(nothing bare marker subshell load_env step)
declare -A total
for ((round = 0; round < ROUNDS; round++)); do  # round-robin, 10 calls of each at a time
  for label in "${labels[@]}"; do
    start=$EPOCHREALTIME
    for ((i = 0; i < 10; i++)); do "$label" >/dev/null 2>&1; done
    total[$label]=$(( ${total[$label]:-0} + ${EPOCHREALTIME/./} - ${start/./} ))
  done
done
for label in "${labels[@]}"; do printf '%s %s\n' "$label" "${total[$label]}"; done
"""


def helper_costs(jobc_script: Path, env_lines: int, calls: int) -> dict[str, float]:
    """Milliseconds per step of jobc's code around a step's srun (`step`: the marker, the subshell, loading
    $DEEPSQUARE_ENV of ENV_LINES lines), and of each part alone; srun is the no-op /bin/true. CALLS calls of
    each, taken round-robin ten at a time.

    `subshell` and `step` are less the bare `srun` (a fork and an exec, which a hand-written step pays too), the
    others less an empty function call.
    """
    run_dir = jobc_script.parent / "helpers-run"
    run_dir.mkdir(exist_ok=True)
    env_file = jobc_script.parent / f"env-{env_lines}"
    env_file.write_text("".join(f"KEY_{i}=value {i}\n" for i in range(env_lines)), encoding="utf-8")
    proc = subprocess.run(
        ["bash", "-c", HELPER_LOOP, "helpers", str(env_file), str(run_dir), str(max(1, calls // 10)), str(jobc_script)],
        env=no_op_srun(jobc_script.parent),
        capture_output=True,
        text=True,
        check=True,
    )
    ms = {}
    for line in proc.stdout.splitlines():
        label, micros = line.split()
        ms[label] = int(micros) / 1000 / (10 * max(1, calls // 10))
    return {
        "marker": ms["marker"] - ms["nothing"],
        "load_env": ms["load_env"] - ms["nothing"],
        "subshell": ms["subshell"] - ms["bare"],
        "step": ms["step"] - ms["bare"],
    }


def measure(cluster, jobc: list[str], steps: int, rounds: int, outside_runs: int) -> tuple[str, list[tuple]]:
    """Every figure: (a note on the Slurm and the machine's load, the table's rows)."""
    work = Path(tempfile.mkdtemp(prefix="jobc-bench-slurm-"))
    os.chmod(work, 0o755)
    try:
        jobc_script = compile_job(jobc, work, steps)
        hand_script = hand_written(jobc_script, work)
        found = len(srun_lines(hand_script.read_text()))
        if found != steps:
            sys.exit(f"bench: found {found} srun lines in jobc's script of {steps} steps")
        loads = [os.getloadavg()[0]]
        times = under_slurm(cluster, jobc_script, hand_script, rounds)
        loads.append(os.getloadavg()[0])
        ratios = [a / b for a, b in zip(times["jobc"], times["hand"])]
        jobc_median, hand_median = statistics.median(times["jobc"]), statistics.median(times["hand"])

        big_jobc = compile_job(jobc, work, 5 * steps)
        big_hand = hand_written(big_jobc, work)
        plain = {}
        for _ in range(outside_runs):  # round-robin, like the jobs
            for name, script in (
                ("jobc", jobc_script),
                ("hand", hand_script),
                ("jobc5", big_jobc),
                ("hand5", big_hand),
            ):
                plain.setdefault(name, []).append(outside_slurm(script))
        # Differences of runs next to each other, then their median: a busy moment shifts both runs of a pair.
        added = statistics.median(a - b for a, b in zip(plain["jobc"], plain["hand"]))
        added5 = statistics.median(a - b for a, b in zip(plain["jobc5"], plain["hand5"]))
        per_step = (added5 - added) / (4 * steps)
        per_job = added - steps * per_step
        empty = helper_costs(jobc_script, 0, 100 * outside_runs)
        ten = helper_costs(jobc_script, 10, 50 * outside_runs)
        loads.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = [
        (
            f"Slurm: {steps} trivial steps, jobc's script vs the same srun lines by hand",
            f"{jobc_median * 1000:.0f} vs {hand_median * 1000:.0f} ms",
            f"{statistics.median(ratios):.3f}× (rounds {min(ratios):.3f}–{max(ratios):.3f})",
            f"≤ {TARGET}×",
        ),
        (
            "jobc's code outside Slurm (srun is /bin/true): per step; per job",
            f"{per_step * 1000:.2f}; {per_job * 1000:.1f} ms",
            f"{added / hand_median * 100:.1f}% of the job by hand",
            "",
        ),
        (
            "per step, empty $DEEPSQUARE_ENV: marker; subshell; env loading; all",
            f"{empty['marker']:.3f}; {empty['subshell']:.2f}; {empty['load_env']:.3f}; {empty['step']:.2f} ms",
            "",
            "",
        ),
        (
            "per step, $DEEPSQUARE_ENV of 10 lines: env loading; all",
            f"{ten['load_env']:.2f}; {ten['step']:.2f} ms",
            "",
            "",
        ),
    ]
    note = (
        f"{cluster.label}: medians of {rounds} jobs of each script, alternating; outside Slurm, medians of "
        f"{outside_runs} runs; load average {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs"
    )
    return note, rows


def start_cluster():
    from harness.cluster import SlurmCluster

    cluster = SlurmCluster(nodes=1)
    cluster.start()
    return cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, help="steps of the job (default 50; --tiny: 3)")
    parser.add_argument("--rounds", type=int, help="jobs of each script (default 11; --tiny: 1)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: checks that the bench runs")
    args = parser.parse_args()
    steps = args.steps or (3 if args.tiny else 50)
    rounds = args.rounds or (1 if args.tiny else 11)
    cluster = start_cluster()
    try:
        note, rows = measure(cluster, [sys.executable, "-m", "jobc"], steps, rounds, 1 if args.tiny else 11)
    finally:
        cluster.stop()
    print(note)
    for row in rows:
        print(" | ".join(row))


if __name__ == "__main__":
    main()
