"""Faults during a real run: a failing step, scancel, a time limit, S3 down at the final push, two jobs at once.

Each job is submitted with a tag in its environment (every process of the job inherits it), so that
"nothing is left running" is checked on the whole machine: no process holding the tag may remain
once the job has ended.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
import uuid
from pathlib import Path

import pytest
from harness.s3 import S3Server

from .jobc_run import (
    assert_no_steps_left,
    compile_job,
    out_dir,
    run_job,
    site_profile,
    sleep_until_signalled,
    wait_until,
)

pytestmark = pytest.mark.slurm

RES = {"tasks": 2, "cpusPerTask": 1, "memPerCpu": 128, "gpusPerTask": 0}
TRAP = "trap 'echo TERM > \"$DEEPSQUARE_OUTPUT/{name}\"; exit 143' TERM"


def run(command: str, name: str) -> dict:
    return {"name": name, "run": {"command": command, "shell": "/bin/bash"}}


def launch(*steps, signal=None) -> dict:
    body: dict = {"steps": list(steps)}
    if signal is not None:
        body["signalOnParentStepExit"] = signal
    return {"launch": body}


def s3_output(server, bucket: str, **extra) -> dict:
    return {
        "s3": {
            "region": "us-east-1",
            "bucketUrl": f"s3://{bucket}",
            "path": "/results",
            "accessKeyId": "testing",
            "secretAccessKey": "testing",
            "endpointUrl": server.endpoint_url,
            **extra,
        }
    }


def new_bucket(server) -> str:
    bucket = f"faults-{uuid.uuid4().hex[:10]}"
    server.create_bucket(bucket)
    return bucket


def pushed(server, bucket: str) -> dict[str, bytes]:
    return {
        key.removeprefix("results/"): server.get_object(bucket, key) for key in server.list_objects(bucket, "results/")
    }


def tag_env() -> dict[str, str]:
    return {"JOBC_FAULT_TAG": uuid.uuid4().hex}


def processes_with(env: dict[str, str]) -> list[str]:
    """Command lines of the processes on this machine whose environment holds the job's tag."""
    ((key, value),) = env.items()
    needle = f"{key}={value}".encode() + b"\0"
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


def assert_nothing_left(cluster, job_id: str, env: dict[str, str]) -> None:
    assert_no_steps_left(cluster, job_id)
    left: list[str] = []

    def gone() -> bool:
        left[:] = processes_with(env)
        return not left

    assert wait_until(gone, timeout=10), f"processes of job {job_id} still running: {left}"


def assert_exit_path_ran(storage: Path) -> None:
    assert (storage / "output").is_dir(), storage
    assert not (storage / ".jobc").exists(), "the exit path did not remove $STORAGE_PATH/.jobc"


def spec(*steps, **top) -> str:
    return json.dumps({"resources": RES, **top, "steps": list(steps)})


# ---- a step fails ---------------------------------------------------------------------------------------------


# The sidecar says when its trap is set, and the next step waits for it: Slurm gives the job's CPUs to waiting
# steps in no set order, and under load the sidecar could otherwise start only once the job is failing.
SIDECAR = launch(
    run(
        TRAP.format(name="sidecar-signal") + '; touch "$STORAGE_PATH/sidecar-up"; while :; do sleep 0.2; done',
        "sidecar",
    )
)
FAILING_STEPS = (
    SIDECAR,
    run(
        'for i in $(seq 1200); do [ -e "$STORAGE_PATH/sidecar-up" ] && break; sleep 0.1; done; '
        'echo result > "$DEEPSQUARE_OUTPUT/result"',
        "write",
    ),
    run("echo failing; exit 7", "fail"),
    run('touch "$DEEPSQUARE_OUTPUT/after"', "after"),
)


@pytest.mark.slurm_both
def test_failing_step_s3_output_pushed_and_nothing_left_running(slurm, s3, tmp_path):
    bucket = new_bucket(s3)
    env = tag_env()
    ran = run_job(
        slurm,
        tmp_path,
        spec(*FAILING_STEPS, enableLogging=True, continuousOutputSync=True, output=s3_output(s3, bucket)),
        env=env,
        name="job.json",
        site=site_profile(tmp_path, sync_interval=1),
    )
    assert ran.rc == 7, ran
    objects = pushed(s3, bucket)
    assert objects["result"] == b"result\n"
    assert objects["sidecar-signal"] == b"TERM\n"  # the launch was signalled before the final push
    assert "after" not in objects and "jobc: step after" not in ran.output
    assert b"jobc: step fail" in objects["job.log"]
    assert_exit_path_ran(ran.storage)
    assert_nothing_left(slurm, ran.res.job_id, env)


def test_failing_step_http_output_uploaded_and_nothing_left_running(slurm, http_server, tmp_path):
    env = tag_env()
    path = f"/upload/{uuid.uuid4().hex}.tar.gz"
    ran = run_job(
        slurm,
        tmp_path,
        spec(*FAILING_STEPS, output={"http": {"url": http_server.url + path}}),
        env=env,
        name="job.json",
    )
    assert ran.rc == 7, ran
    with tarfile.open(fileobj=io.BytesIO(http_server.uploaded(path)), mode="r:gz") as archive:
        names = {m.name.removeprefix("./") for m in archive.getmembers() if m.isfile()}
        assert archive.extractfile("./result").read() == b"result\n"
    assert names == {"result", "sidecar-signal"}
    assert_exit_path_ran(ran.storage)
    assert_nothing_left(slurm, ran.res.job_id, env)


# ---- the job is cancelled, or reaches its time limit ----------------------------------------------------------


TRAPPED_STEPS = (
    launch(
        run(TRAP.format(name="launch-signal") + '; touch "$OUT/up-launch"; ' + sleep_until_signalled(300), "service")
    ),
    run(
        TRAP.format(name="step-signal")
        + '; echo partial > "$DEEPSQUARE_OUTPUT/partial"; touch "$OUT/up-step"; '
        + sleep_until_signalled(300)
        + '; touch "$DEEPSQUARE_OUTPUT/finished"',
        "long",
    ),
)


def submit_trapped(slurm, s3, tmp_path, env, sbatch=()):
    bucket = new_bucket(s3)
    script = compile_job(tmp_path, spec(*TRAPPED_STEPS, output=s3_output(s3, bucket)), name="job.json", sbatch=sbatch)
    out = out_dir(tmp_path)
    job_id = slurm.sbatch(script, f"--output={tmp_path / 'job.out'}", env={**slurm.env, **env, "OUT": str(out)})
    return bucket, out, job_id


@pytest.mark.slurm_both
def test_scancel_signals_steps_pushes_outputs_and_leaves_nothing(slurm, s3, tmp_path):
    env = tag_env()
    bucket, out, job_id = submit_trapped(slurm, s3, tmp_path, env)
    log = tmp_path / "job.out"
    try:
        assert wait_until(lambda: (out / "up-launch").exists() and (out / "up-step").exists(), timeout=30), (
            log.read_text()
        )
    finally:
        slurm.scancel(job_id)
    slurm.wait_job_gone(job_id)
    assert slurm.scontrol_show_job(job_id)["JobState"] == "CANCELLED"
    assert wait_until(lambda: not (tmp_path / "storage" / job_id / ".jobc").exists(), timeout=10), log.read_text()
    objects = pushed(s3, bucket)
    assert objects == {"partial": b"partial\n", "launch-signal": b"TERM\n", "step-signal": b"TERM\n"}, log.read_text()
    assert_nothing_left(slurm, job_id, env)


@pytest.mark.slurm_both
def test_time_limit_signal_to_the_batch_shell_pushes_outputs_before_the_limit(slurm, s3, tmp_path):
    """`#SBATCH --signal=B:TERM@50` with `--time=1`: the script's TERM trap ends the job before Slurm's limit."""
    env = tag_env()
    bucket, out, job_id = submit_trapped(slurm, s3, tmp_path, env, sbatch=["time=1", "signal=B:TERM@50"])
    log = tmp_path / "job.out"
    started = time.monotonic()
    try:
        assert wait_until(lambda: (out / "up-launch").exists() and (out / "up-step").exists(), timeout=30), (
            log.read_text()
        )
        slurm.wait_job_gone(job_id, timeout=120)
    finally:
        slurm.scancel(job_id)
    elapsed = time.monotonic() - started
    info = slurm.scontrol_show_job(job_id)
    assert info["JobState"] != "TIMEOUT", (info, log.read_text())
    assert info["ExitCode"] == "143:0", info
    assert elapsed < 60, elapsed
    objects = pushed(s3, bucket)
    assert objects == {"partial": b"partial\n", "launch-signal": b"TERM\n", "step-signal": b"TERM\n"}, log.read_text()
    assert not (tmp_path / "storage" / job_id / ".jobc").exists()
    assert_nothing_left(slurm, job_id, env)


@pytest.mark.slurm_both
def test_usr1_to_the_batch_shell_only_stops_the_steps_and_pushes_outputs(slurm, s3, tmp_path):
    """What `--signal=B:USR1@...` sends, without waiting for a time limit: `scancel --batch --signal=USR1`."""
    env = tag_env()
    bucket, out, job_id = submit_trapped(slurm, s3, tmp_path, env)
    log = tmp_path / "job.out"
    try:
        assert wait_until(lambda: (out / "up-launch").exists() and (out / "up-step").exists(), timeout=30), (
            log.read_text()
        )
        slurm.scancel("--batch", "--signal=USR1", job_id)
        slurm.wait_job_gone(job_id, timeout=60)
    finally:
        slurm.scancel(job_id)
    info = slurm.scontrol_show_job(job_id)
    assert (info["JobState"], info["ExitCode"]) == ("FAILED", "138:0"), (info, log.read_text())
    assert "jobc: received SIGUSR1: stopping the steps" in log.read_text()
    objects = pushed(s3, bucket)
    assert objects == {"partial": b"partial\n", "launch-signal": b"TERM\n", "step-signal": b"TERM\n"}, log.read_text()
    assert_nothing_left(slurm, job_id, env)


# ---- S3 is down when the final push runs ------------------------------------------------------------------------


def test_s3_down_at_the_final_push_fails_the_job_loudly(slurm, tmp_path):
    server = S3Server().start()
    try:
        bucket = new_bucket(server)
        env = tag_env()
        steps = (
            run(
                'echo result > "$DEEPSQUARE_OUTPUT/result"; touch "$OUT/ready"; '
                'while [ ! -e "$OUT/s3-stopped" ]; do sleep 0.1; done',
                "work",
            ),
        )
        # One retry instead of s5cmd's ten (about 90 s of backoff): the outcome is the same, sooner.
        script = compile_job(
            tmp_path,
            spec(*steps, output=s3_output(server, bucket)),
            name="job.json",
            site=site_profile(tmp_path, s3_retries=1),
        )
        out = out_dir(tmp_path)
        job_id = slurm.sbatch(script, f"--output={tmp_path / 'job.out'}", env={**slurm.env, **env, "OUT": str(out)})
        assert wait_until(lambda: (out / "ready").exists(), timeout=30), (tmp_path / "job.out").read_text()
    finally:
        server.stop()
    (out / "s3-stopped").touch()
    slurm.wait_job_gone(job_id, timeout=120)
    log = (tmp_path / "job.out").read_text()
    info = slurm.scontrol_show_job(job_id)
    assert info["JobState"] == "FAILED" and info["ExitCode"] != "0:0", (info, log)
    assert "jobc: pushing the output failed" in log, log
    assert "ERROR" in log and server.endpoint_url.removeprefix("http://") in log, log
    assert_nothing_left(slurm, job_id, env)


# ---- two jobs from one spec at once on one node ------------------------------------------------------------------


def test_two_jobs_from_one_spec_keep_their_own_storage_configs_and_logs(slurm, tmp_path):
    from .test_network import wg_keypair

    private, _ = wg_keypair()
    _, peer_public = wg_keypair()
    step = {
        "name": "vpn",
        "run": {
            "network": "slirp4netns",
            "dns": "10.8.0.1",
            "shell": "/bin/bash",
            "customNetworkInterfaces": [
                {
                    "wireguard": {
                        "address": ["10.8.0.2/24"],
                        "privateKey": private,
                        "peers": [
                            {"publicKey": peer_public, "allowedIPs": ["10.8.0.1/32"], "endpoint": "127.0.0.1:51820"}
                        ],
                    }
                }
            ],
            "command": "\n".join(
                [
                    'echo "$SLURM_JOB_ID" > "$STORAGE_PATH/mine"',
                    'echo "$SLURM_JOB_ID" > "$DEEPSQUARE_OUTPUT/mine"',
                    'touch "$OUT/up.$SLURM_JOB_ID"',
                    'for _ in $(seq 300); do [ "$(ls "$OUT" | grep -c "^up\\.")" -ge 2 ] && break; sleep 0.1; done',
                    'echo "$JOBC_STEP_DIR" > "$OUT/stepdir.$SLURM_JOB_ID"',
                    'cat /etc/resolv.conf > "$OUT/resolv.$SLURM_JOB_ID"',
                    'ip -o -4 addr show net0 > "$OUT/net0.$SLURM_JOB_ID"',
                    'ls "$JOBC_STEP_DIR" > "$OUT/files.$SLURM_JOB_ID"',
                    'touch "$OUT/done.$SLURM_JOB_ID"',
                    'for _ in $(seq 300); do [ "$(ls "$OUT" | grep -c "^done\\.")" -ge 2 ] && break; sleep 0.1; done',
                    'cat "$STORAGE_PATH/mine" "$DEEPSQUARE_OUTPUT/mine" > "$OUT/seen.$SLURM_JOB_ID"',
                ]
            ),
        },
    }
    script = compile_job(
        tmp_path,
        json.dumps({"resources": {**RES, "tasks": 1}, "enableLogging": True, "steps": [step]}),
        name="job.json",
    )
    out = out_dir(tmp_path)
    env = tag_env()
    ids = [
        slurm.sbatch(script, f"--output={tmp_path / 'job-%j.out'}", env={**slurm.env, **env, "OUT": str(out)})
        for _ in range(2)
    ]
    for job_id in ids:
        slurm.wait_job_gone(job_id, timeout=90)
    for job_id in ids:
        log = (tmp_path / f"job-{job_id}.out").read_text()
        assert slurm.scontrol_show_job(job_id)["ExitCode"] == "0:0", log
        storage = tmp_path / "storage" / job_id
        assert (out / f"seen.{job_id}").read_text() == f"{job_id}\n{job_id}\n"
        assert "nameserver 10.8.0.1" in (out / f"resolv.{job_id}").read_text()
        assert "net0    inet 10.8.0.2/24" in (out / f"net0.{job_id}").read_text()
        assert "net0.conf" in (out / f"files.{job_id}").read_text()
        assert (out / f"stepdir.{job_id}").read_text().startswith(str(storage) + "/"), (
            out / f"stepdir.{job_id}"
        ).read_text()
        job_log = (storage / "output" / "job.log").read_text()
        assert job_log.count("jobc: step vpn") == 1 and log.count("jobc: step vpn") == 1
    first, second = ((out / f"stepdir.{i}").read_text() for i in ids)
    assert first != second
    assert_nothing_left(slurm, ids[0], env)
