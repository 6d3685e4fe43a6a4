"""The `jobc` command keeps Python's cyclic collector off for one spec, and on between several."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from jobc.cli_commands import _one_by_one

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _states(specs: list[str]) -> tuple[list[bool], bool]:
    seen = [gc.isenabled() for _ in _one_by_one(specs)]
    return seen, gc.isenabled()


@pytest.fixture
def collector_off():
    was = gc.isenabled()
    gc.disable()
    yield
    if was:
        gc.enable()


def test_off_stays_off_for_one_spec(collector_off) -> None:
    assert _states(["a.yaml"]) == ([False], False)


def test_off_is_on_from_the_second_spec_and_off_again_after(collector_off) -> None:
    assert _states(["a.yaml", "b.yaml", "c.yaml"]) == ([False, True, True], False)


def test_on_is_left_on() -> None:
    assert gc.isenabled()
    assert _states(["a.yaml", "b.yaml"]) == ([True, True], True)


@pytest.mark.parametrize("count", [1, 2])
def test_the_command_ends_with_the_collector_off_and_turned_on_only_between_specs(count: int, tmp_path: Path) -> None:
    """The console script: one spec is compiled without ever a collector pass; two have one between them."""
    spec = str(EXAMPLES / "reference-job-minimal.json")
    probe = (
        "import gc, sys\n"
        "from jobc.cli import command\n"
        "passes = []\n"
        "gc.callbacks.append(lambda phase, info: passes.append(phase))\n"
        f"sys.argv = ['jobc', 'compile', '--out-dir', 'out', *[{spec!r}] * 1, *[{str(EXAMPLES / 'gpu-training.yaml')!r}] * {count - 1}]\n"
        "code = command(sys.argv[1:])\n"
        "assert not code, code\n"
        "print(gc.isenabled(), bool(passes), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "reference-job-minimal.sh" in {p.name for p in (tmp_path / "out").iterdir()}
    assert proc.stderr.strip().splitlines()[-1] == ("False False" if count == 1 else "False True")
