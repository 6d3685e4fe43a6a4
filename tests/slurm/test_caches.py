"""The DeepSquare cache variables in real Slurm steps: shared between steps, and kept after the job."""

from __future__ import annotations

import pytest

from .jobc_run import run_job

pytestmark = pytest.mark.slurm


def test_steps_share_the_caches_and_they_outlive_the_job(slurm, tmp_path):
    caches = tmp_path / "caches"  # site_profile's cache paths
    ran = run_job(
        slurm,
        tmp_path,
        """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 100, gpus: 0}
        steps:
          - name: write
            run:
              command: |
                echo tmp > "$DEEPSQUARE_TMP/a"
                echo shared > "$DEEPSQUARE_SHARED_TMP/b"
                echo disk > "$DEEPSQUARE_DISK_TMP/c"
          - name: read
            run:
              command: |
                cat "$DEEPSQUARE_SHARED_TMP/a" "$DEEPSQUARE_TMP/b" "$DEEPSQUARE_DISK_TMP/c" > "$OUT/read"
                stat -c %a "$DEEPSQUARE_SHARED_WORLD_TMP" "$DEEPSQUARE_DISK_WORLD_TMP" > "$OUT/modes"
        """,
    )
    assert ran.rc == 0, ran
    assert ran.read("read") == "tmp\nshared\ndisk\n"
    assert ran.read("modes") == "1777\n1777\n"
    # The grid removes only the job's storage; its caches are cleared by the provider's policy.
    assert not (ran.storage / ".jobc").exists()
    assert (caches / "shared_tmp" / "a").read_text() == "tmp\n"
    assert (caches / "disk_tmp" / "c").read_text() == "disk\n"
