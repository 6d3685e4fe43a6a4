"""Jobs that span the two nodes of the `slurm2` cluster (n1, n2; 8 CPUs each, one shared filesystem)."""
from __future__ import annotations

import json

import pytest

from .jobc_run import run_job

pytestmark = pytest.mark.slurm

REPORT = 'echo "$SLURMD_NODENAME" > "$OUT/$TAG-$SLURM_PROCID"'


def run(command: str, **options) -> dict:
    return {"run": {"command": command, **options}}


def nodes(ran, tag: str) -> dict[str, str]:
    return {p.name: p.read_text().strip() for p in ran.out.glob(f"{tag}-*")}


def test_tasks_too_big_for_one_node_spread_over_both(slurm2, tmp_path):
    # 2 tasks x 5 CPUs do not fit on one 8-CPU node: Slurm must give the job both nodes.
    ran = run_job(slurm2, tmp_path, json.dumps({
        "resources": {"tasks": 2, "cpusPerTask": 5, "memPerCpu": 100, "gpusPerTask": 0},
        "steps": [
            run(REPORT.replace("$TAG", "both"), resources={"tasks": 2}),
            run(REPORT.replace("$TAG", "one")),
            run('printf "%s" "$NTASKS $CPUS_PER_TASK $CPUS $SLURM_JOB_NUM_NODES" > "$OUT/job"'),
        ],
    }), name="job.json")
    assert ran.rc == 0, ran
    both = nodes(ran, "both")
    assert set(both) == {"both-0", "both-1"}
    assert set(both.values()) == {"n1", "n2"}, both
    assert len(nodes(ran, "one")) == 1
    assert ran.read("job") == "2 5 10 2"


def test_two_nodes_requested_with_sbatch(slurm2, tmp_path):
    # Small tasks, but the site asks for two nodes: a 2-task step still runs one task per node,
    # and $DEEPSQUARE_ENV written on one node is seen by a step on the other.
    ran = run_job(slurm2, tmp_path, json.dumps({
        "resources": {"tasks": 2, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0},
        "steps": [
            run('echo "WRITER=$SLURMD_NODENAME" >> "$DEEPSQUARE_ENV"'),
            run(REPORT.replace("$TAG", "pair") + '; echo "$WRITER" > "$OUT/writer-$SLURM_PROCID"',
                resources={"tasks": 2}),
        ],
    }), name="job.json", sbatch=["nodes=2"])
    assert ran.rc == 0, ran
    pair = nodes(ran, "pair")
    assert sorted(pair.values()) == ["n1", "n2"], pair
    writer = {ran.read("writer-0").strip(), ran.read("writer-1").strip()}
    assert len(writer) == 1 and writer <= {"n1", "n2"}


def test_launch_on_both_nodes_gets_its_signal_on_each(slurm2, tmp_path):
    service = ('trap "echo TERM > \\"\\$OUT/signal-\\$SLURMD_NODENAME\\"; exit 0" TERM\n'
               'touch "$OUT/up-$SLURMD_NODENAME"\n'
               'sleep 30 & wait $!\n'
               'touch "$OUT/finished-$SLURMD_NODENAME"\n')
    ran = run_job(slurm2, tmp_path, json.dumps({
        "resources": {"tasks": 4, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0},
        "steps": [
            {"launch": {"steps": [run(service, shell="/bin/bash", resources={"tasks": 2, "cpusPerTask": 1})]}},
            run('up() { [ -e "$OUT/up-n1" ] && [ -e "$OUT/up-n2" ]; }; '
                'for _ in $(seq 100); do up && break; sleep 0.1; done; up'),
        ],
    }), name="job.json", sbatch=["nodes=2"], timeout=60)
    assert ran.rc == 0, ran
    for node in ("n1", "n2"):
        assert ran.read(f"signal-{node}").strip() == "TERM", ran
        assert not (ran.out / f"finished-{node}").exists()
    assert ran.res.elapsed < 20, ran
