"""`jobc schema` checked by real validators: check-jsonschema (Python), ajv in strict mode and yaml-language-server
(Node, installed by tests/run.sh into build/node/ from tests/node/package-lock.json).

These tests fail, never skip, when a tool is missing: run `bash tests/run.sh` (or `npm ci` in build/node/).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from jobc import schema as jobc_schema
from jobc.descriptions import APP as APP_DESCRIPTIONS
from jobc.descriptions import JOB as JOB_DESCRIPTIONS
from jobc.frontends.bfabric.models import AppSpec, AppVersionMultiTemplate
from jobc.frontends.deepsquare_models import Job, Step, StepFor
from tests.conftest import EXAMPLES, REPO, run_jobc, specs_in, valid_examples
from tests.schema_corpus import app_specs, job_specs

COMMITTED = {"job": REPO / "docs" / "schema" / "job.schema.json", "app": REPO / "docs" / "schema" / "app.schema.json"}
NODE_BIN = REPO / "build" / "node" / "node_modules" / ".bin"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")

# Invalid specs that the schema cannot flag, and why: they break a rule JSON Schema cannot state (a check across
# the whole job, a YAML reading, what Mako or shlex make of a string) or that the schema leaves to jobc.
NOT_EXPRESSIBLE = {
    "examples-invalid/step-too-big.yaml": "a step asking for more than the job's resources: arithmetic across fields",
    "cases/step_too_big.yaml": "a step asking for more than the job's resources: arithmetic across fields",
    "examples-invalid/unknown-depends-on.yaml": "dependsOn naming no earlier launch: a reference across steps",
    "cases/depends_on.yaml": "dependsOn naming no earlier launch: a reference across steps",
    "cases/dns_forms.yaml": "a comma-separated dns string with a bad address: the schema does not split strings",
    "cases/input_mode_octal.yaml": "0755 with a leading 0: a YAML reading, a plain number to a validator",
    "cases/nul_escape.yaml": "a NUL character in a string: a pattern on every string field would drown the rest",
    "json-cases/nul-escape.json": "a NUL character in a string: a pattern on every string field would drown the rest",
    "cases/vnet_undeclared.yaml": "a vnet naming no virtual network of the job: a reference across the job",
    "bfabric/exec-program-with-equals.yaml": "the first word of a shlex.split command: the schema does not split",
    "bfabric/shell-unbalanced-quote.yaml": "an unbalanced quote for shlex.split: the schema does not split",
    "bfabric/docker-command-unbalanced.yaml": "an unbalanced quote for shlex.split: the schema does not split",
    "bfabric/docker-hostname.yaml": "a host name after Mako substitution: the schema sees the text before it",
    "bfabric/submitter-newline.yaml": "what sbatch accepts in a directive: checked by jobc's directive rules",
    "bfabric/submitter-tab.yaml": "what sbatch accepts in a directive: checked by jobc's directive rules",
    "bfabric/submitter-backslash.yaml": "what sbatch accepts in a directive: checked by jobc's directive rules",
    "bfabric/submitter-both-quotes.yaml": "what sbatch accepts in a directive: checked by jobc's directive rules",
    "bfabric/submitter-empty-value.yaml": "what sbatch accepts in a directive: checked by jobc's directive rules",
    "bfabric/mako-unknown-name.yaml": "Mako templates: evaluated by jobc, text to a validator",
    "bfabric/mako-unknown-variable.yaml": "Mako templates: evaluated by jobc, text to a validator",
    "bfabric/mako-bare-name.yaml": "Mako templates: evaluated by jobc, text to a validator",
    "bfabric/mako-filter.yaml": "Mako templates: evaluated by jobc, text to a validator",
    "bfabric/mako-code.yaml": "Mako templates: evaluated by jobc, text to a validator",
    "bfabric/mako-unterminated.yaml": "Mako templates: evaluated by jobc, text to a validator",
    "bfabric/mako-in-submitter.yaml": "Mako templates: evaluated by jobc, text to a validator",
}


def _schema(kind: str) -> dict:
    return jobc_schema.job_schema() if kind == "job" else jobc_schema.app_schema()


def _tool(path: Path) -> str:
    assert path.exists(), f"{path.name} is not installed ({path}): run `bash tests/run.sh`, which installs it"
    return str(path)


def _check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool(CHECK_JSONSCHEMA), *args], capture_output=True, text=True, encoding="utf-8", timeout=300
    )


@pytest.mark.parametrize("kind", ["job", "app"])
def test_committed_schema_is_the_printed_one_and_deterministic(kind: str) -> None:
    """docs/schema/*.json are what `jobc schema` prints (regenerate: `jobc schema --kind job > docs/schema/job.schema.json`)."""
    first = run_jobc("schema", "--kind", kind)
    second = run_jobc("schema", "--kind", kind)
    assert first.returncode == 0 and first.stdout == second.stdout
    assert COMMITTED[kind].read_text(encoding="utf-8") == first.stdout, (
        f"{COMMITTED[kind]} is stale: run `jobc schema --kind {kind} > {COMMITTED[kind].relative_to(REPO)}`"
    )


def test_both_schemas_pass_the_metaschema() -> None:
    result = _check_jsonschema("--check-metaschema", *map(str, COMMITTED.values()))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("kind", ["job", "app"])
def test_every_example_is_valid(kind: str) -> None:
    examples = valid_examples() if kind == "job" else specs_in(EXAMPLES / "bfabric")
    examples = [p for p in examples if p.name != "submitters.yml"]  # the --submitter file, not an app spec
    assert len(examples) >= (15 if kind == "job" else 6)
    result = _check_jsonschema("--schemafile", str(COMMITTED[kind]), *map(str, examples))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("kind", ["job", "app"])
def test_every_expressible_invalid_spec_is_flagged(kind: str, tmp_path: Path) -> None:
    specs = job_specs(tmp_path) if kind == "job" else app_specs(tmp_path)
    assert len(specs) >= 50
    result = _check_jsonschema("-o", "json", "--schemafile", str(COMMITTED[kind]), *map(str, specs.values()))
    report = json.loads(result.stdout)
    flagged = {e["filename"] for e in report["errors"] + report.get("parse_errors", [])}
    passed = {name for name, path in specs.items() if str(path) not in flagged}
    listed = {name for name in NOT_EXPRESSIBLE if name in specs}
    assert (sorted(passed - listed), sorted(listed - passed)) == ([], []), (
        "first: flag these or list them in NOT_EXPRESSIBLE with the reason; "
        "second: the schema flags these now, take them off NOT_EXPRESSIBLE"
    )


def _fields(roots: list[type]) -> set[tuple[str, str]]:
    models = jobc_schema.models_of(roots)
    return {(name, jobc_schema.property_name(m, f)) for name, m in models.items() for f in m.model_fields}


@pytest.mark.parametrize(
    "roots, descriptions",
    [([Job], JOB_DESCRIPTIONS), ([AppSpec, AppVersionMultiTemplate], APP_DESCRIPTIONS)],
    ids=["job", "app"],
)
def test_every_field_has_a_description_and_every_description_a_field(roots, descriptions) -> None:
    """A new field needs its line in compiler/descriptions.py (the one source of schema and reference)."""
    fields = _fields(roots)
    described = {(model, field) for model, table in descriptions.items() for field in table if table[field].strip()}
    assert sorted(fields - described) == [], "fields without a description"
    assert sorted(described - fields) == [], "descriptions of no field"


@pytest.mark.parametrize("kind", ["job", "app"])
def test_every_property_carries_a_description_and_a_readable_title(kind: str) -> None:
    s = _schema(kind)
    count = 0
    for name, entry in [("(root)", s), *s["$defs"].items()]:
        for key, prop in entry.get("properties", {}).items():
            count += 1
            assert prop.get("description"), f"{name}.{key}: no description"
            humps = sum(c.isupper() for c in key[1:]) + key.count("_")
            assert len(prop["title"].split()) >= 1 + min(humps, 1), f"{name}.{key}: title {prop['title']!r}"
    assert count >= (70 if kind == "job" else 50)
    assert jobc_schema.title("targetPort") == "Target port"
    assert jobc_schema.title("dependsOn") == "Depends on"
    assert jobc_schema.title("cpusPerTask") == "CPUs per task"


def _no_pydantic_keywords(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        found += [k for k in ("ge", "le", "gt", "lt", "discriminator") if k in node and not isinstance(node[k], dict)]
        for value in node.values():
            found += _no_pydantic_keywords(value)
    elif isinstance(node, list):
        for value in node:
            found += _no_pydantic_keywords(value)
    return found


@pytest.mark.parametrize("kind", ["job", "app"])
def test_only_json_schema_keywords(kind: str) -> None:
    s = _schema(kind)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema" and s["$id"].startswith("urn:jobc:")
    assert _no_pydantic_keywords(s) == []


MINIMAL = {"resources": {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 1, "gpusPerTask": 0}, "steps": []}


def _job_valid(job: dict) -> bool:
    return jsonschema.Draft202012Validator(jobc_schema.job_schema()).is_valid(job)


def test_bounds_and_the_single_value_for_a_list() -> None:
    assert _job_valid(MINIMAL)
    assert not _job_valid({**MINIMAL, "resources": {**MINIMAL["resources"], "tasks": 0}})
    assert not _job_valid({**MINIMAL, "inputMode": 513})
    assert _job_valid({**MINIMAL, "env": {"key": "A", "value": "b"}})  # NOTES decision 1: one value for a list
    assert not _job_valid({**MINIMAL, "env": [{"key": "PATH", "value": "b"}]})  # reserved
    assert _job_valid({**MINIMAL, "$schema": "./job.schema.json"})
    gpus = {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 1}
    assert _job_valid({**MINIMAL, "resources": {**gpus, "gpus": None, "gpusPerTask": 0}})  # null is not given
    assert not _job_valid({**MINIMAL, "resources": {**gpus, "gpus": 2, "gpusPerTask": 0}})
    assert not _job_valid({**MINIMAL, "resources": {**gpus, "gpus": None}})


def test_exclusive_fields_come_from_the_tuples_the_validator_uses() -> None:
    """Each pair of Step.at_most_one_of is refused by the schema and by jobc; so is StepFor with none or both."""
    values = {
        "run": {"command": "x"},
        "for": {"items": ["a"], "steps": []},
        "launch": {"steps": []},
        "use": {"source": "./module"},
        "steps": [{"name": "in a group"}],
    }
    assert set(Step.at_most_one_of) <= set(values) or pytest.fail(f"give a value for {Step.at_most_one_of}")
    for i, a in enumerate(Step.at_most_one_of):
        assert _job_valid({**MINIMAL, "steps": [{a: values[a]}]})
        assert _job_valid({**MINIMAL, "steps": [{a: values[a], **{b: None for b in Step.at_most_one_of if b != a}}]})
        for b in Step.at_most_one_of[i + 1 :]:
            both = {**MINIMAL, "steps": [{a: values[a], b: values[b]}]}
            assert not _job_valid(both), (a, b)
            assert run_jobc("validate", "-", stdin=json.dumps(both)).returncode == 2
    assert _job_valid({**MINIMAL, "steps": [{"name": "only a name"}]})  # NOTES decision 4
    loop = {"steps": [], "items": ["a"], "range": {"begin": 1, "end": 2}}
    assert StepFor.exactly_one_of == ("items", "range")
    assert not _job_valid({**MINIMAL, "steps": [{"for": loop}]})
    assert not _job_valid({**MINIMAL, "steps": [{"for": {"steps": []}}]})


def test_map_uid_must_be_0_with_wireguard_or_vnet_interfaces() -> None:
    """plan_networks' rule, in the schema: wg-quick brings those interfaces up as root in the namespace."""
    vnet = {"vnet": {"name": "lab", "address": "10.0.0.2/24"}}
    wireguard = {"wireguard": {"privateKey": "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="}}
    bore = {"bore": {"boreAddress": "bore.example.com:2200", "targetPort": 8080}}
    lab = {"virtualNetworks": [{"name": "lab", "gatewayAddress": "10.0.0.1/24"}]}

    def job(interfaces, **run) -> dict:
        step = {"run": {"command": "x", "network": "pasta", "customNetworkInterfaces": interfaces, **run}}
        return {**MINIMAL, **lab, "steps": [step]}

    for interfaces in ([vnet], vnet, [bore, wireguard]):
        assert not _job_valid(job(interfaces, mapUid=1000)), interfaces
        assert run_jobc("validate", "-", stdin=json.dumps(job(interfaces, mapUid=1000))).returncode == 2
        assert _job_valid(job(interfaces, mapUid=0)) and _job_valid(job(interfaces))
    assert _job_valid(job([bore], mapUid=1000))
    assert run_jobc("validate", "-", stdin=json.dumps(job([bore], mapUid=1000))).returncode == 0


def test_app_schema_takes_a_version_or_a_list_of_versions() -> None:
    validator = jsonschema.Draft202012Validator(jobc_schema.app_schema())
    commands = {"dispatch": {"type": "shell", "command": "d"}, "process": {"type": "shell", "command": "p"}}
    assert validator.is_valid({"versions": [{"version": "1.0", "commands": commands}]})
    assert validator.is_valid({"versions": [{"version": ["1.0", "1.1"], "commands": commands}]})
    assert not validator.is_valid({"versions": [{"version": ["1.0", "1.0"], "commands": commands}]})
    assert not validator.is_valid({"versions": [{"version": [], "commands": commands}]})
    assert validator.is_valid({"version": "1.0", "commands": commands, "$schema": "./app.schema.json"})


# --- the "$schema" key: accepted and ignored by jobc ------------------------------------------------------------


@pytest.mark.parametrize("example", ["reference-job-minimal.json", "gpu-training.yaml", "bfabric/exec-hello.yaml"])
def test_a_schema_key_is_ignored(example: str, tmp_path: Path) -> None:
    source = EXAMPLES / example
    args = ["--app-id", "1", "--app-name", "a", "--workunit-ref", "42"] if example.startswith("bfabric/") else []
    text = source.read_text(encoding="utf-8")
    if source.suffix == ".json":
        with_key = '{"$schema": "./job.schema.json",' + text.lstrip()[1:]
    else:
        with_key = f"{text}# yaml-language-server: $schema=./schema.json\n$schema: ./schema.json\n"  # lines kept
    outputs = []
    for name, content in (("plain", text), ("keyed", with_key)):
        directory = tmp_path / name
        shutil.copytree(source.parent, directory, ignore=shutil.ignore_patterns("invalid"))
        (directory / source.name).write_text(content, encoding="utf-8")
        result = run_jobc("compile", source.name, *args, cwd=directory)
        assert result.returncode == 0, result.stderr
        script = result.stdout.replace(str(directory), "DIR")
        outputs.append(re.sub(r"sha256 [0-9a-f]{64}", "sha256 (the spec's)", script))
    assert outputs[0] == outputs[1]


def test_every_reference_fragment_jobc_accepts_the_schema_accepts() -> None:
    """The Job Reference's own examples (tests/data/reference_fragments.json), wrapped into jobs as
    tests/test_examples.py wraps them: what jobc compiles, the schema must pass (and it flags the refused ones)."""
    from jobc import compile_spec
    from jobc.diagnostics import SpecError
    from tests.test_examples import FRAGMENTS, wrap

    validator = jsonschema.Draft202012Validator(jobc_schema.job_schema())
    accepted = refused = 0
    for fragment in FRAGMENTS:
        job = wrap(fragment["kind"], fragment["fragment"])
        try:
            compile_spec(json.dumps(job), name="fragment.json")
        except SpecError:
            refused += 1
            assert not validator.is_valid(job), fragment["title"]
            continue
        accepted += 1
        assert [e.message for e in validator.iter_errors(job)] == [], fragment["title"]
    assert accepted >= 10 and refused >= 1
