"""A regular (non-editable) install works: the wheel ships the templates, and its CLI compiles an example.

The test suite itself runs the checkout's code (an editable install), so this is the one test of what
users install. The wheel is built from a copy of the tracked files, so no build output lands in the tree.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import EXAMPLES, GOLDEN, REPO
from support import copy_tracked_files


def test_the_test_suite_runs_the_checkout() -> None:
    import jobc

    assert Path(jobc.__file__).resolve().parent == REPO / "compiler"


def test_no_build_output_in_the_tree() -> None:
    assert not (REPO / "build" / "lib").exists(), "stale build/lib: remove it, the tests run the checkout"


def test_wheel_ships_the_templates_and_compiles(tmp_path: Path) -> None:
    source = copy_tracked_files(tmp_path / "src")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = wheels.glob("jobc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    templates = sorted(p.name for p in (REPO / "templates").glob("*.j2"))
    assert templates and all(f"jobc/templates/{t}" in names for t in templates), names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # The dependencies are the test environment's (a directory on sys.path: its own .pth files, the
    # editable jobc's among them, are not read there).
    site_packages = subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "jinja2").is_dir())
    Path(site_packages, "jobc-test-deps.pth").write_text(deps + "\n")
    example = EXAMPLES / "reference-job-minimal.json"
    out = subprocess.run(
        [venv / "bin" / "jobc", "compile", str(example)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == (GOLDEN / f"{example.name}.sh").read_text(encoding="utf-8")
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import jobc; print(jobc.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv)), where
