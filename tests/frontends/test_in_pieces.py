"""A job validated and lowered a top-level step at a time (`deepsquare._in_pieces`) is the job validated whole.

The pieces keep a large job's models from all existing at once; they must change nothing else: every example
compiles to the same script, and every mutated spec of the robustness tests gives the same diagnostics (the
pieces give up at the first problem, and the job is validated whole).
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from jobc import compile_spec
from jobc.diagnostics import SpecError
from jobc.frontends import deepsquare

from .test_robustness import BAD_VALUES, BASE, paths, replaced

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
JOBS = sorted(p for p in EXAMPLES.glob("*.*") if p.suffix in (".yaml", ".json"))


def outcome(text: str, name: str) -> Any:
    """The script, or every diagnostic as the CLI would locate it."""
    try:
        return compile_spec(text, name=name).script
    except SpecError as exc:
        smap = exc.source_map
        return [(d.text(), d.path, d.hint, smap.locate(d.path) if smap else None) for d in exc.diagnostics]


def both(text: str, name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    in_pieces = outcome(text, name)
    with monkeypatch.context() as whole:
        whole.setattr(deepsquare, "_in_pieces", lambda data, context: None)
        return in_pieces, outcome(text, name)


def test_the_pieces_are_taken() -> None:
    data = json.loads(json.dumps(BASE))
    lowered = deepsquare._in_pieces(data, dict(spec_name="job.json", offline=True, cache_root=None))
    assert lowered is not None and len(lowered[2]) == len(data["steps"])


@pytest.mark.parametrize("spec", JOBS, ids=lambda p: p.name)
def test_every_example_compiles_to_the_same_script(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_pieces, whole = both(spec.read_text(encoding="utf-8"), str(spec), monkeypatch)
    assert in_pieces == whole


def test_mutated_specs_give_the_same_diagnostics(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(20261202)
    all_paths = [p for p in paths(BASE) if p]
    seen = 0
    for _ in range(250):
        data = BASE
        for _ in range(rng.randint(1, 3)):
            path = rng.choice([p for p in paths(data) if p] or all_paths)
            try:
                if rng.random() < 0.7:
                    data = replaced(data, path, rng.choice(BAD_VALUES))
                else:
                    donor = rng.choice(all_paths)
                    piece = BASE
                    for part in donor:
                        piece = piece[part]
                    data = replaced(data, path, copy.deepcopy(piece))
            except (KeyError, IndexError, TypeError):
                continue
        in_pieces, whole = both(json.dumps(data, indent=1), "fuzz.json", monkeypatch)
        assert in_pieces == whole, data
        seen += isinstance(whole, list)
    assert seen > 100  # most mutations are invalid: the fallback is what is compared
