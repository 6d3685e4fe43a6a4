"""The invalid specs under tests/ and examples/invalid/, written out as files for the schema validators.

Each is named after where it comes from: `examples-invalid/NAME`, `cases/NAME` (the annotated YAML cases),
`json-cases/ID.json` (the JSON table of tests/frontends/test_cases.py) and `bfabric/ID.yaml` (the app specs
of tests/frontends/bfabric/test_errors.py that are wrong in the file itself, not in a command-line flag).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import INVALID, REPO, specs_in

CASES = REPO / "tests" / "frontends" / "cases"


def job_specs(into: Path) -> dict[str, Path]:
    from tests.frontends.test_cases import JSON_CASES

    out: dict[str, Path] = {}
    for path in specs_in(INVALID):
        out[f"examples-invalid/{path.name}"] = path
    for path in specs_in(CASES):
        if "# E" in path.read_text(encoding="utf-8"):
            out[f"cases/{path.name}"] = path
    for param in JSON_CASES:
        text = param.values[0]
        target = into / f"json-{param.id}.json"
        target.write_text(text, encoding="utf-8")
        out[f"json-cases/{param.id}.json"] = target
    return out


def app_specs(into: Path) -> dict[str, Path]:
    from tests.frontends.bfabric.test_errors import CASES as APP_CASES

    out: dict[str, Path] = {}
    for name, text, flags, _ in APP_CASES:
        if flags:
            continue
        target = into / f"app-{name}.yaml"
        target.write_text(text, encoding="utf-8")
        out[f"bfabric/{name}.yaml"] = target
    return out
