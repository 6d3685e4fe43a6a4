"""The bfabric app examples of examples/bfabric/: golden scripts, and every one passes ShellCheck.

Each example's second line is the command that compiles it (`# jobc compile NAME FLAGS`); the test runs
exactly that from examples/bfabric/ and compares the script with golden/bfabric/<example>.sh, kept with
syrupy like the job examples' golden scripts (`pytest --snapshot-update` rewrites them).
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from support import golden_files, shellcheck_binary

from jobc import compile_spec
from jobc.frontends.bfabric.settings import load_submitters
from jobc.options import AppOptions, CompileOptions
from jobc.site import Site

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "bfabric"
GOLDEN = REPO / "golden" / "bfabric"
TEST = "test_bfabric_golden"
APP_EXAMPLES = sorted(EXAMPLES.glob("*.yaml"))


def compile_line(example: Path) -> list[str]:
    line = example.read_text(encoding="utf-8").splitlines()[1]
    assert line.startswith(f"# jobc compile {example.name}"), f"{example.name}: line 2 must be the compile command"
    return shlex.split(line[2:])[1:]


@pytest.fixture
def golden(snapshot):
    return snapshot.use_extension(golden_files(GOLDEN, TEST, "example"))


def run_jobc(args: list[str]) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if k != "JOBC_SITE"}
    return subprocess.run(
        [sys.executable, "-m", "jobc", *args], cwd=EXAMPLES, capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize("example", APP_EXAMPLES, ids=[p.name for p in APP_EXAMPLES])
def test_bfabric_golden(example: Path, golden) -> None:
    result = run_jobc(compile_line(example))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == golden


@pytest.mark.parametrize("example", APP_EXAMPLES, ids=[p.name for p in APP_EXAMPLES])
def test_golden_script_passes_shellcheck(example: Path) -> None:
    script = GOLDEN / f"{example.name}.sh"
    result = subprocess.run(
        [str(shellcheck_binary()), "--shell=bash", "--severity=style", "--format=gcc", "--norc", script.name],
        cwd=GOLDEN,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_examples_cover_the_issue() -> None:
    """A single version string, a version list, shell and docker commands, every docker field, both runtimes."""
    text = {p.name: p.read_text(encoding="utf-8") for p in APP_EXAMPLES}
    assert 'version: "1.0.0"' in text["single-version-shell.yaml"]
    assert 'version: ["2.0.0", "2.1.0"]' in text["version-list-docker.yaml"]
    every = text["docker-every-field.yaml"]
    for name in (
        "image",
        "command",
        "entrypoint",
        "engine",
        "env",
        "mac_address",
        "mounts",
        "work_dir_target",
        "read_only",
        "writeable",
        "share_bfabric_config",
        "hostname",
        "custom_args",
    ):
        assert f"{name}:" in every, name
    assert "--container-runtime apptainer" in text["docker-via-apptainer.yaml"]
    assert "--container-runtime enroot" in text["docker-via-enroot.yaml"]


def test_in_process_compile_matches_golden() -> None:
    """`jobc.compile_spec` with the same options gives the same bytes as the CLI."""
    example = EXAMPLES / "version-list-docker.yaml"
    options = CompileOptions(
        app=AppOptions(app_version="2.1.0", app_id=314, app_name="Protein Quant", workunit_ref="90210")
    )
    script = compile_spec(example.read_text(encoding="utf-8"), name=example.name, site=Site(), options=options).script
    assert script == (GOLDEN / f"{example.name}.sh").read_text(encoding="utf-8")


def test_submitters_example_is_valid() -> None:
    submitters = load_submitters((EXAMPLES / "submitters.yml").read_text(encoding="utf-8"), "submitters.yml")
    assert set(submitters) == {"slurm", "gpu-queue"}
