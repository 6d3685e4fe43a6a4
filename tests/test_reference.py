"""docs/reference.md is what `python -m jobc.reference` prints, and it documents every field of both spec kinds."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jobc import reference_examples, schema
from jobc.frontends.bfabric.models import AppSpec, AppVersionMultiTemplate
from jobc.frontends.deepsquare_models import Job
from tests.conftest import REPO

REFERENCE = REPO / "docs" / "reference.md"


@pytest.fixture(scope="module")
def printed() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "jobc.reference"], capture_output=True, text=True, encoding="utf-8", timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_committed_reference_is_current(printed: str) -> None:
    assert REFERENCE.read_text(encoding="utf-8") == printed, (
        "docs/reference.md is stale: run `python -m jobc.reference > docs/reference.md`"
    )


@pytest.mark.parametrize(
    "roots, examples", [([Job], reference_examples.JOB), ([AppSpec, AppVersionMultiTemplate], reference_examples.APP)]
)
def test_every_field_is_documented_with_a_fragment(printed: str, roots, examples) -> None:
    models = schema.models_of(roots)
    assert sorted(set(models) - set(examples)) == [], "give these models a tiny spec in reference_examples.py"
    for name, model in models.items():
        section = printed.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
        for field in model.model_fields:
            key = schema.property_name(model, field)
            assert f"\n#### `{key}`\n" in section, f"{name}.{key} is not in the reference"
            entry = section.split(f"\n#### `{key}`\n", 1)[1].split("\n#### ", 1)[0]
            assert "```json" in entry and "- type: " in entry and "- default: " in entry, f"{name}.{key}: {entry}"


def test_a_fragment_shows_the_script_lines_of_its_field(printed: str) -> None:
    shell = printed.split("\n#### `shell`\n", 1)[1].split("\n#### ", 1)[0]
    assert "/bin/bash -c 'echo hello'" in shell
    mode = printed.split("\n#### `inputMode`\n", 1)[1].split("\n#### ", 1)[0]
    assert 'chmod -R 755 "$DEEPSQUARE_INPUT"' in mode
