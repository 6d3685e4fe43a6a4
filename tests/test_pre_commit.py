"""jobc works as a pre-commit hook: the real pre-commit runs this repository's hooks on a project.

The hooks come from a git repository holding this checkout's tracked files (uncommitted changes
included), pinned by its commit as a user's `.pre-commit-config.yaml` pins a tag; pre-commit installs
jobc from it in a fresh environment of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import EXAMPLES
from support import copy_tracked_files


def git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@localhost",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@localhost",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def hooks_repo(root: Path) -> tuple[Path, str]:
    source = copy_tracked_files(root / "jobc")
    git("init", "-q", cwd=source)
    git("add", ".", cwd=source)
    git("commit", "-q", "-m", "jobc", cwd=source)
    return source, git("rev-parse", "HEAD", cwd=source)


def run_hooks(project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_check_and_compile_hooks(tmp_path: Path) -> None:
    source, rev = hooks_repo(tmp_path)
    project = tmp_path / "project"
    (project / "jobs").mkdir(parents=True)
    shutil.copy(EXAMPLES / "parameter-sweep.yaml", project / "jobs" / "sweep.yaml")
    (project / ".pre-commit-config.yaml").write_text(
        textwrap.dedent(f"""\
        repos:
          - repo: {source}
            rev: {rev}
            hooks:
              - id: jobc-compile
                args: [--out-dir, scripts]
                files: ^jobs/
              - id: jobc-check
                args: [--out-dir, scripts]
                files: ^jobs/
        """)
    )
    git("init", "-q", cwd=project)
    git("add", ".", cwd=project)
    home = tmp_path / "pre-commit-home"

    first = run_hooks(project, home)  # jobc-compile writes the new script; jobc-check finds it current
    assert first.returncode == 0, first.stdout + first.stderr
    script = project / "scripts" / "sweep.sh"
    assert script.read_text().startswith("#!/bin/bash\n")
    git("add", ".", cwd=project)

    spec = project / "jobs" / "sweep.yaml"
    spec.write_text(spec.read_text().replace("0.01", "0.02"))
    rewritten = run_hooks(project, home)  # the committed script changes: pre-commit fails the commit
    assert rewritten.returncode == 1, rewritten.stdout + rewritten.stderr
    assert "files were modified by this hook" in rewritten.stdout
    assert "for item in 0.1 0.02 0.001 1e-4; do" in script.read_text()
    git("add", ".", cwd=project)
    assert run_hooks(project, home).returncode == 0

    config = project / ".pre-commit-config.yaml"
    config.write_text(
        config.read_text().replace(
            "      - id: jobc-compile\n        args: [--out-dir, scripts]\n        files: ^jobs/\n", ""
        )
    )
    assert "jobc-compile" not in config.read_text()
    spec.write_text(spec.read_text().replace("0.02", "0.03"))
    stale = run_hooks(project, home)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "jobc: scripts/sweep.sh is not what jobc writes from its spec; refresh it with: jobc compile" in stale.stdout
    assert "for item in 0.1 0.02 0.001 1e-4; do" in script.read_text()  # the check hook writes nothing
