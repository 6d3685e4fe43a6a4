"""enableLogging, run for real: the default logger keeps a timestamped job.log in the output (pushed with it),
a site profile's `options.logger` receives the job's output on its stdin, and neither changes the exit code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from support import shellcheck_binary

from .jobc_run import sleep_until_signalled

JOB_TIMEOUT = 90
RESOURCES = {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 256, "gpusPerTask": 0}
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"


def _toml(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def compile_job(tmp_path: Path, spec: dict, *, options: dict | None = None) -> Path:
    """Compile spec with a site profile rooted in tmp_path; the script must be shellcheck-clean."""
    site_file = tmp_path / "site.toml"
    site_file.write_text(
        f"[paths]\nstorage_root = {_toml(str(tmp_path / 'storage'))}\n\n[options]\n"
        + "".join(f"{k} = {_toml(v)}\n" for k, v in {"sync_interval": 1, **(options or {})}.items())
    )
    spec_file = tmp_path / "job.yaml"
    spec_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    script = tmp_path / "job.sh"
    r = subprocess.run(
        [sys.executable, "-m", "jobc", "compile", str(spec_file), "--site", str(site_file), "-o", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    sc = subprocess.run(
        [str(shellcheck_binary()), "-S", "style", str(script)], capture_output=True, text=True, timeout=60
    )
    assert sc.returncode == 0, sc.stdout + sc.stderr
    return script


def _processes(cmdline: bytes) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes() == cmdline:
                found.append(proc.name)
        except OSError:
            pass
    return found


def job(steps: list, **top) -> dict:
    return {"resources": RESOURCES, "enableLogging": True, **top, "steps": steps}


def step(name: str, command: str) -> dict:
    return {"name": name, "run": {"command": command}}


def s3_output(s3, bucket: str, path: str) -> dict:
    return {
        "s3": {
            "region": "us-east-1",
            "bucketUrl": f"s3://{bucket}",
            "path": path,
            "accessKeyId": "testing",
            "secretAccessKey": "testing",
            "endpointUrl": s3.endpoint_url,
        }
    }


def talk_then_exit(code: int) -> list[dict]:
    return [
        step("talk", "echo out-line-1; echo err-line-1 >&2; echo out-line-2"),
        step("finish", f"echo finishing; exit {code}"),
    ]


@pytest.mark.slurm
@pytest.mark.parametrize("code", [0, 7])
def test_default_logger_keeps_a_timestamped_job_log_in_the_output(slurm, s3, tmp_path, code):
    bucket = f"log-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(bucket)
    script = compile_job(tmp_path, job(talk_then_exit(code), output=s3_output(s3, bucket, "/run")))
    res = slurm.submit(script, timeout=JOB_TIMEOUT)
    assert res.returncode == code, res.output  # the logger does not change the exit code
    for text in ("out-line-1", "err-line-1", "out-line-2", "finishing"):
        assert text in res.output  # the job's own output is still there
    assert "run/job.log" in s3.list_objects(bucket)
    log = s3.get_object(bucket, "run/job.log").decode().splitlines()
    assert log, "job.log is empty"
    assert all(re.match(STAMP + " ", line) for line in log), log
    messages = [line.split(" ", 1)[1] for line in log]
    for text in ("jobc: step talk", "out-line-1", "err-line-1", "out-line-2", "finishing"):
        assert text in messages, messages
    assert messages.index("out-line-1") < messages.index("out-line-2") < messages.index("finishing")


@pytest.mark.slurm
def test_logging_with_continuous_sync_ends_promptly_and_keeps_the_whole_log(slurm, s3, tmp_path):
    # A long sync interval: nothing the sync loop leaves behind may keep the logger (and the job) waiting.
    bucket = f"logc-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(bucket)
    steps = [step("talk", 'for i in 1 2 3; do echo "tick-$i"; done; echo done > "$DEEPSQUARE_OUTPUT/r.txt"')]
    script = compile_job(
        tmp_path,
        job(steps, continuousOutputSync=True, output=s3_output(s3, bucket, "/c")),
        options={"sync_interval": 37},
    )
    t0 = time.monotonic()
    res = slurm.submit(script, timeout=JOB_TIMEOUT)
    elapsed = time.monotonic() - t0
    assert res.returncode == 0, res.output
    assert elapsed < 8, f"job took {elapsed:.1f}s: something held the logger open"
    assert not _processes(b"sleep\x0037\x00"), "the sync loop left its sleep behind"
    messages = [line.split(" ", 1)[1] for line in s3.get_object(bucket, "c/job.log").decode().splitlines()]
    assert [m for m in messages if m.startswith("tick-")] == ["tick-1", "tick-2", "tick-3"], messages
    assert s3.get_object(bucket, "c/r.txt") == b"done\n"


@pytest.mark.slurm
@pytest.mark.parametrize("code", [0, 3])
def test_site_logger_receives_the_job_output(slurm, tmp_path, code):
    received = tmp_path / "logger out" / "received.txt"  # a space: the argv is quoted word by word
    received.parent.mkdir()
    logger = tmp_path / "record-logger"
    # Writes what it reads, and only publishes it after a pause: the job must wait for the logger to finish.
    logger.write_text('#!/bin/bash\ncat > "$1.part"\nsleep 1\nmv "$1.part" "$1"\n')
    logger.chmod(0o755)
    script = compile_job(tmp_path, job(talk_then_exit(code)), options={"logger": [str(logger), str(received)]})
    res = slurm.submit(script, timeout=JOB_TIMEOUT)
    assert res.returncode == code, res.output
    assert received.is_file(), "the job ended before its logger had finished"
    got = received.read_text().splitlines()
    for text in ("jobc: step talk", "out-line-1", "err-line-1", "out-line-2", "finishing"):
        assert text in got, got
        assert text in res.output  # tee: the job's output keeps everything
    assert not (tmp_path / "storage" / res.job_id / "output" / "job.log").exists()


@pytest.mark.slurm
def test_cancelled_job_still_pushes_its_log(slurm, s3, tmp_path):
    # On scancel the logger must outlive the exit path (it ignores TERM) so that job.log is complete and pushed.
    bucket = f"logx-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(bucket)
    steps = [step("wait", f"trap 'echo got-term; exit 3' TERM; echo started; {sleep_until_signalled(60)}; echo never")]
    script = compile_job(tmp_path, job(steps, output=s3_output(s3, bucket, "/x")))
    job_id = slurm.sbatch(script)
    local_log = tmp_path / "storage" / job_id / "output" / "job.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "started" not in (local_log.read_text() if local_log.exists() else ""):
        time.sleep(0.2)
    assert local_log.exists() and "started" in local_log.read_text(), "the job did not start in time"
    slurm.scancel(job_id)
    slurm.wait_job_gone(job_id)
    assert slurm.scontrol_show_job(job_id)["JobState"] == "CANCELLED"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "x/job.log" not in s3.list_objects(bucket):
        time.sleep(0.2)
    messages = [line.split(" ", 1)[1] for line in s3.get_object(bucket, "x/job.log").decode().splitlines()]
    # got-term is written after the cancellation began: the logger was still there to take it (a logger killed
    # by the cancellation loses it, in job.log and in the job's output alike).
    job_output = (tmp_path / f"slurm-{job_id}.out").read_text()
    assert "started" in messages and "got-term" in messages and "never" not in messages, (messages, job_output)
    assert "got-term" in job_output
