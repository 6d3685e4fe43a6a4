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
from jobc.diagnostics import format_path, split_path
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
    for flag, value in zip(args[::2], args[1::2]):
        if flag in APP_FLAGS:
            given[APP_FLAGS[flag]] = int(value) if flag == "--app-id" else value
    return CompileOptions(app=AppOptions(**given))


CASES = [(p, CompileOptions()) for p in valid_examples()] + [
    (p, app_options(p)) for p in sorted((EXAMPLES / "bfabric").glob("*.yaml"))
]


@pytest.mark.parametrize("example, options", CASES, ids=[p.relative_to(EXAMPLES).as_posix() for p, _ in CASES])
def test_step_comments_point_at_the_step_in_the_spec(example: Path, options: CompileOptions) -> None:
    """A step of a module (DeepSquare `use`) names its line in the module's file, relative to the spec's."""
    text = example.read_text(encoding="utf-8")
    source = load(text, guess_format(example.name, text))
    job = data_to_ir(source.data, name=str(example), options=options)

    def where(step) -> tuple[str, object, tuple]:
        module, inside = split_path(step.path)[-1]
        return (module.script_name, module.source_map, inside) if module else (example.name, source.source_map, inside)

    expected = {}
    for step in ir.walk(job.steps):
        file, smap, inside = where(step)
        line, _ = smap.locate(inside, key=True)
        expected[(file, format_path(step.path))] = (step.name, line)
    golden = GOLDEN / example.relative_to(EXAMPLES).with_suffix(example.suffix + ".sh")
    found = {}
    for script_line in golden.read_text(encoding="utf-8").splitlines():
        match = COMMENT.match(script_line)
        if match:
            path, name, file, line = match.groups()
            found[(file, path)] = (name, int(line))
    assert found == expected
    for step in ir.walk(job.steps):
        file, _, inside = where(step)
        name, line = found[(file, format_path(step.path))]
        held = (example.parent / file).read_text(encoding="utf-8").splitlines()[line - 1].lstrip()
        key = inside[-1]
        # the line names the step, starts its list item or object (a module's `{{ … | toYaml }}` splicing the
        # use's own steps too), or is the key the step is written under
        assert (name or "") in held or held.startswith(("-", "{")) or held.startswith(f"{key}:"), (step.path, held)
