"""Control flow under the real Slurm: `if`, step groups, `catch` and `finally` (decisions in docs/decisions.md).

Each job writes its evidence to $OUT (a directory of the test) or to its output, pushed to the moto S3 server.
"""

from __future__ import annotations

import json

import pytest

from .jobc_run import compile_job, out_dir, run_job, site_profile, sleep_until_signalled, wait_until
from .test_faults import new_bucket, pushed, s3_output

pytestmark = pytest.mark.slurm

RES = {"tasks": 4, "cpusPerTask": 1, "memPerCpu": 64, "gpusPerTask": 0}


def run(command: str, name: str, **step) -> dict:
    return {"name": name, "run": {"command": command, "shell": "/bin/bash", "resources": {"tasks": 1}}, **step}


def spec(*steps, **top) -> str:
    return json.dumps({"resources": RES, **top, "steps": list(steps)})


@pytest.mark.slurm_both
def test_if_reads_deepsquare_env_and_skips_a_false_step_and_its_launch(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            run('echo "READY=yes" >> "$DEEPSQUARE_ENV"', "publish"),
            run('touch "$OUT/true-ran"', "when ready", **{"if": "$READY == yes && $CONDITION == mine"}),
            run('touch "$OUT/false-ran"', "when not ready", **{"if": "$READY == no"}),
            {
                "name": "monitor",
                "if": "-e /nonexistent",
                "launch": {"handleName": "mon", "steps": [run("sleep 1", "m")]},
            },
            run('echo "$CONDITION" > "$OUT/condition"', "after", dependsOn=["mon"]),
            env=[{"key": "CONDITION", "value": "mine"}],
        ),
        name="job.json",
    )
    assert ran.rc == 0, ran
    assert (ran.out / "true-ran").exists() and not (ran.out / "false-ran").exists(), ran
    assert "jobc: step when not ready skipped: its if test is false" in ran.output
    assert "jobc: step monitor skipped: its if test is false" in ran.output
    assert ran.read("condition") == "mine\n"  # the test exported nothing of its own


def test_a_malformed_if_fails_the_step_and_names_it(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(run('touch "$OUT/broken"', "broken", **{"if": "-f"}), run('touch "$OUT/after"', "after")),
        name="job.json",
    )
    assert ran.rc == 2, ran
    assert "jobc: step broken failed: its if test ended with exit code 2 (is it a valid [[ ]] test?)" in ran.output
    assert not (ran.out / "broken").exists() and not (ran.out / "after").exists()


@pytest.mark.slurm_both
def test_a_caught_failure_runs_catch_then_finally_and_the_job_goes_on(slurm, s3, tmp_path):
    bucket = new_bucket(s3)
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            {
                "name": "train",
                "steps": [run("echo training; exit 3", "fit"), run('touch "$OUT/not-reached"', "never")],
                "catch": [run('echo "$DEEPSQUARE_ERROR_CODE" > "$DEEPSQUARE_OUTPUT/crash-report"', "report")],
                "finally": [run('echo "$DEEPSQUARE_ERROR_CODE" >> "$DEEPSQUARE_OUTPUT/finally"', "cleanup")],
            },
            run('touch "$DEEPSQUARE_OUTPUT/after"', "after"),
            output=s3_output(s3, bucket),
        ),
        name="job.json",
    )
    assert ran.rc == 0, ran
    objects = pushed(s3, bucket)
    assert objects == {"crash-report": b"3\n", "finally": b"3\n", "after": b""}, ran
    assert "jobc: step train: caught exit 3" in ran.output
    assert not (ran.out / "not-reached").exists()


def test_a_failing_catch_fails_the_step_with_its_code_after_finally(slurm, s3, tmp_path):
    bucket = new_bucket(s3)
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            {
                "name": "train",
                "run": {"command": "exit 3"},
                "catch": [run("exit 5", "report")],
                "finally": [run('echo done >> "$DEEPSQUARE_OUTPUT/finally"', "cleanup")],
            },
            run('touch "$DEEPSQUARE_OUTPUT/after"', "after"),
            output=s3_output(s3, bucket),
        ),
        name="job.json",
    )
    assert ran.rc == 5, ran
    assert pushed(s3, bucket) == {"finally": b"done\n"}, ran
    assert "jobc: step train: its catch failed with exit code 5" in ran.output


def test_finally_after_success_and_after_failure_and_its_failure_wins(slurm, s3, tmp_path):
    bucket = new_bucket(s3)
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            {"name": "ok", "run": {"command": "true"}, "finally": [run('echo ok >> "$DEEPSQUARE_OUTPUT/ok"', "f1")]},
            {
                "name": "bad",
                "run": {"command": "exit 4"},
                "finally": [run('echo "$DEEPSQUARE_ERROR_CODE" >> "$DEEPSQUARE_OUTPUT/bad"', "f2")],
            },
            run('touch "$DEEPSQUARE_OUTPUT/after"', "after"),
            output=s3_output(s3, bucket),
        ),
        name="job.json",
    )
    assert ran.rc == 4, ran
    assert pushed(s3, bucket) == {"ok": b"ok\n", "bad": b"4\n"}, ran
    (tmp_path / "second").mkdir()
    finally_fails = run_job(
        slurm,
        tmp_path / "second",
        spec({"name": "step", "run": {"command": "exit 4"}, "finally": [run("exit 6", "f")]}),
        name="job.json",
    )
    assert finally_fails.rc == 6, finally_fails
    assert "jobc: step step: its finally failed with exit code 6" in finally_fails.output


@pytest.mark.slurm_both
def test_finally_runs_once_after_scancel_before_the_output_push(slurm, s3, tmp_path):
    bucket = new_bucket(s3)
    script = compile_job(
        tmp_path,
        spec(
            {
                "name": "outer",
                "steps": [
                    {
                        "name": "long",
                        "run": {"command": 'touch "$OUT/up"; ' + sleep_until_signalled(300), "shell": "/bin/bash"},
                        "finally": [run('echo inner >> "$DEEPSQUARE_OUTPUT/finally"', "inner cleanup")],
                    },
                    run('touch "$DEEPSQUARE_OUTPUT/never"', "never"),
                ],
                "finally": [run('echo outer >> "$DEEPSQUARE_OUTPUT/finally"', "outer cleanup")],
            },
            output=s3_output(s3, bucket),
        ),
        name="job.json",
    )
    out = out_dir(tmp_path)
    log = tmp_path / "job.out"
    job_id = slurm.sbatch(script, f"--output={log}", env={**slurm.env, "OUT": str(out)})
    try:
        assert wait_until(lambda: (out / "up").exists(), timeout=30), log.read_text()
    finally:
        slurm.scancel(job_id)
    slurm.wait_job_gone(job_id, timeout=60)
    assert slurm.scontrol_show_job(job_id)["JobState"] == "CANCELLED"
    assert wait_until(lambda: not (tmp_path / "storage" / job_id / ".jobc").exists(), timeout=10), log.read_text()
    assert pushed(s3, bucket) == {"finally": b"inner\nouter\n"}, log.read_text()


def test_nested_groups_end_their_launches_with_them(slurm, tmp_path):
    trap = 'trap \'touch "$OUT/NAME-stopped"; exit 143\' TERM; touch "$OUT/NAME-up"; ' + sleep_until_signalled(300)
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            {
                "name": "outer",
                "steps": [
                    {"launch": {"steps": [run(trap.replace("NAME", "outer-mon"), "outer monitor")]}},
                    {
                        "name": "inner",
                        "steps": [
                            {"launch": {"steps": [run(trap.replace("NAME", "inner-mon"), "inner monitor")]}},
                            run('while [[ ! -e "$OUT/inner-mon-up" ]]; do sleep 0.2; done', "inner work"),
                        ],
                    },
                    run(
                        'test -e "$OUT/inner-mon-stopped" && test ! -e "$OUT/outer-mon-stopped" && touch "$OUT/ok1"',
                        "check1",
                    ),
                ],
            },
            run('test -e "$OUT/outer-mon-stopped" && touch "$OUT/ok2"', "check2"),
        ),
        name="job.json",
        site=site_profile(tmp_path),
        timeout=90,
    )
    assert ran.rc == 0, ran
    assert (ran.out / "ok1").exists() and (ran.out / "ok2").exists(), ran


def test_finally_runs_when_the_time_limit_signal_arrives(slurm, s3, tmp_path):
    """`#SBATCH --signal=B:TERM@50` with `--time=1`: the script stops its steps, runs finally, pushes."""
    bucket = new_bucket(s3)
    script = compile_job(
        tmp_path,
        spec(
            {
                "name": "long",
                "run": {"command": 'touch "$OUT/up"; ' + sleep_until_signalled(300), "shell": "/bin/bash"},
                "finally": [run('echo "$DEEPSQUARE_ERROR_CODE" >> "$DEEPSQUARE_OUTPUT/finally"', "cleanup")],
            },
            output=s3_output(s3, bucket),
        ),
        name="job.json",
        sbatch=["time=1", "signal=B:TERM@50"],
    )
    out = out_dir(tmp_path)
    log = tmp_path / "job.out"
    job_id = slurm.sbatch(script, f"--output={log}", env={**slurm.env, "OUT": str(out)})
    try:
        assert wait_until(lambda: (out / "up").exists(), timeout=30), log.read_text()
        slurm.wait_job_gone(job_id, timeout=120)
    finally:
        slurm.scancel(job_id)
    info = slurm.scontrol_show_job(job_id)
    assert (info["JobState"], info["ExitCode"]) == ("FAILED", "143:0"), (info, log.read_text())
    objects = pushed(s3, bucket)
    assert objects == {"finally": b"143\n"}, log.read_text()
