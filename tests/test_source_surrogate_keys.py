"""A lone surrogate in a mapping key (JSON `"\\ud800"`, YAML `"\\ud800"`): a located, worded error with its field path.

Values with a lone surrogate are refused by the string fields (frontends/fields.py); a key never reaches a
field, so `source.load` refuses it, at the key's position, with the path of the mapping that holds it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import CliRunner

from jobc.cli import run as app
from jobc.diagnostics import SourceError
from jobc.source import load

RES = '"resources": {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 1, "gpusPerTask": 0}'
MESSAGE = "a key must be valid Unicode text (a lone surrogate such as \\ud800 is not)"


@pytest.mark.parametrize(
    "name, text, line",
    [
        ("top.json", "{" + RES + ', "steps": [], "\\udc00x": 1}', f"top.json:1:94: \\udc00x: {MESSAGE} [E0106]"),
        (
            "nested.json",
            "{" + RES + ',\n "steps": [{"name": "a", "run": {"command": "x", "\\ud800": 1}}]}',
            f"nested.json:2:50: steps[0].run.\\ud800: {MESSAGE} [E0106]",
        ),
        (
            "env.json",
            "{" + RES + ',\n "env": [{"key": "A", "value": "v"}], "steps": [{"run": {"command": "x",\n'
            '  "env": [{"ke\\udbffy": "A"}]}}]}',
            f"env.json:3:12: steps[0].run.env[0].ke\\udbffy: {MESSAGE} [E0106]",
        ),
        (
            "nested.yaml",
            "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1, gpusPerTask: 0}\nsteps:\n  - name: a\n"
            '    run: {command: x, "\\ud800": 1}\n',
            f"nested.yaml:4:23: steps[0].run.\\ud800: {MESSAGE} [E0106]",
        ),
        (
            "block.yaml",
            'resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1, gpusPerTask: 0}\nsteps: []\n"a\\udfffb": 1\n',
            f"block.yaml:3:1: a\\udfffb: {MESSAGE} [E0106]",
        ),
    ],
)
def test_lone_surrogate_in_a_key_is_located_with_its_field_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str, line: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(name).write_text(text)
    for command in ("validate", "compile"):
        result = CliRunner().invoke(app, [command, name])
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr == line + "\n"


def test_the_source_error_carries_the_path_and_the_position() -> None:
    with pytest.raises(SourceError) as caught:
        load('{"a": {"b\\ud800": 1}}', "json")
    (diag,) = caught.value.diagnostics
    assert diag.path == ("a", "b\\ud800") and diag.message == MESSAGE
    assert (caught.value.line, caught.value.col) == (1, 8)


def test_a_valid_surrogate_pair_in_a_key_is_an_ordinary_key() -> None:
    source = load('{"\\ud83d\\ude00": 1}', "json")
    assert source.data == {"\U0001f600": 1}
