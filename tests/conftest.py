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


def run_jobc(
    *args: str, cwd: Path | str | None = None, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
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
#
# Two Slurm versions: the host's (Debian 12's 22.05 or Debian 13's 24.11, from its own packages) and the other
# one, in a root filesystem the harness builds (tests/harness/rootfs.py). Every test that asks for `slurm` or
# `slurm2` is parametrized over `slurm_version`: the host's always; the other one for tests marked
# `slurm_both` (the default `--slurm-other=subset`), for every test (`all`), or never (`none`); `only`
# runs every test on the other version alone. The test id
# says which (`test_x[slurm24.11]`); so do the report header and the terminal summary.

SLURM_OTHER_MODES = ("subset", "all", "none", "only")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slurm-other",
        choices=SLURM_OTHER_MODES,
        default=os.environ.get("JOBC_SLURM_OTHER", "subset"),
        help="which real-Slurm tests also run on the Slurm version the host lacks (in a root filesystem): "
        "subset = those marked slurm_both (default), all, none, only (all of them on the other version "
        "and none on the host's). Env: JOBC_SLURM_OTHER.",
    )


def _slurm_versions() -> tuple[str, str]:
    from harness.rootfs import SUITES, host_suite, other_suite

    return SUITES[host_suite()][1], SUITES[other_suite()][1]


def pytest_report_header(config: pytest.Config) -> list[str]:
    from harness.rootfs import SUITES, host_suite, other_suite

    try:
        host, other = host_suite(), other_suite()
    except Exception as e:  # noqa: BLE001 -- the header must not break collection
        return [f"slurm: cannot tell the host's Slurm: {e}"]
    mode = config.getoption("--slurm-other")
    return [
        f"slurm: host Slurm {SUITES[host][1]} (Debian {SUITES[host][0]} {host}, host packages); "
        f"other Slurm {SUITES[other][1]} (Debian {SUITES[other][0]} {other}, root filesystem under "
        f"build/slurm-rootfs/) for {mode}" + (" (tests marked slurm_both)" if mode == "subset" else "")
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "valid_example" in metafunc.fixturenames:
        examples = valid_examples()
        metafunc.parametrize("valid_example", examples, ids=[example_id(p) for p in examples])
    if "invalid_example" in metafunc.fixturenames:
        examples = specs_in(INVALID)
        metafunc.parametrize("invalid_example", examples, ids=[p.name for p in examples])
    if {"slurm", "slurm2"} & set(metafunc.fixturenames):
        host, other = _slurm_versions()
        mode = metafunc.config.getoption("--slurm-other")
        versions = [] if mode == "only" else [host]
        if mode in ("all", "only") or (mode == "subset" and metafunc.definition.get_closest_marker("slurm_both")):
            versions.append(other)
        metafunc.parametrize("slurm_version", versions, ids=[f"slurm{v}" for v in versions], indirect=True)


class SlurmClusters:
    """Every cluster of the session, by (Slurm version, nodes), started on first use and stopped at the end.

    A cluster that failed to start is not retried: later tests asking for it fail with the same error.
    """

    def __init__(self, basetemp: Path) -> None:
        self.basetemp = basetemp
        self.clusters: dict[tuple[str, int], object] = {}
        self.errors: dict[tuple[str, int], str] = {}

    def get(self, version: str, nodes: int):
        from harness.cluster import HarnessError, SlurmCluster
        from harness.rootfs import RootfsSlurmCluster, suite_of_version

        key = (version, nodes)
        if key in self.errors:
            raise HarnessError(
                f"Slurm {version} ({nodes} node(s)) could not be brought up earlier:\n{self.errors[key]}"
            )
        if key not in self.clusters:
            host, _ = _slurm_versions()
            if version == host:
                cluster = SlurmCluster(nodes=nodes)
            else:
                cluster = RootfsSlurmCluster(nodes, suite=suite_of_version(version), binds=[self.basetemp])
            try:
                cluster.start()
            except Exception as e:
                self.errors[key] = f"{type(e).__name__}: {e}"
                raise
            self.clusters[key] = cluster
        return self.clusters[key]

    def stop(self) -> None:
        for cluster in self.clusters.values():
            cluster.stop()


_SESSION_CLUSTERS: list[SlurmClusters] = []


@pytest.fixture(scope="session")
def slurm_clusters(tmp_path_factory: pytest.TempPathFactory):
    clusters = SlurmClusters(tmp_path_factory.getbasetemp())
    _SESSION_CLUSTERS.append(clusters)
    try:
        yield clusters
    finally:
        clusters.stop()


@pytest.fixture
def slurm_version(request: pytest.FixtureRequest) -> str:
    """The Slurm version this test runs on, e.g. "22.05" (parametrized by pytest_generate_tests)."""
    return getattr(request, "param", None) or _slurm_versions()[0]


@pytest.fixture
def slurm(slurm_clusters: SlurmClusters, slurm_version: str):
    """One node of Slurm `slurm_version`."""
    return slurm_clusters.get(slurm_version, 1)


@pytest.fixture
def slurm2(slurm_clusters: SlurmClusters, slurm_version: str):
    """Two nodes of Slurm `slurm_version`."""
    return slurm_clusters.get(slurm_version, 2)


_OUTCOMES: dict[str, dict[str, int]] = {}
_NODE_VERSIONS: dict[str, str] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "slurm_version" in callspec.params:
            _NODE_VERSIONS[item.nodeid] = callspec.params["slurm_version"]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    version = _NODE_VERSIONS.get(report.nodeid)
    if version is None:
        return
    counts = _OUTCOMES.setdefault(version, {"passed": 0, "failed": 0, "error": 0, "skipped": 0, "seconds": 0.0})
    counts["seconds"] += report.duration
    if report.when == "call":
        counts["passed" if report.passed else "skipped" if report.skipped else "failed"] += 1
    elif report.failed:
        counts["error"] += 1
    elif report.skipped and report.when == "setup":
        counts["skipped"] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _OUTCOMES and not any(c.clusters or c.errors for c in _SESSION_CLUSTERS):
        return
    tr = terminalreporter
    tr.section("Slurm versions")
    for clusters in _SESSION_CLUSTERS:
        for (version, nodes), cluster in clusters.clusters.items():
            extra = ""
            rootfs = getattr(cluster, "rootfs", None)
            if rootfs is not None:
                from harness.rootfs import rootfs_info

                info = rootfs_info(rootfs)
                extra = (
                    f"; root filesystem ready in {cluster.rootfs_seconds:.1f} s (built in "
                    f"{info.get('build_seconds')} s, {info.get('size_mb')} MB, {info.get('built_at')})"
                )
            tr.write_line(
                f"{version}, {nodes} node(s): {cluster.label}, started in {cluster.start_seconds or 0:.1f} s{extra}"
            )
        for (version, nodes), err in clusters.errors.items():
            tr.write_line(f"{version}, {nodes} node(s): COULD NOT BE BROUGHT UP: {err.splitlines()[0]}")
    for version, c in sorted(_OUTCOMES.items()):
        tr.write_line(
            f"Slurm {version}: {c['passed']} passed, {c['failed']} failed, {c['error']} errors, "
            f"{c['skipped']} skipped, {c['seconds']:.0f} s in these tests"
        )


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
