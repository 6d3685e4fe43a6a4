"""Shell completion: `jobc completion bash` sourced in a real bash, its function called as bash calls it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobc.cli_table import COMMANDS
from jobc.completion import complete

BIN = Path(sys.executable).parent


def bash_complete(words: list[str], cwd: Path) -> list[str]:
    """COMPREPLY after bash's completion function ran on `jobc WORDS...` (the last word: being completed)."""
    script = (
        'eval "$(jobc completion bash)"\n'
        'COMP_WORDS=(jobc "$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n'
        "_jobc_complete\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script, "bash", *words],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [line for line in proc.stdout.splitlines() if line]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("job.yaml", "app.yml", "other.json", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "specs").mkdir()
    return tmp_path


def test_commands(project: Path) -> None:
    assert bash_complete(["comp"], project) == ["compile", "completion"]
    assert sorted(bash_complete([""], project)) == sorted(COMMANDS)


def test_options_of_a_command(project: Path) -> None:
    assert bash_complete(["compile", "--o"], project) == ["--output", "--out-dir", "--offline"]
    assert bash_complete(["validate", "--app-i"], project) == ["--app-id"]
    assert bash_complete(["--v"], project) == ["--version"]


def test_spec_files_and_directories(project: Path) -> None:
    assert sorted(bash_complete(["compile", ""], project)) == ["app.yml", "job.yaml", "other.json", "specs"]
    assert bash_complete(["validate", "job.yaml", "o"], project) == ["other.json"]
    assert sorted(bash_complete(["compile", "-o", "out.sh", "--redact", ""], project)) == [
        "app.yml",
        "job.yaml",
        "other.json",
        "specs",
    ]


def test_option_values(project: Path) -> None:
    assert bash_complete(["schema", "--kind", ""], project) == ["job", "app"]
    assert bash_complete(["compile", "job.yaml", "--container-runtime", "a"], project) == ["apptainer"]
    assert "notes.txt" in bash_complete(["compile", "job.yaml", "--site", ""], project)
    assert bash_complete(["compile", "job.yaml", "--out-dir", ""], project) == ["specs"]
    assert bash_complete(["compile", "job.yaml", "--job-name", ""], project) == []


def test_shells(project: Path) -> None:
    assert bash_complete(["completion", ""], project) == ["bash", "zsh", "fish"]


def test_answers_for_every_kind() -> None:
    assert complete(["schema", ""]) == ["none"]
    assert complete(["nosuch", ""]) == ["none"]
    assert complete(["compile", "--", "-"]) == ["spec"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_that_calls_jobc_back(shell: str) -> None:
    proc = subprocess.run([BIN / "jobc", "completion", shell], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "__complete" in proc.stdout and "jobc" in proc.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error() -> None:
    proc = subprocess.run([BIN / "jobc", "completion", "tcsh"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "jobc: completion tcsh: must be one of bash, zsh, fish [E0601]\n"
