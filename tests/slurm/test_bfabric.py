"""bfabric apps under the real Slurm: dispatch makes chunks, process and collect run once per chunk.

The app's commands are small sh scripts the test writes (in a directory whose name has a space, so the
shell commands' quoting is exercised too). The script is compiled with jobc, checked with shellcheck,
and submitted with `sbatch --wait`.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import textwrap
from pathlib import Path

import pytest

from jobc import compile_spec
from jobc.options import AppOptions, CompileOptions

from .jobc_run import shellcheck_bin, site_profile

pytestmark = pytest.mark.slurm

DISPATCH = """\
#!/bin/sh
# dispatch WORKUNIT_REF WORK_DIR: three chunks, each with its inputs.yml
set -eu
for n in 1 2 3; do
  mkdir -p "$2/chunk$n"
  printf 'workunit: %s\\nn: %s\\n' "$1" "$n" > "$2/chunk$n/inputs.yml"
done
"""

PROCESS = """\
#!/bin/sh
# process CHUNK_DIR: a result in the chunk; FAIL_CHUNK makes one chunk fail with exit code 5
set -eu
n=$(sed -n 's/^n: //p' "$1/inputs.yml")
if [ "$n" = "${FAIL_CHUNK:-}" ]; then exit 5; fi
echo "result $n $(($n * $n)) on $SLURM_JOB_ID.$SLURM_STEP_ID cpus=$SLURM_CPUS_PER_TASK" > "$1/result.txt"
"""

COLLECT = """\
#!/bin/sh
# collect WORKUNIT_REF CHUNK_DIR: gather each chunk's result in the work directory
set -eu
echo "$1 $(basename "$2"): $(cat "$2/result.txt")" >> "$(dirname "$2")/collected.txt"
"""


def write_app(tmp_path: Path) -> tuple[Path, str]:
    scripts = tmp_path / "app scripts"
    scripts.mkdir()
    for name, text in (("dispatch.sh", DISPATCH), ("process.sh", PROCESS), ("collect.sh", COLLECT)):
        (scripts / name).write_text(text)
    sh = lambda name: json.dumps(f"sh {shlex.quote(str(scripts / name))}")  # noqa: E731 - YAML double-quoted
    spec = textwrap.dedent(f"""\
        versions:
          - version: ["1.0.0", "1.1.0"]
            commands:
              dispatch: {{type: shell, command: {sh("dispatch.sh")}}}
              process:  {{type: shell, command: {sh("process.sh")}}}
              collect:  {{type: shell, command: {sh("collect.sh")}}}
            submitter:
              name: slurm
              config: {{partition: debug, time: "10:00", mem: 512M}}
        """)
    return scripts, spec


def compile_app(tmp_path: Path, spec: str, work: Path) -> Path:
    site = site_profile(tmp_path)
    options = CompileOptions(
        app=AppOptions(
            app_version="1.1.0", app_id=1, app_name="squares", workunit_ref="4711", work_dir=str(work), cpus_per_task=2
        )
    )
    script = tmp_path / "job.sh"
    script.write_text(compile_spec(spec, name="app.yaml", site=site, options=options).script)
    sc = subprocess.run([shellcheck_bin(), "-x", str(script)], capture_output=True, text=True)
    assert sc.returncode == 0, f"shellcheck findings in the generated script:\n{sc.stdout}{sc.stderr}"
    return script


def test_app_runs_dispatch_process_collect_per_chunk(slurm, tmp_path: Path) -> None:
    _, spec = write_app(tmp_path)
    work = tmp_path / "work dir"
    res = slurm.submit(compile_app(tmp_path, spec, work), timeout=120)
    assert res.returncode == 0, res
    for n in (1, 2, 3):
        result = (work / f"chunk{n}" / "result.txt").read_text()
        assert result.startswith(f"result {n} {n * n} on {res.job_id}.") and result.endswith(" cpus=2\n"), result
    collected = (work / "collected.txt").read_text().splitlines()
    assert [line.split(": ", 1)[0] for line in collected] == ["4711 chunk1", "4711 chunk2", "4711 chunk3"]
    assert [line.split(": ", 1)[1].split(" on ")[0] for line in collected] == ["result 1 1", "result 2 4", "result 3 9"]
    info = slurm.scontrol_show_job(res.job_id)
    assert info["Partition"] == "debug" and info["TimeLimit"] == "00:10:00", info
    assert "jobc: step dispatch" in res.output and res.output.count("jobc: step process") == 3


def test_failing_process_stops_the_job_with_its_code(slurm, tmp_path: Path) -> None:
    _, spec = write_app(tmp_path)
    work = tmp_path / "work"
    res = slurm.submit(compile_app(tmp_path, spec, work), timeout=120, env={"FAIL_CHUNK": "2"})
    assert res.returncode == 5, res
    assert (work / "chunk1" / "result.txt").exists()
    assert not (work / "chunk2" / "result.txt").exists() and not (work / "chunk3" / "result.txt").exists()
    assert (work / "collected.txt").read_text().splitlines()[0].startswith("4711 chunk1: result 1 1")
    assert len((work / "collected.txt").read_text().splitlines()) == 1
    assert slurm.scontrol_show_job(res.job_id)["ExitCode"] == "5:0"
