"""The committed schemas (docs/schema/) in the Node tools editors and CI use: ajv in strict mode, and
yaml-language-server (VS Code's and Neovim's YAML support) driven over its stdio LSP protocol.

tests/run.sh installs both into build/node/ (`npm ci` from tests/node/package-lock.json). When they are
missing these tests fail, never skip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO
from tests.lsp import LanguageServer

SCHEMAS = {"job": REPO / "docs" / "schema" / "job.schema.json", "app": REPO / "docs" / "schema" / "app.schema.json"}
NODE_MODULES = REPO / "build" / "node" / "node_modules"
NOT_INSTALLED = "not installed: run `bash tests/run.sh` (it runs npm ci into build/node/)"


def _node_tool(relative: str) -> str:
    path = NODE_MODULES / relative
    assert path.exists(), f"{path} {NOT_INSTALLED}"
    return str(path)


def _ajv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_node_tool(".bin/ajv"), *args, "--spec=draft2020", "--strict=true"],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("kind", ["job", "app"])
def test_ajv_strict_compiles_the_schema(kind: str) -> None:
    result = _ajv("compile", "-s", str(SCHEMAS[kind]))
    assert result.returncode == 0 and "is valid" in result.stdout, result.stdout + result.stderr
    assert "strict mode" not in result.stdout + result.stderr


def test_ajv_validates_examples_and_refuses_an_invalid_spec() -> None:
    good = _ajv("validate", "-s", str(SCHEMAS["job"]), "-d", str(EXAMPLES / "gpu-training.yaml"))
    assert good.returncode == 0, good.stdout + good.stderr
    apps = _ajv("validate", "-s", str(SCHEMAS["app"]), "-d", str(EXAMPLES / "bfabric" / "version-list-docker.yaml"))
    assert apps.returncode == 0, apps.stdout + apps.stderr
    bad = _ajv("validate", "-s", str(SCHEMAS["job"]), "-d", str(EXAMPLES / "invalid" / "bad-shell.yaml"))
    assert bad.returncode != 0 and "must be equal to one of the allowed values" in bad.stdout + bad.stderr


@pytest.fixture(scope="module")
def yaml_language_server(tmp_path_factory: pytest.TempPathFactory):
    node = shutil.which("node")
    assert node, f"node {NOT_INSTALLED}"
    server = LanguageServer(
        [node, _node_tool("yaml-language-server/bin/yaml-language-server"), "--stdio"],
        {"yaml": {"validate": True, "schemaStore": {"enable": False}}},
    )
    server.start(tmp_path_factory.mktemp("workspace"))
    yield server
    server.close()


def _with_modeline(kind: str, body: str) -> str:
    """The first line the docs tell users to write, naming the schema file."""
    return f"# yaml-language-server: $schema={SCHEMAS[kind].as_uri()}\n{body}"


WRONG_JOB = """\
resources:
  tasks: 0
  cpusPerTask: 1
  memPerCpu: 1024
  gpusPerTask: 0
steps:
  - name: typo
    run:
      comand: echo hello
"""


def test_yaml_language_server_reports_a_wrong_job_at_its_lines(yaml_language_server, tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    diagnostics = yaml_language_server.diagnostics(path, _with_modeline("job", WRONG_JOB))
    found = {(d["range"]["start"]["line"] + 1, d["message"]) for d in diagnostics}  # LSP lines count from 0
    assert (3, "Value is below the minimum of 1.") in found, found  # tasks: 0 (line 3 with the modeline)
    assert (10, "Property comand is not allowed.") in found, found
    assert all(d["severity"] == 1 for d in diagnostics)


def test_yaml_language_server_reports_a_wrong_app_version(yaml_language_server, tmp_path: Path) -> None:
    text = (EXAMPLES / "bfabric" / "single-version-shell.yaml").read_text(encoding="utf-8")
    wrong = text.replace("type: shell", "type: shel", 1)
    line = next(i for i, t in enumerate(_with_modeline("app", wrong).splitlines(), start=1) if "type: shel" in t)
    diagnostics = yaml_language_server.diagnostics(tmp_path / "app.yaml", _with_modeline("app", wrong))
    assert diagnostics and {d["range"]["start"]["line"] + 1 for d in diagnostics} & {line, line - 1}, diagnostics


@pytest.mark.parametrize(
    "kind, example",
    [("job", "gpu-training.yaml"), ("job", "loop-with-sidecar.yaml"), ("app", "bfabric/version-list-docker.yaml")],
)
def test_yaml_language_server_accepts_a_good_spec(yaml_language_server, kind, example, tmp_path: Path) -> None:
    text = (EXAMPLES / example).read_text(encoding="utf-8")
    name = Path(example).name
    spoilt = yaml_language_server.diagnostics(tmp_path / f"spoilt-{name}", _with_modeline(kind, text + "nosuch: 1\n"))
    assert [d["message"] for d in spoilt] == ["Property nosuch is not allowed."]  # the schema is loaded and used
    assert yaml_language_server.diagnostics(tmp_path / name, _with_modeline(kind, text)) == []
