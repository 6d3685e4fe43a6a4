"""Shared fixtures: the example lists, a way to run the real CLI, and the real Slurm, S3 and HTTP servers.

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


# --- real servers: started once per session, only when a test asks for them ---------------------------------------
# `slurm` (1 node) and `slurm2` (2 nodes) are separate clusters with their own ports and scratch dirs, so
# both can run at once. If one cannot start, the fixture raises (the test errors): these tests never skip.


@pytest.fixture(scope="session")
def slurm():
    from harness.cluster import SlurmCluster

    cluster = SlurmCluster(nodes=1)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def slurm2():
    from harness.cluster import SlurmCluster

    cluster = SlurmCluster(nodes=2)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def s3():
    from harness.s3 import S3Server, ensure_s5cmd

    ensure_s5cmd()
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def http_server():
    from harness.http import HttpServer

    server = HttpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
