"""bfabric python_env under the real Slurm: the script provisions a uv environment (the real `uv` of the test
extras) from a pylock.toml naming a wheel the test builds (no network); each chunk's process runs in it.

Two jobs at once on the cluster share the cache: one environment is made, once (the flock works); a
`refresh: true` command leaves nothing behind.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from frontends.bfabric import pylock_fixture as fx

from jobc import compile_spec
from jobc.options import AppOptions, CompileOptions
from jobc.site import site_from_dict

from .jobc_run import shellcheck_bin

pytestmark = pytest.mark.slurm

WRITE = "import pathlib, sys; pathlib.Path(sys.argv[1], 'result.txt').write_text(sys.prefix)"


def spec() -> str:
    dispatch = {
        "type": "exec",
        "command": 'bash -c \'for n in 1 2; do mkdir -p "$2/c$n"; : > "$2/c$n/inputs.yml"; done\' d',
    }
    process = {
        "type": "python_env",
        "pylock": "lock/pylock.toml",
        "python_version": fx.PYTHON_VERSION,
        "command": f"python -c {json.dumps(WRITE)}",
    }
    collect = {
        "type": "python_env",
        "pylock": "lock/pylock.toml",
        "python_version": fx.PYTHON_VERSION,
        "command": "-m jobcdemo",
        "refresh": True,
    }
    return (
        f"versions:\n  - version: '1.0'\n    commands:\n      dispatch: {json.dumps(dispatch)}\n"
        f"      process: {json.dumps(process)}\n      collect: {json.dumps(collect)}\n"
    )


def compile_app(tmp_path: Path, work: Path, uv: Path) -> Path:
    app_dir = tmp_path / "app"
    fx.build(app_dir / "lock")
    (app_dir / "app.yaml").write_text(spec())
    site = site_from_dict({"paths": {"storage_root": str(tmp_path / "storage")}, "tools": {"uv": str(uv)}})
    options = CompileOptions(app=AppOptions(workunit_ref="1", work_dir=str(work)))
    script = work.parent / f"{work.name}.sh"
    script.write_text(compile_spec(spec(), name=str(app_dir / "app.yaml"), site=site, options=options).script)
    import subprocess

    sc = subprocess.run([shellcheck_bin(), "-x", str(script)], capture_output=True, text=True)
    assert sc.returncode == 0, sc.stdout + sc.stderr
    return script


def test_chunks_run_in_one_environment_made_once(slurm, tmp_path: Path) -> None:
    calls = tmp_path / "uv-calls"
    shim = tmp_path / "uv-shim"
    shim.write_text(f'#!/bin/bash\nprintf "%s\\n" "$1" >> {calls}\nsleep 1\nexec {fx.UV} "$@"\n')
    shim.chmod(0o755)
    scripts = [compile_app(tmp_path, tmp_path / f"work{n}", shim) for n in (1, 2)]
    env = fx.uv_env(tmp_path)
    results: dict[int, object] = {}

    def submit(n: int) -> None:
        results[n] = slurm.submit(scripts[n], timeout=240, env=env)

    threads = [threading.Thread(target=submit, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for res in results.values():
        assert res.returncode == 0, res
    envs = [p for p in (tmp_path / "cache/jobc/python-envs").iterdir() if p.is_dir() and p.name != "ephemeral"]
    assert len(envs) == 1 and (envs[0] / ".provisioned").exists()
    for n in (1, 2):
        for chunk in ("c1", "c2"):
            assert (tmp_path / f"work{n}" / chunk / "result.txt").read_text() == str(envs[0])
    # one cached environment made by one `uv venv`; the refresh collects (2 jobs x 2 chunks) make their own
    assert calls.read_text().split().count("venv") == 1 + 4
    assert list((tmp_path / "cache/jobc/python-envs/ephemeral").iterdir()) == []
    for res in results.values():
        assert res.output.count("module ") == 2 and "/ephemeral/env_" in res.output, res.output
