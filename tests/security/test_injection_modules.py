"""Hostile strings in the fields of DeepSquare modules (`use`): args values, input defaults, the module's name
and description, its steps' names and commands, and the values its steps publish as outputs. The job is
compiled, then RUN by real bash with the recording shims (as in test_injection.py): each value arrives
byte-exact and no canary fires. `{{` is taken out of the values: it starts a template action in a module
file (docs/modules.md), which jobc refuses when it is not one it supports.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings

from jobc import compile_spec
from jobc.diagnostics import SpecError

from .conftest import CASES, profile
from .hostile import HOSTILE, check_canaries, no
from .test_injection import RESOURCES, Run, compile_or_reject

value = HOSTILE.map(lambda s: s.replace("{{", "{ {").replace("}}", "} }"))
line_value = value.map(lambda s: no("\n\r", s))  # a $DEEPSQUARE_ENV line holds one line


def as_yaml(data) -> str:
    """JSON, which YAML reads, with non-ASCII written as itself (YAML would read a surrogate pair's escapes as two
    lone surrogates) except the characters YAML does not allow raw (C1 controls), which stay escaped."""
    return re.sub("[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, ensure_ascii=False))


@pytest.fixture(name="new_run")
def _new_run():
    """Fresh run directories (as test_injection's fixture makes them), removed afterwards."""
    roots = []

    def make() -> Run:
        roots.append(Path(os.path.realpath(tempfile.mkdtemp(prefix="jobc-sec-"))))
        return Run(roots[-1])

    yield make
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


@hsettings(parent=profile(), max_examples=max(1, profile().max_examples // 2))
@given(who=value, how=value, published=line_value, name=value, description=value, step_name=value)
def test_module_fields(new_run, who, how, published, name, description, step_name):
    run = new_run()
    module = {
        "name": name,
        "description": description,
        "inputs": [{"key": "WHO", "description": description}, {"key": "HOW", "default": how}, {"key": "VALUE"}],
        "outputs": [{"key": "OUT", "description": description}],
        "steps": [
            {"name": step_name, "run": {"command": run.probe_cmd("module"), "shell": "/bin/bash"}},
            {"run": {"command": """printf 'OUT=%s\\n' "$VALUE" >> "$DEEPSQUARE_ENV\"""", "shell": "/bin/bash"}},
        ],
    }
    (run.root / "mod").mkdir()
    (run.root / "mod" / "module.yaml").write_text(as_yaml(module), encoding="utf-8")
    spec = {
        "resources": RESOURCES,
        "steps": [
            {
                "name": step_name,
                "use": {
                    "source": "./mod",
                    "args": [{"key": "WHO", "value": who}, {"key": "VALUE", "value": published}],
                    "exportEnvAs": "P",
                },
            },
            {"name": "after", "run": {"command": run.probe_cmd("after")}},
        ],
    }
    script = compile_or_reject(json.dumps(spec), 6, name=str(run.root / "job.json"), site=run.site())
    if script is None:
        return
    run.execute(script)
    check_canaries()
    run.check_ok()
    [inside] = run.probe("module")
    assert inside["env"]["WHO"] == who and inside["env"]["HOW"] == how
    [after] = run.probe("after")
    assert after["env"]["P_OUT"] == published
    assert "OUT" not in after["env"] and "WHO" not in after["env"]
    CASES.add(6)


@pytest.mark.parametrize("prefix", ["P; touch x", "$(id)", "P\nQ", "1P", "P-Q", ""])
def test_hostile_export_env_as_is_refused(tmp_path, prefix):
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "module.yaml").write_text("name: m\noutputs: [{key: OUT}]\nsteps: [{name: s}]\n")
    spec = {"resources": RESOURCES, "steps": [{"use": {"source": "./mod", "exportEnvAs": prefix}}]}
    with pytest.raises(SpecError) as caught:
        compile_spec(json.dumps(spec), name=str(tmp_path / "job.json"))
    assert [d.path for d in caught.value.diagnostics] == [("steps", 0, "use", "exportEnvAs")]
