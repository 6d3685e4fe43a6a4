"""Every step comment of every golden script names its spec position: `# steps[1] "train" (gpu-training.yaml:27)`.

Checked against the source map of the spec (not against the compiler's own output): the line is the one
where the step's mapping starts in the file, for every step of the IR, in both spec kinds.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from conftest import EXAMPLES, GOLDEN, valid_examples

from jobc import ir
from jobc.diagnostics import format_path
from jobc.frontends import data_to_ir
from jobc.options import AppOptions, CompileOptions
from jobc.source import guess_format, load

COMMENT = re.compile(r'^\s*# ((?:steps|versions)\S*)(?: "(.*)")? \((\S+):(\d+)\)$')
APP_FLAGS = {
    "--app-version": "app_version",
    "--app-id": "app_id",
    "--app-name": "app_name",
    "--workunit-ref": "workunit_ref",
    "--work-dir": "work_dir",
    "--container-runtime": "container_runtime",
}


def app_options(example: Path) -> CompileOptions:
    args = shlex.split(example.read_text(encoding="utf-8").splitlines()[1][2:])[3:]
    given = {}
    for flag, value in zip(args[::2], args[1::2], strict=False):
        if flag in APP_FLAGS:
            given[APP_FLAGS[flag]] = int(value) if flag == "--app-id" else value
    return CompileOptions(app=AppOptions(**given))


CASES = [(p, CompileOptions()) for p in valid_examples()] + [
    (p, app_options(p)) for p in sorted((EXAMPLES / "bfabric").glob("*.yaml"))
]


@pytest.mark.parametrize("example, options", CASES, ids=[p.relative_to(EXAMPLES).as_posix() for p, _ in CASES])
def test_step_comments_point_at_the_step_in_the_spec(example: Path, options: CompileOptions) -> None:
    text = example.read_text(encoding="utf-8")
    source = load(text, guess_format(example.name, text))
    job = data_to_ir(source.data, name=example.name, options=options)
    expected = {}
    for step in ir.walk(job.steps):
        line, _ = source.source_map.locate(step.path, key=True)
        expected[format_path(step.path)] = (step.name, example.name, line)
    golden = GOLDEN / example.relative_to(EXAMPLES).with_suffix(example.suffix + ".sh")
    found = {}
    for script_line in golden.read_text(encoding="utf-8").splitlines():
        match = COMMENT.match(script_line)
        if match:
            path, name, file, line = match.groups()
            found[path] = (name, file, int(line))
    assert found == expected
    spec_lines = text.splitlines()
    for step in ir.walk(job.steps):
        name, _, line = found[format_path(step.path)]
        held = spec_lines[line - 1].lstrip()
        key = step.path[-1]
        # the line names the step, starts its list item or object, or is the key the step is written under
        assert (name or "") in held or held.startswith(("-", "{")) or held.startswith(f"{key}:"), (step.path, held)
