"""Jobs that span the two nodes of the `slurm2` cluster (n1, n2; 8 CPUs each, one shared filesystem)."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from pathlib import Path

import pytest

from jobc.site import site_from_dict

from .jobc_run import run_job, sleep_until_signalled

pytestmark = pytest.mark.slurm

REPORT = 'echo "$SLURMD_NODENAME" > "$OUT/$TAG-$SLURM_PROCID"'


def run(command: str, **options) -> dict:
    return {"run": {"command": command, **options}}


def nodes(ran, tag: str) -> dict[str, str]:
    return {p.name: p.read_text().strip() for p in ran.out.glob(f"{tag}-*")}


def test_tasks_too_big_for_one_node_spread_over_both(slurm2, tmp_path):
    # 2 tasks x 5 CPUs do not fit on one 8-CPU node: Slurm must give the job both nodes.
    ran = run_job(
        slurm2,
        tmp_path,
        json.dumps(
            {
                "resources": {"tasks": 2, "cpusPerTask": 5, "memPerCpu": 100, "gpusPerTask": 0},
                "steps": [
                    run(REPORT.replace("$TAG", "both"), resources={"tasks": 2}),
                    run(REPORT.replace("$TAG", "one")),
                    run('printf "%s" "$NTASKS $CPUS_PER_TASK $CPUS $SLURM_JOB_NUM_NODES" > "$OUT/job"'),
                ],
            }
        ),
        name="job.json",
    )
    assert ran.rc == 0, ran
    both = nodes(ran, "both")
    assert set(both) == {"both-0", "both-1"}
    assert set(both.values()) == {"n1", "n2"}, both
    assert len(nodes(ran, "one")) == 1
    assert ran.read("job") == "2 5 10 2"


def test_two_nodes_requested_with_sbatch(slurm2, tmp_path):
    # Small tasks, but the site asks for two nodes: a 2-task step still runs one task per node,
    # and $DEEPSQUARE_ENV written on one node is seen by a step on the other.
    ran = run_job(
        slurm2,
        tmp_path,
        json.dumps(
            {
                "resources": {"tasks": 2, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0},
                "steps": [
                    run('echo "WRITER=$SLURMD_NODENAME" >> "$DEEPSQUARE_ENV"'),
                    run(
                        REPORT.replace("$TAG", "pair") + '; echo "$WRITER" > "$OUT/writer-$SLURM_PROCID"',
                        resources={"tasks": 2},
                    ),
                ],
            }
        ),
        name="job.json",
        sbatch=["nodes=2"],
    )
    assert ran.rc == 0, ran
    pair = nodes(ran, "pair")
    assert sorted(pair.values()) == ["n1", "n2"], pair
    writer = {ran.read("writer-0").strip(), ran.read("writer-1").strip()}
    assert len(writer) == 1 and writer <= {"n1", "n2"}


def test_launch_on_both_nodes_gets_its_signal_on_each(slurm2, tmp_path):
    service = (
        'trap "echo TERM > \\"\\$OUT/signal-\\$SLURMD_NODENAME\\"; exit 0" TERM\n'
        'touch "$OUT/up-$SLURMD_NODENAME"\n'
        f"{sleep_until_signalled(30)}\n"
        'touch "$OUT/finished-$SLURMD_NODENAME"\n'
    )
    ran = run_job(
        slurm2,
        tmp_path,
        json.dumps(
            {
                "resources": {"tasks": 4, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0},
                "steps": [
                    {"launch": {"steps": [run(service, shell="/bin/bash", resources={"tasks": 2, "cpusPerTask": 1})]}},
                    run(
                        'up() { [ -e "$OUT/up-n1" ] && [ -e "$OUT/up-n2" ]; }; '
                        "for _ in $(seq 100); do up && break; sleep 0.1; done; up"
                    ),
                ],
            }
        ),
        name="job.json",
        sbatch=["nodes=2"],
        timeout=60,
    )
    assert ran.rc == 0, ran
    for node in ("n1", "n2"):
        assert ran.read(f"signal-{node}").strip() == "TERM", ran
        assert not (ran.out / f"finished-{node}").exists()
    assert ran.res.elapsed < 20, ran


# ---- containers and outputs on both nodes ------------------------------------------------------------------

SHIMS = Path(__file__).resolve().parents[1] / "shims"


def shim_records(tmp_path: Path, tool: str, sub: str) -> list[dict]:
    log = tmp_path / "shims.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return [r for r in map(json.loads, lines) if r["tool"] == tool and r["argv"][:1] == [sub]]


def test_container_step_on_both_nodes_creates_its_container_once_per_node(slurm2, tmp_path):
    # 4 tasks on 2 nodes (so at least one node runs 2): the enroot shim (tests/shims, first on PATH) records
    # each call with the node it ran on ($SLURMD_NODENAME of the task). The image is imported once, by the
    # batch script; each node creates the step's container once, every task starts it, each node removes it.
    site = site_from_dict(
        {
            "paths": {"storage_root": str(tmp_path / "storage"), "image_cache": str(tmp_path / "images")},
            "options": {"launch_grace": 3},
        }
    )
    env = {"PATH": f"{SHIMS}{os.pathsep}{slurm2.env['PATH']}", "JOBC_SHIM_LOG": str(tmp_path / "shims.jsonl")}
    ran = run_job(
        slurm2,
        tmp_path,
        json.dumps(
            {
                "resources": {"tasks": 4, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0},
                "steps": [
                    run(
                        'echo "$SLURM_NODEID" > "$DEEPSQUARE_OUTPUT/ran-$SLURM_PROCID"',
                        resources={"tasks": 4},
                        container={"image": "library/alpine:3.20"},
                    )
                ],
            }
        ),
        name="job.json",
        site=site,
        env=env,
        sbatch=["nodes=2"],
        timeout=90,
    )
    assert ran.rc == 0, ran
    job = ran.res.job_id

    assert len(shim_records(tmp_path, "enroot", "import")) == 1
    creates = shim_records(tmp_path, "enroot", "create")
    starts = shim_records(tmp_path, "enroot", "start")
    removes = shim_records(tmp_path, "enroot", "remove")
    assert Counter(c["node"] for c in creates) == {"n1": 1, "n2": 1}, creates
    name_on = {c["node"]: c["argv"][2] for c in creates}
    for node, name in name_on.items():
        assert name.startswith(f"jobc-{job}-") and name.endswith(f"-{node}"), name_on
    assert sorted((r["node"], r["argv"][-1]) for r in removes) == sorted(name_on.items()), removes
    # One start per task, each in the container of its own node.
    assert len(starts) == 4, starts
    assert {s["node"] for s in starts} == {"n1", "n2"}
    assert all(s["name"] == name_on[s["node"]] for s in starts), starts
    # The tasks of both nodes wrote into the same (shared) $DEEPSQUARE_OUTPUT.
    written = {p.name: p.read_text().strip() for p in (ran.storage / "output").glob("ran-*")}
    assert set(written) == {"ran-0", "ran-1", "ran-2", "ran-3"} and set(written.values()) == {"0", "1"}, written


def test_outputs_written_on_both_nodes_reach_the_s3_output(slurm2, s3, tmp_path):
    bucket = f"multinode-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(bucket)
    output = {
        "region": "us-east-1",
        "bucketUrl": f"s3://{bucket}",
        "path": "/run",
        "accessKeyId": "testing",
        "secretAccessKey": "testing",
        "endpointUrl": s3.endpoint_url,
    }
    ran = run_job(
        slurm2,
        tmp_path,
        json.dumps(
            {
                "resources": {"tasks": 2, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0},
                "output": {"s3": output},
                "steps": [
                    run(
                        'mkdir -p "$DEEPSQUARE_OUTPUT/$SLURMD_NODENAME" && '
                        'echo "task $SLURM_PROCID" > "$DEEPSQUARE_OUTPUT/$SLURMD_NODENAME/task-$SLURM_PROCID.txt"',
                        resources={"tasks": 2},
                    )
                ],
            }
        ),
        name="job.json",
        sbatch=["nodes=2"],
        timeout=90,
    )
    assert ran.rc == 0, ran
    # The final push ran in the batch script (on one node) and found both nodes' files in the shared storage.
    keys = sorted(s3.list_objects(bucket))
    parts = [key.split("/") for key in keys]
    assert [p[0] for p in parts] == ["run", "run"] and {p[1] for p in parts} == {"n1", "n2"}, keys
    assert sorted(p[2] for p in parts) == ["task-0.txt", "task-1.txt"], keys
    for key in keys:
        task = key.rsplit("-", 1)[1].removesuffix(".txt")
        assert s3.get_object(bucket, key) == f"task {task}\n".encode(), key
