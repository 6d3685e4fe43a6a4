"""Failure semantics under real Slurm: exit codes, steps that must not run, the exit path."""

from __future__ import annotations

import json
import time

import pytest

from .jobc_run import assert_no_steps_left, compile_job, out_dir, run_job, sleep_until_signalled, wait_until

pytestmark = pytest.mark.slurm

RES = {"tasks": 3, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0}


def spec(*steps, resources=RES) -> str:
    return json.dumps({"resources": resources, "steps": list(steps)})


def run(command: str, name=None, depends_on=None, shell="/bin/bash") -> dict:
    step: dict = {"run": {"command": command, "shell": shell}}
    if name:
        step["name"] = name
    if depends_on:
        step["dependsOn"] = depends_on
    return step


def launch(*steps, handle=None, signal=None) -> dict:
    body: dict = {"steps": list(steps)}
    if handle:
        body["handleName"] = handle
    if signal is not None:
        body["signalOnParentStepExit"] = signal
    return {"launch": body}


def assert_exit_path_ran(ran) -> None:
    assert ran.storage.is_dir(), ran
    assert (ran.storage / "output").is_dir()
    assert not (ran.storage / ".jobc").exists(), "the exit path did not remove $STORAGE_PATH/.jobc"


@pytest.mark.slurm_both
def test_failing_step_stops_the_job_with_its_code(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            run('touch "$OUT/first"; ls -ld "$STORAGE_PATH/.jobc" > "$OUT/private"', name="first"),
            run("echo failing; exit 7", name="second"),
            run('touch "$OUT/third"', name="third"),
            {"for": {"parallel": False, "items": ["x"], "steps": [run('touch "$OUT/loop"', name="loop")]}},
        ),
    )
    assert ran.rc == 7, ran
    assert (ran.out / "first").exists()
    assert ran.read("private").startswith("drwx------")  # the private dir existed while steps ran
    assert not (ran.out / "third").exists() and not (ran.out / "loop").exists()
    assert "jobc: step second" in ran.output and "jobc: step third" not in ran.output
    assert_exit_path_ran(ran)
    info = slurm.scontrol_show_job(ran.res.job_id)
    assert info["JobState"] == "FAILED" and info["ExitCode"] == "7:0", info


@pytest.mark.slurm_both
def test_failing_step_with_sh_and_large_code(slurm, tmp_path):
    ran = run_job(slurm, tmp_path, spec(run("exit 42", shell="/bin/sh"), run('touch "$OUT/after"')))
    assert ran.rc == 42, ran
    assert not (ran.out / "after").exists()
    assert_exit_path_ran(ran)


def test_awaited_launch_failure_fails_the_awaiting_step(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            launch(
                {
                    "for": {
                        "parallel": False,
                        "range": {"begin": 1, "end": 3},
                        "steps": [
                            run('echo "$index" >> "$OUT/iterations"; [ "$index" -lt 2 ] || exit 5'),
                        ],
                    }
                },
                handle="worker",
            ),
            run('touch "$OUT/foreground"'),
            run('touch "$OUT/awaited"', name="awaiting", depends_on=["worker"]),
            run('touch "$OUT/after"'),
        ),
    )
    assert ran.rc == 5, ran
    assert ran.read("iterations").split() == ["1", "2"]
    assert (ran.out / "foreground").exists()
    assert not (ran.out / "awaited").exists() and not (ran.out / "after").exists()
    assert "launch worker failed with exit code 5" in ran.output
    assert_exit_path_ran(ran)


def test_unawaited_launch_failure_fails_its_step_list(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            launch(run("exit 6"), handle="fire_and_forget"),
            run('sleep 1; touch "$OUT/foreground"'),
        ),
    )
    assert ran.rc == 6, ran
    assert (ran.out / "foreground").exists()  # noticed when the step list ends, not before
    assert "launch fire_and_forget failed with exit code 6" in ran.output
    assert_exit_path_ran(ran)


@pytest.mark.slurm_both
def test_failure_signals_running_launches_before_the_exit_path(slurm, tmp_path):
    trap = (
        'trap "echo TERM > \\"\\$OUT/signal-$TAG\\"; exit 0" TERM; touch "$OUT/up-$TAG"; '
        f'{sleep_until_signalled(30)}; touch "$OUT/finished-$TAG"'
    )
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            launch(run(trap.replace("$TAG", "term"))),
            launch(run('touch "$OUT/up-zero"; sleep 4; touch "$OUT/finished-zero"'), signal=0),
            run(
                'for _ in $(seq 100); do [ -e "$OUT/up-term" ] && [ -e "$OUT/up-zero" ] && break; sleep 0.1; done; exit 7'
            ),
        ),
    )
    assert ran.rc == 7, ran
    assert ran.read("signal-term").strip() == "TERM"
    assert not (ran.out / "finished-term").exists()
    assert_exit_path_ran(ran)
    # signal 0 is left to Slurm's end-of-job cleanup: it does not outlive the job.
    assert_no_steps_left(slurm, ran.res.job_id)
    time.sleep(4.5)
    assert not (ran.out / "finished-zero").exists()


@pytest.mark.slurm_both
def test_cancelled_job_runs_the_exit_path(slurm, tmp_path):
    script = compile_job(
        tmp_path,
        spec(
            launch(run('trap "echo TERM > \\"\\$OUT/signal\\"; exit 0" TERM; ' + sleep_until_signalled(30))),
            # `&&`: Slurm signals the step's processes one by one; a killed sleep must not count as finished
            run('touch "$OUT/up"; sleep 30 && touch "$OUT/finished"'),
        ),
        name="job.json",
    )
    out = out_dir(tmp_path)
    job_id = slurm.sbatch(script, f"--output={tmp_path / 'job.out'}", env={**slurm.env, "OUT": str(out)})
    try:
        assert wait_until(lambda: (out / "up").exists(), timeout=20), (tmp_path / "job.out").read_text()
        storage = tmp_path / "storage" / job_id
        assert (storage / ".jobc").is_dir()
    finally:
        slurm.scancel(job_id)
    slurm.wait_job_gone(job_id)
    assert wait_until(lambda: not (storage / ".jobc").exists(), timeout=10), (tmp_path / "job.out").read_text()
    assert not (out / "finished").exists()
    assert slurm.scontrol_show_job(job_id)["JobState"] == "CANCELLED"
