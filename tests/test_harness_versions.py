"""The Slurm-version plumbing of the test harness, offline: which suite the host is, the root filesystem's
cache key, and that a version that cannot be brought up fails its tests (never skips them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SlurmClusters
from harness.cluster import HarnessError
from harness.rootfs import ROOTFS_PACKAGES, SUITES, ensure_rootfs, host_suite, rootfs_key, suite_of_version


@pytest.mark.parametrize(
    "debian_version, suite",
    [("12.11", "bookworm"), ("12.0\n", "bookworm"), ("13.1", "trixie"), ("trixie/sid", "trixie")],
)
def test_host_suite_from_debian_version(debian_version, suite):
    assert host_suite(debian_version, slurm_package="") == suite


@pytest.mark.parametrize("package, suite", [("22.05.8-4+deb12u3", "bookworm"), ("24.11.5-1", "trixie")])
def test_host_suite_from_the_slurm_package_when_debian_version_says_nothing(package, suite):
    assert host_suite("", slurm_package=package) == suite


def test_unknown_host_is_an_error_not_a_guess():
    with pytest.raises(HarnessError, match="cannot tell"):
        host_suite("11.9", slurm_package="20.11.7")


def test_each_suite_ships_its_slurm():
    assert {suite_of_version(v) for _, v in SUITES.values()} == set(SUITES)
    with pytest.raises(HarnessError):
        suite_of_version("23.02")


def test_rootfs_key_changes_with_the_package_list_and_suite():
    key = rootfs_key("trixie")
    assert key.startswith("trixie-") and key == rootfs_key("trixie", tuple(reversed(ROOTFS_PACKAGES)))
    assert rootfs_key("trixie", (*ROOTFS_PACKAGES, "jq")) != key
    assert rootfs_key("bookworm") != key


def test_unknown_suite_cannot_be_built():
    with pytest.raises(HarnessError, match="unknown Debian suite"):
        ensure_rootfs("sid")


def test_a_cluster_that_cannot_start_fails_every_test_that_needs_it(tmp_path: Path):
    clusters = SlurmClusters(tmp_path)
    clusters.errors[("99.99", 1)] = "HarnessError: mmdebstrap failed"
    with pytest.raises(HarnessError, match="could not be brought up earlier:\nHarnessError: mmdebstrap failed"):
        clusters.get("99.99", 1)
