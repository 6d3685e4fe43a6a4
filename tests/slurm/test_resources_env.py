"""Job resources, job `env`, `#SBATCH` directives and $DEEPSQUARE_ENV, observed inside real Slurm steps."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from .jobc_run import run_job

pytestmark = pytest.mark.slurm


def _vars(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@pytest.mark.slurm_both
def test_job_resources_and_env_are_visible_in_steps(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        """
        resources: {tasks: 2, cpusPerTask: 2, memPerCpu: 300, gpusPerTask: 1}
        env:
          - {key: MY_ENV, value: "my value, with a comma"}
          - {key: QUOTED, value: "it's \\"$(not run)\\" \\\\n"}
        steps:
          - name: report
            run:
              command: |
                for k in NTASKS CPUS_PER_TASK MEM_PER_CPU GPUS_PER_TASK GPUS CPUS MEM; do
                  eval "printf '%s=%s\\n' $k \\"\\$$k\\""
                done > "$OUT/resources"
                printf '%s' "$MY_ENV" > "$OUT/MY_ENV"
                printf '%s' "$QUOTED" > "$OUT/QUOTED"
    """,
    )
    assert ran.rc == 0, ran
    assert _vars(ran.read("resources")) == {
        "NTASKS": "2",
        "CPUS_PER_TASK": "2",
        "MEM_PER_CPU": "300",
        "GPUS_PER_TASK": "1",
        "GPUS": "2",
        "CPUS": "4",
        "MEM": "1200",
    }
    assert ran.read("MY_ENV") == "my value, with a comma"
    assert ran.read("QUOTED") == 'it\'s "$(not run)" \\n'


STEP_REPORT = (
    'echo "ntasks=$SLURM_NTASKS cpus=$SLURM_CPUS_PER_TASK"; '
    'scontrol show step -o "$SLURM_JOB_ID.$SLURM_STEP_ID" | grep -o "TRES=[^ ]*"'
)


@pytest.mark.slurm_both
def test_step_resources_reach_srun(slurm, tmp_path):
    # SLURM_MEM_PER_CPU inside a step is the job's (srun does not reset it), so memory is read from
    # the step's TRES as Slurm accounts it.
    ran = run_job(
        slurm,
        tmp_path,
        f"""
        resources: {{tasks: 4, cpusPerTask: 2, memPerCpu: 200, gpusPerTask: 0}}
        steps:
          - name: defaults
            run:
              command: '{{ {STEP_REPORT}; }} > "$OUT/defaults"'
          - name: explicit
            run:
              resources: {{tasks: 3, cpusPerTask: 1, memPerCpu: 100}}
              command: '{{ {STEP_REPORT}; }} > "$OUT/task-$SLURM_PROCID"'
    """,
    )
    assert ran.rc == 0, ran
    # A step's tasks default to 1, the rest to the job's.
    assert ran.read("defaults").split() == ["ntasks=1", "cpus=2", "TRES=cpu=2,mem=400M,node=1"]
    for procid in range(3):
        assert ran.read(f"task-{procid}").split() == ["ntasks=3", "cpus=1", "TRES=cpu=3,mem=300M,node=1"]
    assert not (ran.out / "task-3").exists()


@pytest.mark.slurm_both
def test_gpu_step_gets_devices(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 100, gpusPerTask: 2}
        steps:
          - name: two gpus
            run:
              shell: /bin/bash
              command: echo "$CUDA_VISIBLE_DEVICES" > "$OUT/all"
          - name: one gpu
            run:
              shell: /bin/bash
              resources: {gpusPerTask: 1}
              command: echo "$CUDA_VISIBLE_DEVICES" > "$OUT/one"
          - name: no gpu
            run:
              shell: /bin/bash
              resources: {gpusPerTask: 0}
              command: echo "${CUDA_VISIBLE_DEVICES-unset}" > "$OUT/none"
    """,
    )
    assert ran.rc == 0, ran
    assert sorted(ran.read("all").strip().split(",")) == ["0", "1"]
    assert len(ran.read("one").strip().split(",")) == 1
    assert ran.read("none").strip() in ("unset", "", "NoDevFiles")


@pytest.mark.slurm_both
def test_sbatch_directives_from_profile_and_cli(slurm, tmp_path):
    # Through the real command line: a TOML site profile, then --sbatch flags that override it.
    (tmp_path / "site.toml").write_text(
        f'[paths]\nstorage_root = "{tmp_path / "storage"}"\n'
        '[sbatch]\npartition = "debug"\ntime = "00:05:00"\ncomment = "from profile"\n'
    )
    (tmp_path / "job.yaml").write_text(
        textwrap.dedent("""
        resources: {tasks: 2, cpusPerTask: 3, memPerCpu: 300, gpusPerTask: 1}
        steps:
          - run: {command: "true"}
    """)
    )
    script = tmp_path / "job.sh"
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "jobc",
            "compile",
            str(tmp_path / "job.yaml"),
            "--site",
            str(tmp_path / "site.toml"),
            "--sbatch",
            "partition=gpu",
            "--sbatch",
            "job-name=held job #1",
            "-o",
            str(script),
        ],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stderr
    job_id = slurm.sbatch(script, "--hold")
    try:
        info = slurm.scontrol_show_job(job_id)
        assert info["JobState"] == "PENDING", info
        assert info["Partition"] == "gpu"  # the CLI's --sbatch wins over the profile
        assert info["TimeLimit"] == "00:05:00"  # from the profile
        assert info["JobName"] == "held job #1"  # quoted: the space and '#' survive
        assert info["Comment"] == "from profile"
        assert info["NumTasks"] == "2"
        assert info["CPUs/Task"] == "3"
        assert info["MinMemoryCPU"] == "300M"
        # SLURM 24.11 writes TresPerTask as cpu=3,gres/gpu=1 (22.05: gres:gpu:1); test_fact_scontrol_show_job_tres_fields
        assert info.get("TresPerTask") in ("gres:gpu:1", "cpu=3,gres/gpu=1"), info
    finally:
        slurm.scancel(job_id)
        slurm.wait_job_gone(job_id)


# Values an earlier step appends to $DEEPSQUARE_ENV; each must reach later steps byte for byte.
ENV_VALUES = {
    "SPACES": "a value with  two spaces ",
    "COMMAS": "a,b,,c",
    "QUOTES": "it's \"double\" and 'single'",
    "EQUALS": "k=v==w=",
    "SUBST": '$(touch "$OUT/pwned") `touch "$OUT/pwned"` ${HOME} $OUT',
    "BACKSLASH": "back\\slash\\\\n\\",
    "EMPTY": "",
    "GLOB": "* ? [a-z] ~",
}
RESERVED = "PATH=/nowhere\nSLURM_JOB_ID=1\nSTORAGE_PATH=/tmp\nLD_PRELOAD=/nowhere.so\nnot a key value line\n"


def _dump_env(directory: str) -> str:
    keys = " ".join(ENV_VALUES)
    return f'mkdir -p "$OUT/{directory}"\nfor k in {keys}; do printf "%s" "${{!k}}" > "$OUT/{directory}/$k"; done\n'


def test_deepsquare_env_reaches_later_steps_byte_exact(slurm, tmp_path):
    heredoc = "".join(f"{k}={v}\n" for k, v in ENV_VALUES.items())
    spec = {
        "resources": {"tasks": 2, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0},
        "steps": [
            {
                "name": "share",
                "run": {
                    "shell": "/bin/bash",
                    "command": f"cat >> \"$DEEPSQUARE_ENV\" <<'EOF'\n{heredoc}{RESERVED}EOF\n",
                },
            },
            {
                "name": "read",
                "run": {
                    "shell": "/bin/bash",
                    "command": _dump_env("step")
                    + 'printf "%s\\n" "$PATH" "$SLURM_JOB_ID" "$STORAGE_PATH" > "$OUT/reserved"\n',
                },
            },
            {
                "name": "shell sh",
                "run": {
                    "shell": "/bin/sh",
                    "command": 'printf "%s" "$QUOTES" > "$OUT/sh-QUOTES"; printf "%s" "$BACKSLASH" > "$OUT/sh-BACKSLASH"',
                },
            },
            {
                "name": "loops",
                "for": {
                    "parallel": True,
                    "items": ["one", "two"],
                    "steps": [
                        {
                            "for": {
                                "parallel": False,
                                "range": {"begin": 1, "end": 2},
                                "steps": [
                                    {"run": {"shell": "/bin/bash", "command": _dump_env("loop-$item-$index")}},
                                ],
                            }
                        },
                    ],
                },
            },
            {
                "name": "launched",
                "launch": {
                    "handleName": "bg",
                    "steps": [
                        {"run": {"shell": "/bin/bash", "command": _dump_env("launch")}},
                    ],
                },
            },
            {"dependsOn": ["bg"], "run": {"command": "true"}},
        ],
    }
    ran = run_job(slurm, tmp_path, json.dumps(spec), name="job.json")
    assert ran.rc == 0, ran
    assert not (ran.out / "pwned").exists(), "a value was evaluated"
    for where in ["step", "loop-one-1", "loop-one-2", "loop-two-1", "loop-two-2", "launch"]:
        for key, value in ENV_VALUES.items():
            assert (ran.out / where / key).read_bytes() == value.encode(), (where, key, ran)
    assert ran.read("sh-QUOTES") == ENV_VALUES["QUOTES"]
    assert ran.read("sh-BACKSLASH") == ENV_VALUES["BACKSLASH"]
    path, job_id, storage = ran.read("reserved").splitlines()
    assert path != "/nowhere" and job_id == ran.res.job_id and storage == str(ran.storage)
    for key in ("PATH", "SLURM_JOB_ID", "STORAGE_PATH", "LD_PRELOAD"):
        assert f"DEEPSQUARE_ENV: {key} is reserved, ignoring it" in ran.output, ran
    assert "DEEPSQUARE_ENV: ignoring a line that is not KEY=value" in ran.output


@pytest.mark.slurm_both
def test_env_precedence_job_then_deepsquare_env_then_step(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 100, gpusPerTask: 0}
        env:
          - {key: A, value: job}
          - {key: B, value: job}
          - {key: C, value: job}
        steps:
          - run:
              command: printf 'B=from-env-file\\nC=from-env-file\\n' >> "$DEEPSQUARE_ENV"
          - run:
              env: [{key: C, value: step}]
              command: echo "$A $B $C" > "$OUT/seen"
          - run:
              command: echo "$A $B $C" > "$OUT/after"
    """,
    )
    assert ran.rc == 0, ran
    assert ran.read("seen").strip() == "job from-env-file step"
    assert ran.read("after").strip() == "job from-env-file from-env-file"
