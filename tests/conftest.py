"""Shared helpers of the example tests: the example lists and a way to run the real CLI.

Tests that take a `valid_example` argument run once per spec directly in examples/, and those that
take `invalid_example` once per spec in examples/invalid/, with the file name as the test id.
(Subdirectories such as examples/bfabric/ belong to their own tests.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
INVALID = EXAMPLES / "invalid"
GOLDEN = REPO / "golden"
SPEC_SUFFIXES = (".json", ".yaml", ".yml")


def specs_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in SPEC_SUFFIXES)


def valid_examples() -> list[Path]:
    return specs_in(EXAMPLES)


def example_id(example: Path) -> str:
    """`gpu-training.yaml`: the test id, and the golden script's name minus `.sh`."""
    return example.relative_to(EXAMPLES).as_posix()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "valid_example" in metafunc.fixturenames:
        examples = valid_examples()
        metafunc.parametrize("valid_example", examples, ids=[example_id(p) for p in examples])
    if "invalid_example" in metafunc.fixturenames:
        examples = specs_in(INVALID)
        metafunc.parametrize("invalid_example", examples, ids=[p.name for p in examples])


def run_jobc(*args: str, cwd: Path | str | None = None, stdin: str | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m jobc ARGS` in a fresh process (the installed CLI entry, as a user runs it)."""
    return subprocess.run(
        [sys.executable, "-m", "jobc", *args],
        cwd=cwd,
        input=stdin if stdin is not None else "",
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


@pytest.fixture(name="run_jobc")
def run_jobc_fixture():
    return run_jobc
