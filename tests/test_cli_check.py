"""`jobc compile --check` and `--diff`, and many specs in one process with `--out-dir`, as black and ruff do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_jobc

SPECS = ("parameter-sweep.yaml", "nested-loops.yaml", "reference-job-minimal.json")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name in SPECS:
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def compile_all(repo: Path, *extra: str):
    return run_jobc("compile", *SPECS, "--out-dir", "scripts", *extra, cwd=repo)


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def test_out_dir_writes_one_script_per_spec(repo: Path) -> None:
    result = compile_all(repo)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "scripts/parameter-sweep.sh",
        "scripts/nested-loops.sh",
        "scripts/reference-job-minimal.sh",
    ]
    for name in SPECS:
        alone = run_jobc("compile", name, cwd=repo).stdout
        assert (repo / "scripts" / (name.rsplit(".", 1)[0] + ".sh")).read_text() == alone


def test_check_passes_on_current_scripts_and_writes_nothing(repo: Path) -> None:
    compile_all(repo)
    before = snapshot(repo / "scripts")
    for flag in ("--check", "--diff"):
        result = compile_all(repo, flag)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert snapshot(repo / "scripts") == before


def test_check_reports_every_stale_and_missing_script(repo: Path) -> None:
    compile_all(repo)
    (repo / "scripts" / "nested-loops.sh").unlink()
    sweep = repo / "parameter-sweep.yaml"
    sweep.write_text(sweep.read_text().replace("0.01", "0.02"))
    before = snapshot(repo / "scripts")
    result = compile_all(repo, "--check")
    refresh = "jobc compile parameter-sweep.yaml nested-loops.yaml reference-job-minimal.json --out-dir scripts"
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"jobc: scripts/parameter-sweep.sh is not what jobc writes from its spec; refresh it with: {refresh}",
        f"jobc: scripts/nested-loops.sh is missing; refresh it with: {refresh}",
    ]
    assert snapshot(repo / "scripts") == before


def test_diff_prints_a_unified_diff_from_the_file_to_the_fresh_script(repo: Path) -> None:
    compile_all(repo)
    sweep = repo / "parameter-sweep.yaml"
    sweep.write_text(sweep.read_text().replace("0.01", "0.02"))
    result = compile_all(repo, "--diff")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[:2] == ["--- scripts/parameter-sweep.sh", "+++ scripts/parameter-sweep.sh (fresh)"]
    assert "-    for item in 0.1 0.01 0.001 1e-4; do" in lines
    assert "+    for item in 0.1 0.02 0.001 1e-4; do" in lines
    assert sum(1 for line in lines if line.startswith("--- ")) == 1


def test_a_file_differing_only_in_its_last_newline_is_stale(repo: Path) -> None:
    run_jobc("compile", "reference-job-minimal.json", "-o", "job.sh", cwd=repo)
    script = repo / "job.sh"
    script.write_text(script.read_text().rstrip("\n"))
    result = run_jobc("compile", "reference-job-minimal.json", "-o", "job.sh", "--diff", cwd=repo)
    assert result.returncode == 1
    assert result.stdout.endswith('\\ No newline at end of file\n+wait "$JOBC_STEPS"\n')
    assert run_jobc("compile", "reference-job-minimal.json", "-o", "job.sh", "--check", cwd=repo).returncode == 1


def test_check_with_one_output_file(repo: Path) -> None:
    assert run_jobc("compile", "nested-loops.yaml", "-o", "job.sh", cwd=repo).returncode == 0
    assert run_jobc("compile", "nested-loops.yaml", "-o", "job.sh", "--check", cwd=repo).returncode == 0
    result = run_jobc("compile", "parameter-sweep.yaml", "-o", "job.sh", "--check", cwd=repo)
    assert (result.returncode, result.stderr) == (
        1,
        "jobc: job.sh is not what jobc writes from its spec; refresh it "
        "with: jobc compile parameter-sweep.yaml -o job.sh\n",
    )


def test_an_invalid_spec_is_exit_2_and_the_others_are_still_checked(repo: Path) -> None:
    compile_all(repo)
    (repo / "nested-loops.yaml").write_text("resources: {tasks: 0}\nsteps: []\n")
    sweep = repo / "parameter-sweep.yaml"
    sweep.write_text(sweep.read_text().replace("0.01", "0.02"))
    result = compile_all(repo, "--check")
    assert result.returncode == 2
    assert "nested-loops.yaml:1:20: resources.tasks: must be at least 1 [E0301]" in result.stderr
    assert "jobc: scripts/parameter-sweep.sh is not what jobc writes from its spec" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("a.yaml", "b.yaml"), "jobc: 2 specs: give --out-dir DIR to write a script for each [E0603]\n"),
        (
            ("a.yaml", "b.yaml", "-o", "x.sh"),
            "jobc: -o x.sh: names one script, for one spec; use --out-dir for 2 specs [E0603]\n",
        ),
        (
            ("a.yaml", "--check"),
            "jobc: --check and --diff compare with the scripts written: give -o FILE or --out-dir DIR [E0603]\n",
        ),
        (("a.yaml", "-o", "x.sh", "--out-dir", "d"), "jobc: -o and --out-dir: give one of them [E0603]\n"),
        (
            ("-", "--out-dir", "d"),
            "jobc: --out-dir: standard input has no name to give its script; use -o FILE [E0603]\n",
        ),
        (
            ("a.yaml", "sub/a.json", "--out-dir", "d"),
            "jobc: --out-dir: a.yaml and sub/a.json would both write d/a.sh [E0603]\n",
        ),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    result = run_jobc("compile", *args, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message)
    assert list(tmp_path.iterdir()) == []
