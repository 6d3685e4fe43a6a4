"""Fixtures for tests that run against a real Slurm on this machine.

`slurm` (1 node) and `slurm2` (2 nodes) are separate clusters with their own
ports and scratch dirs, so both can run at once; each starts only when a
test asks for it.  If a cluster cannot be started the fixture raises (the
test errors): these tests never skip.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS_DIR = Path(__file__).resolve().parents[1]
if str(_TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(_TESTS_DIR))

from harness.cluster import SlurmCluster  # noqa: E402
from harness.http import HttpServer  # noqa: E402
from harness.s3 import S3Server, ensure_s5cmd  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slurm: runs jobs on a real Slurm cluster started on this machine (root)")


@pytest.fixture(scope="session")
def slurm():
    cluster = SlurmCluster(nodes=1)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def slurm2():
    cluster = SlurmCluster(nodes=2)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def s3():
    ensure_s5cmd()
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def http_server():
    server = HttpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
