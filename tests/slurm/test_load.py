"""Load: 50 jobs from one spec submitted at once to the two-node cluster all finish correctly, apart.

Each job runs a parallel loop, a launched sidecar and an S3 output push. They must all end COMPLETED with
exit code 0, push every file, keep their own storage, step directories and logs (nothing shared between
them), and leave no process behind. The count and the wall time are printed for the closing note.

The sidecar asks for a CPU like every step, and Slurm gives a job's CPUs to its waiting steps in no set order:
under load it can start only once the others are done, and then be told to stop before its `trap` is set
(or, still waiting, not start at all). Its last step waits until the sidecar is beating, as a client waits
for its service.
"""

from __future__ import annotations

import json
import time

import pytest
from harness.cluster import parse_scontrol_line

from .jobc_run import compile_job, out_dir, site_profile, wait_until
from .test_faults import new_bucket, processes_with, pushed, s3_output, tag_env

pytestmark = pytest.mark.slurm

JOBS = 50
ITEMS = ("a", "b", "c", "d")
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL"}


def load_spec(server, bucket: str) -> str:
    item = 'printf "%s %s\\n" "$SLURM_JOB_ID" "$item" > "$DEEPSQUARE_OUTPUT/$SLURM_JOB_ID-$item"'
    return json.dumps(
        {
            "resources": {"tasks": 2, "cpusPerTask": 1, "memPerCpu": 64, "gpusPerTask": 0},
            "output": s3_output(server, bucket),
            "steps": [
                {
                    "name": "sidecar",
                    "launch": {
                        "steps": [
                            {
                                "name": "beat",
                                "run": {
                                    "shell": "/bin/bash",
                                    "command": "trap 'echo stopped > \"$DEEPSQUARE_OUTPUT/$SLURM_JOB_ID-sidecar\"; exit 0' TERM; "
                                    'touch "$STORAGE_PATH/beating"; while :; do sleep 0.1; done',
                                },
                            }
                        ]
                    },
                },
                {
                    "name": "sweep",
                    "for": {
                        "parallel": True,
                        "items": list(ITEMS),
                        "steps": [{"name": "one", "run": {"command": item}}],
                    },
                },
                {
                    "name": "mine",
                    "run": {
                        "command": 'for i in $(seq 1200); do [ -e "$STORAGE_PATH/beating" ] && break; sleep 0.1; done; '
                        '[ -e "$STORAGE_PATH/beating" ] && echo "$SLURM_JOB_ID" > "$STORAGE_PATH/mine" && '
                        'cp "$STORAGE_PATH/mine" "$DEEPSQUARE_OUTPUT/$SLURM_JOB_ID-mine"'
                    },
                },
            ],
        }
    )


def final_states(cluster, ids: set[str], timeout: float) -> dict[str, dict[str, str]]:
    """Poll every job until each is in a final state (Slurm keeps a finished job listed for MinJobAge)."""
    seen: dict[str, dict[str, str]] = {}
    end = time.monotonic() + timeout
    while len(seen) < len(ids) and time.monotonic() < end:
        out = cluster.run(["scontrol", "show", "job", "-o"], check=False, timeout=30).stdout
        for line in out.splitlines():
            job = parse_scontrol_line(line)
            if job.get("JobId") in ids and job.get("JobState") in FINAL:
                seen.setdefault(job["JobId"], job)
        time.sleep(0.3)
    return seen


def test_fifty_jobs_at_once(slurm2, s3, tmp_path, capsys):
    bucket = new_bucket(s3)
    site = site_profile(tmp_path, launch_grace=3)
    script = compile_job(tmp_path, load_spec(s3, bucket), name="load.json", site=site)
    out = out_dir(tmp_path)
    env = tag_env()
    started = time.monotonic()
    ids = [
        slurm2.sbatch(script, f"--output={tmp_path / 'job-%j.out'}", env={**slurm2.env, **env, "OUT": str(out)})
        for _ in range(JOBS)
    ]
    states = final_states(slurm2, set(ids), timeout=600)
    wall = time.monotonic() - started
    assert set(states) == set(ids), f"{len(ids) - len(states)} jobs did not end in 600 s"
    failed = {
        i: (s["JobState"], s["ExitCode"])
        for i, s in states.items()
        if (s["JobState"], s["ExitCode"]) != ("COMPLETED", "0:0")
    }
    assert not failed, {i: (state, (tmp_path / f"job-{i}.out").read_text()[-2000:]) for i, state in failed.items()}

    objects = pushed(s3, bucket)
    for job_id in ids:
        for item in ITEMS:
            assert objects[f"{job_id}-{item}"] == f"{job_id} {item}\n".encode()
        log = (tmp_path / f"job-{job_id}.out").read_text()
        assert objects.get(f"{job_id}-sidecar") == b"stopped\n", log
        assert objects[f"{job_id}-mine"] == f"{job_id}\n".encode()  # its own storage, not another job's
        assert "jobc: step mine" in log and "jobc: pushing the output failed" not in log
        assert not (tmp_path / "storage" / job_id / ".jobc").exists()
    assert len({(tmp_path / "storage" / i / "mine").read_text() for i in ids}) == JOBS
    assert wait_until(lambda: not processes_with(env), timeout=10), processes_with(env)
    with capsys.disabled():
        print(f"\nload: {JOBS} jobs, all COMPLETED 0:0, {len(objects)} objects pushed, {wall:.1f} s wall")
