"""An example app spec of the current format runs as written under the real Slurm: examples/bfabric/exec-hello.yaml.

Its exec commands find their programs through `prepend_paths` relative to the spec's directory, get their
`env`, and run without a shell; dispatch makes two chunks, process and collect run once per chunk.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES

from jobc import compile_spec
from jobc.options import AppOptions, CompileOptions

from .jobc_run import shellcheck_bin, site_profile

pytestmark = pytest.mark.slurm


def test_exec_hello_runs_as_written(slurm, tmp_path: Path) -> None:
    example = EXAMPLES / "bfabric" / "exec-hello.yaml"
    work = tmp_path / "work"
    options = CompileOptions(app=AppOptions(app_id=3, app_name="hello", workunit_ref="42", work_dir=str(work)))
    script = tmp_path / "job.sh"
    script.write_text(
        compile_spec(example.read_text(), name=str(example), site=site_profile(tmp_path), options=options).script
    )
    sc = subprocess.run([shellcheck_bin(), "-x", str(script)], capture_output=True, text=True)
    assert sc.returncode == 0, sc.stdout + sc.stderr
    res = slurm.submit(script, timeout=120)
    assert res.returncode == 0, res.output
    assert (work / "chunk1" / "inputs.yml").read_text() == "workunit: 42\nchunk: 1\n"
    assert (work / "results.txt").read_text() == "hello, hello 1.0 from chunk 1\nhello, hello 1.0 from chunk 2\n"
