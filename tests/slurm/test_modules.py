"""Under the real Slurm, modules (DeepSquare `use`) inlined at compile time: one from a local directory and one
from a git repository the test creates (`git init`, served by file://), with args and exportEnvAs outputs seen
by a later step."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from modules.support import commit, git, git_repo

from jobc import compile_spec
from jobc.options import CompileOptions

from .jobc_run import Ran, out_dir, shellcheck_bin, site_profile

pytestmark = pytest.mark.slurm

GREETER = """
name: greeter
inputs:
  - key: WHO
    description: who to greet
  - key: HOW
    default: hello
outputs:
  - key: RESULT
steps:
  - name: greet
    run:
      shell: /bin/bash
      command: |
        printf '%s\\n' "$HOW $WHO" > "$OUT/greeting"
        printf '%s\\n' "${EARLIER-unset}" > "$OUT/earlier-in-module"
        echo "RESULT=$HOW, $WHO" >> "$DEEPSQUARE_ENV"
        echo "RESULT2=not declared" >> "$DEEPSQUARE_ENV"
        echo "LEAK=not declared" >> "$DEEPSQUARE_ENV"
"""

JOB = """
resources: {{tasks: 1, cpusPerTask: 1, memPerCpu: 64, gpusPerTask: 0}}
steps:
  - name: publish
    run:
      command: echo "EARLIER=from the job" >> "$DEEPSQUARE_ENV"
  - name: module
    use:
      source: '{source}'
      args:
        - key: WHO
          value: {who}
      exportEnvAs: GREET
  - name: after
    run:
      shell: /bin/bash
      command: |
        printf '%s\\n' "${{GREET_RESULT-unset}}" > "$OUT/result"
        printf '%s\\n' "${{RESULT-unset}} ${{LEAK-unset}} ${{GREET_RESULT2-unset}} ${{GREET_LEAK-unset}}" > "$OUT/others"
"""


def run(cluster, tmp_path: Path, source: str, who: str) -> Ran:
    spec = tmp_path / "job.yaml"
    spec.write_text(textwrap.dedent(JOB.format(source=source, who=who)))
    options = CompileOptions(module_cache=str(tmp_path / "cache"))
    result = compile_spec(spec.read_text(), name=str(spec), site=site_profile(tmp_path), options=options)
    script = tmp_path / "job.sh"
    script.write_text(result.script)
    sc = subprocess.run([shellcheck_bin(), "-x", str(script)], capture_output=True, text=True)
    assert sc.returncode == 0, sc.stdout
    out = out_dir(tmp_path)
    res = cluster.submit(script, timeout=60, env={"OUT": str(out)})
    return Ran(res, out, tmp_path / "storage" / str(res.job_id))


def check(ran: Ran, who: str) -> None:
    assert ran.rc == 0, ran
    assert ran.read("greeting") == f"hello {who}\n"
    assert ran.read("earlier-in-module") == "from the job\n"  # the module's steps see what earlier steps published
    assert ran.read("result") == f"hello, {who}\n"
    assert ran.read("others") == "unset unset unset unset\n"  # only declared outputs, prefixed, keys exact


def test_a_module_from_a_local_directory(slurm, tmp_path: Path) -> None:
    (tmp_path / "greeter").mkdir()
    (tmp_path / "greeter" / "module.yaml").write_text(textwrap.dedent(GREETER).lstrip())
    who = """'it''s "you", $HOME `id` $(id)'"""
    check(run(slurm, tmp_path, "./greeter", who), """it's "you", $HOME `id` $(id)""")


def test_a_module_from_a_git_repository(slurm, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {"mods/greeter/module.yaml": textwrap.dedent(GREETER).lstrip()})
    git(repo, "tag", "v1")
    commit(repo, {"mods/greeter/module.yaml": "name: broken later\nsteps: []\n"}, "after v1")
    check(run(slurm, tmp_path, f"file://{repo}/mods/greeter@v1", "world"), "world")
