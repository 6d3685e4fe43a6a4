"""Races in the generated script's run-time helpers, under plain bash with stand-ins for srun and scancel.

Issue 14, item 1: `jobc_wait_all` counted the returns of `wait -n`. bash (4.4 to 5.2, `wait_for_any_job()` in
jobs.c) can answer `wait -n` with 127, "no children", while ended iterations are still unreported, and the job
then ended with exit code 127 and no message. With the old helper, the job of
`test_many_rounds_of_quick_parallel_iterations_never_end_127` ended 127 in each of 18 runs (22,876 rounds in all,
about one 127 per 1,300 rounds of four iterations); the same job runs its 20,000 rounds to the end now.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

from jobc import compile_spec
from jobc.site import site_from_dict

RES = {"tasks": 4, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0}

# srun: skip the options up to `--`, run the step's command on the host (bash: dash would drop the exported
# function jobc_task from the environment).
SRUN = """#!/bin/bash
while [[ $1 != -- ]]; do shift; done
shift
exec "$@"
"""


def rounds_spec(rounds: int, *inner: dict) -> str:
    """`rounds` sequential rounds, each a parallel loop over four items running `inner`."""
    return json.dumps(
        {
            "resources": RES,
            "steps": [
                {
                    "name": "round",
                    "for": {
                        "range": {"begin": 1, "end": rounds},
                        "steps": [
                            {
                                "name": "loop",
                                "for": {"parallel": True, "items": ["a", "b", "c", "d"], "steps": list(inner)},
                            }
                        ],
                    },
                }
            ],
        }
    )


def compile_to(tmp_path: Path, spec: str) -> Path:
    srun = tmp_path / "srun"
    srun.write_text(SRUN)
    srun.chmod(0o755)
    site = site_from_dict(
        {
            "paths": {"storage_root": str(tmp_path / "storage")},
            "tools": {"srun": str(srun), "scancel": "true"},
            "options": {"launch_grace": 1},
        }
    )
    script = tmp_path / "job.sh"
    script.write_text(compile_spec(spec, name="job.json", site=site, options={}).script)
    return script


def run_script(tmp_path: Path, script: Path, timeout: float, tag: str = "") -> subprocess.CompletedProcess:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SLURM_JOB_ID": "1",
        "OUT": str(out),
        "LC_ALL": "C.UTF-8",
        "JOBC_TEST_TAG": tag,
    }
    return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=timeout)


def test_many_rounds_of_quick_parallel_iterations_never_end_127(tmp_path):
    """20,000 rounds of four iterations that only print their names: the quickest iterations there are."""
    rounds = 20_000
    done = run_script(tmp_path, compile_to(tmp_path, rounds_spec(rounds, {"name": "it"})), timeout=900)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    steps = done.stdout.splitlines()
    assert steps.count("jobc: step loop") == rounds
    assert steps.count("jobc: step it") == 4 * rounds


def test_rounds_of_parallel_srun_steps_never_end_127(tmp_path):
    """Iterations that run a step through (a stand-in for) srun, as a parallel loop of run steps does."""
    rounds = 250
    step = {"name": "it", "run": {"command": 'echo "ran $item"'}}
    done = run_script(tmp_path, compile_to(tmp_path, rounds_spec(rounds, step)), timeout=600)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    ran = [line for line in done.stdout.splitlines() if line.startswith("ran ")]
    assert sorted(set(ran)) == ["ran a", "ran b", "ran c", "ran d"]
    assert len(ran) == 4 * rounds


def test_a_failing_iteration_fails_the_loop_with_its_code_and_stops_the_others(tmp_path):
    body = (
        'case "$item" in\n'
        "  fail) exit 3 ;;\n"
        '  slow) touch "$OUT/slow-started"; sleep 60; touch "$OUT/slow-finished" ;;\n'
        "esac\n"
    )
    spec = json.dumps(
        {
            "resources": RES,
            "steps": [
                {
                    "name": "loop",
                    "for": {
                        "parallel": True,
                        "items": ["slow", "fail", "quick"],
                        "steps": [
                            {
                                "name": "wait-for-slow",
                                "run": {
                                    "command": '[ "$item" = slow ] || while [ ! -e "$OUT/slow-started" ]; do sleep 0.05; done'
                                },
                            },
                            {"name": "body", "run": {"command": body}},
                            {"name": "next", "run": {"command": 'touch "$OUT/next-$item"'}},
                        ],
                    },
                },
                {"name": "after", "run": {"command": 'touch "$OUT/after"'}},
            ],
        }
    )
    tag = uuid.uuid4().hex
    # The slow iteration sleeps 60 s; the job must end well before (the grace period here is 1 s).
    done = run_script(tmp_path, compile_to(tmp_path, spec), timeout=30, tag=tag)
    assert done.returncode == 3, (done.returncode, done.stderr)
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert "slow-started" in files and not files & {"slow-finished", "next-slow", "next-fail", "after"}, files
    assert "jobc: step after" not in done.stdout
    assert not processes_with(f"JOBC_TEST_TAG={tag}"), "a process of the job is still running"


def processes_with(needle: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if needle.encode() + b"\0" in (proc / "environ").read_bytes():
                    found.append((proc / "cmdline").read_bytes().decode(errors="replace"))
            except OSError:
                continue
    return found


def version_check(script: str) -> str:
    """The bash version check at the top of a script (the `if` block that names BASH_VERSINFO)."""
    match = re.search(r"^if \(\( BASH_VERSINFO.*?^fi$", script, re.S | re.M)
    assert match, "no BASH_VERSINFO check in the script"
    return match.group(0)


def test_the_script_states_and_checks_the_oldest_bash_it_supports(tmp_path):
    script = compile_to(tmp_path, rounds_spec(1, {"name": "it"})).read_text()
    check = version_check(script)
    head = script[: script.index(check)]
    assert "oldest bash this script supports is 4.4" in head
    assert script.index(check) < script.index("set -euo pipefail") < script.index("shopt -s inherit_errexit")
    # BASH_VERSINFO is read-only: the check runs with the version replaced by a stand-in array.
    for version, accepted in (
        ("3 2 57", False),
        ("4 3 48", False),
        ("4 4 20", True),
        ("5 2 15", True),
        ("5 3 0", True),
        ("6 0 0", True),
    ):
        text = (
            f"V=({version}); BASH_VERSION='{version.replace(' ', '.')}'\n"
            + check.replace("BASH_VERSINFO", "V")
            + "\necho passed\n"
        )
        done = subprocess.run(["bash", "-c", text], capture_output=True, text=True)
        if accepted:
            assert (done.returncode, done.stdout, done.stderr) == (0, "passed\n", ""), version
        else:
            assert done.returncode == 1 and done.stdout == "", version
            assert done.stderr == (
                f"jobc: this script needs bash 4.4 or later; this is bash {version.replace(' ', '.')}\n"
            ), version
