"""The DeepSquare cache variables ($DEEPSQUARE_*_TMP): exported from the site profile, created where used."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import textwrap

from jobc import compile_spec
from jobc.site import Site, site_from_dict

SPEC = textwrap.dedent("""
    resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 100, gpus: 0}
    steps:
      - name: plain
        run: {command: "true"}
      - name: boxed
        run: {command: "true", container: {image: library/ubuntu:24.04}}
""")


def compile_with(site: Site) -> str:
    return compile_spec(SPEC, name="caches.yaml", site=site).script


def test_default_profile_exports_the_five_variables_for_a_plain_cluster():
    script = compile_with(Site())
    assert 'export DEEPSQUARE_SHARED_TMP="${HOME}/.jobc/cache"\n' in script
    assert 'export DEEPSQUARE_TMP="$DEEPSQUARE_SHARED_TMP"\n' in script
    assert 'export DEEPSQUARE_SHARED_WORLD_TMP="${HOME}/.jobc/world-cache"\n' in script
    assert 'export DEEPSQUARE_DISK_TMP="/tmp/jobc-cache-${UID}"\n' in script
    assert 'export DEEPSQUARE_DISK_WORLD_TMP="/tmp/jobc-world-cache"\n' in script


def test_profile_paths_set_the_variables():
    site = site_from_dict(
        {
            "paths": {
                "shared_tmp": "/lustre/cache/${USER}",
                "shared_world_tmp": "/lustre/world",
                "disk_tmp": "/scratch/$x",
                "disk_world_tmp": "/scratch/world",
            }
        }
    )
    script = compile_with(site)
    assert 'export DEEPSQUARE_SHARED_TMP="/lustre/cache/${USER}"\n' in script
    assert 'export DEEPSQUARE_SHARED_WORLD_TMP="/lustre/world"\n' in script
    assert 'export DEEPSQUARE_DISK_TMP="/scratch/\\$x"\n' in script  # only ${NAME} expands
    assert 'export DEEPSQUARE_DISK_WORLD_TMP="/scratch/world"\n' in script


def test_batch_script_and_each_task_create_the_caches():
    script = compile_with(Site())
    running = script.split("# ---- running the job", 1)[1]
    assert "\njobc_make_caches\n" in running
    task = re.search(r"\njobc_task\(\) \{\n(.*?)\n\}\n", script, re.S).group(1)
    assert "  jobc_make_caches\n" in task
    assert "export -f jobc_task jobc_make_caches\n" in script


def test_make_caches_creates_private_and_shared_directories(tmp_path):
    script = compile_with(Site())
    function = re.search(r"\njobc_make_caches\(\) \{\n.*?\n\}\n", script, re.S).group(0)
    dirs = {name: tmp_path / "a" / name.lower() for name in ("SHARED", "SHARED_WORLD", "DISK", "DISK_WORLD")}
    env = {**os.environ, **{f"DEEPSQUARE_{name}_TMP": str(path) for name, path in dirs.items()}}
    run = subprocess.run(
        ["bash", "-c", f"set -euo pipefail; umask 022; {function}\njobc_make_caches; jobc_make_caches"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and run.stderr == "", run
    modes = {name: stat.S_IMODE(path.stat().st_mode) for name, path in dirs.items()}
    assert modes == {"SHARED": 0o700, "SHARED_WORLD": 0o1777, "DISK": 0o700, "DISK_WORLD": 0o1777}


def test_make_caches_failure_warns_and_does_not_fail(tmp_path):
    script = compile_with(Site())
    function = re.search(r"\njobc_make_caches\(\) \{\n.*?\n\}\n", script, re.S).group(0)
    (tmp_path / "file").write_text("")
    env = {**os.environ, **{f"DEEPSQUARE_{n}_TMP": str(tmp_path / "file" / "x") for n in ("SHARED", "DISK")}}
    env |= {f"DEEPSQUARE_{n}_TMP": str(tmp_path / n) for n in ("SHARED_WORLD", "DISK_WORLD")}
    run = subprocess.run(
        ["bash", "-c", f"set -euo pipefail; {function}\njobc_make_caches; echo after"],
        env={**env, "SLURMD_NODENAME": "node7"},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and run.stdout == "after\n", run
    assert "jobc: cannot create the cache directories ($DEEPSQUARE_*_TMP) on node7" in run.stderr
