"""Writing jobs and modules into a directory, git repositories made for a test, and running `jobc` on them."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from support import CliRunner

from jobc.cli import run as app

JOB_HEAD = "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 100, gpusPerTask: 0}\nsteps:\n"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def jobc(*args: str, cwd: Path, cache: Path | None = None):
    """`jobc ARGS` in `cwd`, in this process (the module cache in `cache`, else under `cwd`)."""
    import os

    old = os.getcwd()
    os.chdir(cwd)
    try:
        extra = ["--module-cache", str(cache or cwd / ".cache")]
        result = CliRunner().invoke(app, [args[0], *extra, *args[1:]])
    finally:
        os.chdir(old)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


def git_repo(path: Path, files: dict[str, str], *, branch: str = "main") -> Path:
    """A repository at `path` with `files` committed on `branch`."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    commit(path, files, "first")
    return path


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")
