"""Smoke tests of the Slurm test harness, with hand-written batch scripts.

The `test_fact_*` tests pin down Slurm behaviour that generated job scripts
rely on, on both Slurm versions (22.05 from Debian 12, 24.11 from Debian 13);
those that differ between them are the `SLURM 24.11` notes of
tests/harness/README.md.
"""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.slurm_both]  # all of them on both Slurm versions


def script(tmp_path: Path, body: str, name: str = "job.sh") -> Path:
    p = tmp_path / name
    p.write_text("#!/bin/bash\n" + textwrap.dedent(body).lstrip("\n"))
    p.chmod(0o755)
    return p


def test_srun_hostname(slurm, tmp_path):
    job = script(
        tmp_path,
        """
        #SBATCH --ntasks=1
        srun hostname
        echo "ran-in=$(pwd)"
    """,
    )
    res = slurm.submit(job)
    assert res.returncode == 0, res
    assert res.job_id and res.job_id.isdigit()
    assert slurm.hostname in res.output, res
    assert f"ran-in={tmp_path}" in res.output, res


def test_exit_code_is_returned(slurm, tmp_path):
    job = script(
        tmp_path,
        """
        echo about-to-fail
        exit 3
    """,
    )
    res = slurm.submit(job)
    assert res.returncode == 3, res
    assert "about-to-fail" in res.output
    info = slurm.scontrol_show_job(res.job_id)
    assert info["JobState"] == "FAILED"
    assert info["ExitCode"] == "3:0"


def test_hold_then_show_job_then_cancel(slurm, tmp_path):
    job = script(tmp_path, "sleep 60\n")
    job_id = slurm.sbatch(job, "--hold", "--partition=gpu", "--ntasks=2", "--job-name=held")
    info = slurm.scontrol_show_job(job_id)
    assert info["JobState"] == "PENDING"
    assert info["Partition"] == "gpu"
    assert info["NumTasks"] == "2"
    assert info["JobName"] == "held"
    assert "Held" in info["Reason"] or info["Priority"] == "0", info
    slurm.scancel(job_id)
    slurm.wait_job_gone(job_id)
    assert slurm.scontrol_show_job(job_id)["JobState"] == "CANCELLED"


def test_oversized_job_is_rejected_not_hung(slurm, tmp_path):
    job = script(tmp_path, "true\n")
    res = slurm.submit(job, extra_args=["--nodes=2"], timeout=30)
    assert res.returncode != 0 and res.job_id is None, res
    assert "node" in res.sbatch_stderr.lower(), res


def test_two_nodes(slurm2, tmp_path):
    job = script(
        tmp_path,
        """
        #SBATCH --nodes=2
        #SBATCH --ntasks-per-node=1
        echo "nodelist=$SLURM_JOB_NODELIST"
        srun bash -c 'echo "task=$SLURM_PROCID node=$SLURMD_NODENAME"'
    """,
    )
    res = slurm2.submit(job)
    assert res.returncode == 0, res
    assert "nodelist=n[1-2]" in res.output, res
    assert "task=0 node=n1" in res.output, res
    assert "task=1 node=n2" in res.output, res


def test_s5cmd_in_job(slurm, s3, tmp_path):
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(bucket)
    job = script(
        tmp_path,
        f"""
        set -euo pipefail
        echo "payload-42" > data.txt
        s5cmd cp data.txt s3://{bucket}/in/data.txt
        s5cmd ls s3://{bucket}/in/
        s5cmd cat s3://{bucket}/in/data.txt
    """,
    )
    res = slurm.submit(job, env=s3.env)
    assert res.returncode == 0, res
    assert s3.list_objects(bucket) == ["in/data.txt"]
    assert s3.get_object(bucket, "in/data.txt") == b"payload-42\n"
    assert res.output.count("payload-42") == 1, res


def test_curl_download_and_upload(slurm, http_server, tmp_path):
    tag = uuid.uuid4().hex[:8]
    http_server.add_file(f"{tag}/in.txt", "from-server\n")
    job = script(
        tmp_path,
        f"""
        set -euo pipefail
        curl -fsS -o got.txt "$URL/{tag}/in.txt"
        cat got.txt
        echo uploaded-by-job >> got.txt
        curl -fsS --upload-file got.txt "$URL/up/{tag}/got.txt"
    """,
    )
    res = slurm.submit(job, env={"URL": http_server.url})
    assert res.returncode == 0, res
    assert "from-server" in res.output
    body = b"from-server\nuploaded-by-job\n"
    assert ("PUT", f"/up/{tag}/got.txt", len(body)) in http_server.uploads_received
    assert http_server.uploaded(f"/up/{tag}/got.txt") == body


def test_failed_upload_fails_job(slurm, http_server, tmp_path):
    tag = uuid.uuid4().hex[:8]
    job = script(
        tmp_path,
        f"""
        set -euo pipefail
        echo data > f.txt
        curl -fsS --upload-file f.txt "$URL/fail/{tag}/f.txt"
        echo not-reached
    """,
    )
    res = slurm.submit(job, env={"URL": http_server.url})
    assert res.returncode == 22, res  # curl -f: HTTP error >= 400
    assert "not-reached" not in res.output
    assert ("PUT", f"/fail/{tag}/f.txt", 5) in http_server.uploads_received


def test_fake_gpus(slurm, tmp_path):
    job = script(
        tmp_path,
        """
        #SBATCH --ntasks=1
        #SBATCH --gpus-per-task=1
        echo "batch SLURM_JOB_GPUS=${SLURM_JOB_GPUS-unset} CUDA=${CUDA_VISIBLE_DEVICES-unset}"
        srun --ntasks=1 --gpus-per-task=1 bash -c \
            'echo "step CUDA=${CUDA_VISIBLE_DEVICES-unset} SLURM_STEP_GPUS=${SLURM_STEP_GPUS-unset}"'
    """,
        name="gpu.sh",
    )
    res = slurm.submit(job)
    assert res.returncode == 0, res
    assert "batch SLURM_JOB_GPUS=0 CUDA=0" in res.output, res
    assert "step CUDA=0" in res.output, res
    info = slurm.scontrol_show_job(res.job_id)
    assert "gres/gpu=1" in info.get("TRES", "") or "gpu" in info.get("TresPerTask", ""), info


def test_two_gpus_on_one_node_are_distinct(slurm, tmp_path):
    job = script(
        tmp_path,
        """
        #SBATCH --ntasks=2
        #SBATCH --gpus-per-task=1
        srun --ntasks=2 --gpus-per-task=1 bash -c \
            'echo "task=$SLURM_PROCID CUDA=$CUDA_VISIBLE_DEVICES"'
    """,
        name="gpu2.sh",
    )
    res = slurm.submit(job)
    assert res.returncode == 0, res
    lines = sorted(line for line in res.output.splitlines() if line.startswith("task="))
    assert lines == ["task=0 CUDA=0", "task=1 CUDA=1"], res


# ---------------------------------------------------------------- Slurm facts


def test_fact_exported_bash_function_reaches_srun_task(slurm, tmp_path):
    job = script(
        tmp_path,
        """
        f() { echo "hi-from-f arg=${1-}"; }
        export -f f
        srun --ntasks=1 bash -c 'f x'
    """,
    )
    res = slurm.submit(job)
    assert res.returncode == 0, res
    assert "hi-from-f arg=x" in res.output, res


def test_fact_env_values_with_commas_and_newlines_pass_through_srun(slurm, tmp_path):
    job = script(
        tmp_path,
        r"""
        export K=$'a,b\nc d=e'
        srun --ntasks=1 bash -c '[ "$K" = "$(printf "a,b\nc d=e")" ] && echo plain-same'
        srun --ntasks=1 --export=ALL,J=x,y bash -c 'echo "export-J=[$J]"'
    """,
    )
    res = slurm.submit(job)
    assert res.returncode == 0, res
    assert "plain-same" in res.output, res
    assert "export-J=[x]" in res.output, res


def test_fact_srun_export_none_drops_path(slurm, tmp_path):
    job = script(
        tmp_path,
        """
        srun --ntasks=1 --export=NONE /usr/bin/env > env.txt
        grep -q '^PATH=' env.txt && echo has-path || echo no-path
        srun --ntasks=1 --export=NONE bash -c true || echo "bare-bash-rc=$?"
    """,
    )
    res = slurm.submit(job)
    assert res.returncode == 0, res
    assert "no-path" in res.output, res
    assert "bare-bash-rc=2" in res.output, res  # execve(): bash: No such file or directory


def test_fact_scancel_signal_term_on_step_runs_task_trap(slurm, tmp_path):
    job = script(
        tmp_path,
        """
        srun --ntasks=1 --job-name=worker bash -c \
            'trap "echo got-term; exit 7" TERM; echo started; while :; do sleep 0.1; done' &
        pid=$!
        step=
        for _ in $(seq 100); do
            step=$(squeue -h -s -j "$SLURM_JOB_ID" -o '%i %j' | awk '$2=="worker"{print $1}')
            [ -n "$step" ] && grep -q started "$OUT" 2>/dev/null && break
            sleep 0.1
        done
        echo "step=$step"
        scancel --signal=TERM "$step"
        wait "$pid"; echo "srun-rc=$?"
    """,
    )
    out = tmp_path / "trap.out"
    res = slurm.submit(job, output=out, env={"OUT": str(out)}, timeout=60)
    assert res.returncode == 0, res
    assert "got-term" in res.output, res
    assert "srun-rc=7" in res.output, res


def test_cluster_env_targets_this_cluster(slurm):
    r = slurm.run(["scontrol", "show", "config"])
    assert f"ClusterName             = {slurm.name}" in r.stdout
    assert slurm.env["SLURM_CONF"] == str(slurm.conf_path)
    assert slurm.start_seconds is not None and slurm.start_seconds < 30
    r = slurm.run(["sinfo", "-h", "-o", "%P %D %T"])
    assert r.stdout.split("\n")[0].startswith("debug*"), r.stdout


# ------------------------------------------- Slurm 22.05 and 24.11 differ (`SLURM 24.11` notes in the README)


def _is_2411(slurm) -> bool:
    return (slurm.version or "").startswith("24.11")


STEP_TRES = 'scontrol show step -o "$SLURM_JOB_ID.$SLURM_STEP_ID" | grep -o "TRES=[^ ]*"'


def test_fact_srun_inherits_cpus_per_task_on_2411_only(slurm, tmp_path):
    # SLURM 24.11: srun takes the job's --cpus-per-task again (22.05 does not); explicit -c gives the same on both.
    job = script(
        tmp_path,
        f"""
        #SBATCH --ntasks=2
        #SBATCH --cpus-per-task=2
        srun -n1 --exact bash -c 'echo "exact $({STEP_TRES})"'
        srun -n1 -c1 bash -c 'echo "c1 $({STEP_TRES})"'
    """,
    )
    res = slurm.submit(job)
    assert res.returncode == 0, res
    assert "c1 TRES=cpu=1,mem=256M,node=1" in res.output, res
    exact = "exact TRES=cpu=2,mem=512M,node=1" if _is_2411(slurm) else "exact TRES=cpu=1,mem=256M,node=1"
    assert exact in res.output, res


def test_fact_step_without_resources_takes_the_whole_job_on_2205_only(slurm, tmp_path):
    # SLURM 24.11: a step with no resource flags gets its own task's CPUs and a second step runs beside it;
    # on 22.05 it takes the whole allocation and the second waits ("Requested nodes are busy").
    job = script(
        tmp_path,
        f"""
        #SBATCH --ntasks=2
        #SBATCH --cpus-per-task=1
        srun -n1 bash -c 'echo "first $({STEP_TRES})"; sleep 3; echo first-done' &
        sleep 1
        srun -n1 bash -c 'echo second-start' 2>&1
        wait
    """,
    )
    res = slurm.submit(job)
    assert res.returncode == 0, res
    lines = [line for line in res.output.splitlines() if line.startswith(("first", "second"))]
    if _is_2411(slurm):
        assert lines == ["first TRES=cpu=1,mem=256M,node=1", "second-start", "first-done"], res
    else:
        assert lines == ["first TRES=cpu=2,mem=512M,node=1", "first-done", "second-start"], res
        assert "Requested nodes are busy" in res.output, res


def test_fact_gpus_per_task_zero_means_no_request_on_2411(slurm, tmp_path):
    # SLURM 24.11: `srun --gpus-per-task=0` is no GPU request at all, so the step gets every GPU of the job
    # (22.05: none). `--gres=none` gives a step no GPU on both.
    job = script(
        tmp_path,
        """
        #SBATCH --ntasks=1
        #SBATCH --gpus-per-task=2
        for opt in --gpus-per-task=0 "--gpus-per-task=0 --gres=none" --gpus-per-task=1; do
          srun -n1 $opt bash -c 'echo "[$0] CUDA=${CUDA_VISIBLE_DEVICES-unset} STEP_GPUS=${SLURM_STEP_GPUS-unset}"' "$opt"
        done
    """,
    )
    res = slurm.submit(job)
    assert res.returncode == 0, res
    zero = "CUDA=0,1 STEP_GPUS=0,1" if _is_2411(slurm) else "CUDA=unset STEP_GPUS=unset"
    assert f"[--gpus-per-task=0] {zero}" in res.output, res
    assert "[--gpus-per-task=0 --gres=none] CUDA=unset STEP_GPUS=unset" in res.output, res
    assert "[--gpus-per-task=1] CUDA=0 STEP_GPUS=0" in res.output, res


def test_fact_scontrol_show_job_tres_fields(slurm, tmp_path):
    # SLURM 24.11: `scontrol show job` has ReqTRES/AllocTRES instead of TRES, TresPerTask=cpu=3,gres/gpu=1
    # instead of gres:gpu:1, and a TresBind field.
    job = script(tmp_path, "sleep 60\n")
    job_id = slurm.sbatch(job, "--hold", "--ntasks=2", "--cpus-per-task=3", "--gpus-per-task=1")
    try:
        info = slurm.scontrol_show_job(job_id)
    finally:
        slurm.scancel(job_id)
        slurm.wait_job_gone(job_id)
    assert info["CPUs/Task"] == "3", info
    if _is_2411(slurm):
        assert info["TresPerTask"] == "cpu=3,gres/gpu=1", info
        assert "TRES" not in info and info["ReqTRES"].startswith("cpu=6,"), info
        assert info["TresBind"] == "gres/gpu:per_task:1", info
    else:
        assert info["TresPerTask"] == "gres:gpu:1", info
        assert info["TRES"].startswith("cpu=6,") and "ReqTRES" not in info, info


def test_fact_sigterm_to_srun_does_not_reach_task_traps_on_either(slurm, tmp_path):
    # The same on 22.05 and 24.11: SIGTERM to an srun process kills its tasks without their traps running
    # (the generated script signals steps with `scancel --signal=TERM JOB.STEP`, test_fact_scancel_...).
    job = script(
        tmp_path,
        """
        srun -n1 bash -c 'trap "echo task-got-term; exit 9" TERM; echo started; while :; do sleep 0.1; done' &
        pid=$!
        sleep 1.5
        kill -TERM "$pid"
        wait "$pid"; echo "srun-rc=$?"
    """,
    )
    res = slurm.submit(job)
    assert res.returncode == 0, res
    assert "started" in res.output and "task-got-term" not in res.output, res
    assert "srun-rc=137" in res.output, res
