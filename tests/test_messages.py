"""The message registry (compiler/messages.py): every code emitted is explained, every code is emitted.

A code counts as tested when some test or expected-output file expects it in an exact diagnostic line
(the `# E:` case files, the JSON cases, examples/invalid/*.expected, the CLI tests). The registry's own
examples are checked too: each DeepSquare "incorrect" example gives its code, each "correct" one does not.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import CliRunner

from jobc import compile_spec
from jobc.cli import run as app
from jobc.diagnostics import SpecError
from jobc.messages import BY_CODE, MESSAGES, code_of, explain

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "frontends" / "cases"
_CODE = re.compile(r"\[([EW]\d{4})\]")


def expected_codes() -> set[str]:
    found: set[str] = set()
    for base in (ROOT / "tests", ROOT / "examples"):
        for path in base.rglob("*"):
            if path.is_file() and path.suffix in (".py", ".yaml", ".yml", ".json", ".expected"):
                found |= set(_CODE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return found


def test_every_code_of_the_registry_is_expected_by_a_test() -> None:
    assert sorted(set(BY_CODE) - expected_codes()) == []


def test_no_test_expects_a_code_the_registry_does_not_have() -> None:
    assert sorted(expected_codes() - set(BY_CODE)) == []


def test_codes_are_well_formed_and_entries_complete() -> None:
    for message in MESSAGES:
        assert re.fullmatch(r"[EW]0[1-9]\d\d", message.code), message.code
        assert message.title and message.explanation and message.bad and message.good and message.patterns


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("*.yaml")))
def test_every_diagnostic_emitted_has_a_registered_code(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    result = CliRunner().invoke(app, ["validate", "--format", "json", case])
    for item in json.loads(result.stderr):
        assert item["code"] in BY_CODE, item


def test_a_message_without_an_entry_has_no_code() -> None:
    assert code_of("a message nobody registered") is None


@pytest.mark.parametrize("message", [m for m in MESSAGES if m.bad.startswith("resources:")], ids=lambda m: m.code)
def test_the_examples_of_an_entry_show_its_code(message) -> None:
    def codes(text: str) -> set[str]:
        try:
            result = compile_spec(text, name="example.yaml")
        except SpecError as exc:
            return {d.resolved_code for d in exc.diagnostics}
        return {w.resolved_code for w in result.warnings}

    assert message.code in codes(message.bad)
    assert message.code not in codes(message.good)


# --- jobc explain -----------------------------------------------------------------------------------


def test_explain_a_known_code() -> None:
    result = CliRunner().invoke(app, ["explain", "E0203"])
    assert result.exit_code == 0
    assert result.stdout == explain("E0203")
    assert result.stdout.startswith("E0203: value not among the choices\n\n")
    assert "Incorrect:\n    resources:" in result.stdout and "\nCorrect:\n" in result.stdout
    assert "shell: bash" in result.stdout and "shell: /bin/bash" in result.stdout


def test_explain_is_case_insensitive() -> None:
    assert CliRunner().invoke(app, ["explain", "w0101"]).stdout.startswith("W0101: loop runs no iteration")


def test_explain_an_unknown_code() -> None:
    result = CliRunner().invoke(app, ["explain", "E9999"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "jobc: E9999: no such diagnostic code (codes look like E0203 or W0101)\n"


# --- machine-readable output ------------------------------------------------------------------------

TWO_PROBLEMS = (
    "resources: {tasks: 0, cpusPerTask: 1, memPerCpu: 4G, gpusPerTask: 0}\nsteps:\n  - run: {command: x, shell: bash}\n"
)


@pytest.fixture
def two_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    Path("job.yaml").write_text(TWO_PROBLEMS)
    return "job.yaml"


def test_format_json(two_problems: str) -> None:
    result = CliRunner().invoke(app, ["validate", "--format", "json", two_problems])
    assert (result.exit_code, result.stdout) == (2, "")
    assert json.loads(result.stderr) == [
        {
            "file": "job.yaml",
            "line": 1,
            "column": 20,
            "endLine": 1,
            "endColumn": 21,
            "path": "resources.tasks",
            "code": "E0301",
            "severity": "error",
            "message": "must be at least 1",
            "hint": None,
            "usedBy": None,
        },
        {
            "file": "job.yaml",
            "line": 1,
            "column": 50,
            "endLine": 1,
            "endColumn": 52,
            "path": "resources.memPerCpu",
            "code": "E0204",
            "severity": "error",
            "message": "must be an integer",
            "hint": "memPerCpu is in MB, without a unit: write 4096 for 4G",
            "usedBy": None,
        },
        {
            "file": "job.yaml",
            "line": 3,
            "column": 30,
            "endLine": 3,
            "endColumn": 34,
            "path": "steps[0].run.shell",
            "code": "E0203",
            "severity": "error",
            "message": "must be one of /bin/bash, /bin/ash, /bin/sh, ENTRYPOINT",
            "hint": None,
            "usedBy": None,
        },
    ]


def test_format_github(two_problems: str) -> None:
    result = CliRunner().invoke(app, ["compile", "--format", "github", two_problems])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "::error file=job.yaml,line=1,col=20,endLine=1,endColumn=21,title=E0301::resources.tasks: must be at least 1",
        "::error file=job.yaml,line=1,col=50,endLine=1,endColumn=52,title=E0204::resources.memPerCpu: must be an "
        "integer%0Ahint: memPerCpu is in MB, without a unit: write 4096 for 4G",
        "::error file=job.yaml,line=3,col=30,endLine=3,endColumn=34,title=E0203::steps[0].run.shell: must be one of "
        "/bin/bash, /bin/ash, /bin/sh, ENTRYPOINT",
    ]


def test_format_github_warnings_and_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("warn.yaml").write_text(
        "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1, gpusPerTask: 0}\nsteps: []\ncontinuousOutputSync: true\n"
    )
    result = CliRunner().invoke(app, ["validate", "--format", "github", "warn.yaml", "nosuch.yaml"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "::warning file=warn.yaml,line=3,col=23,endLine=3,endColumn=27,title=W0103::continuousOutputSync: has no "
        "effect without an output",
        "::error title=E0604::nosuch.yaml: No such file or directory",
    ]


def test_human_format_is_the_default(two_problems: str) -> None:
    result = CliRunner().invoke(app, ["validate", two_problems])
    assert result.stderr.splitlines() == [
        "job.yaml:1:20: resources.tasks: must be at least 1 [E0301]",
        "job.yaml:1:50: resources.memPerCpu: must be an integer [E0204]",
        "job.yaml:1:50: hint: memPerCpu is in MB, without a unit: write 4096 for 4G",
        "job.yaml:3:30: steps[0].run.shell: must be one of /bin/bash, /bin/ash, /bin/sh, ENTRYPOINT [E0203]",
    ]


def test_unknown_format() -> None:
    result = CliRunner().invoke(app, ["validate", "--format", "xml", "job.yaml"])
    assert (result.exit_code, result.stderr) == (2, "jobc: --format xml: must be one of human, json, github [E0601]\n")


# --- command-line mistakes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, line",
    [
        (["compile", "--app-id", "x", "a.yaml"], "jobc: --app-id: must be an integer, got 'x' [E0601]"),
        (["validate", "--cpus-per-task=1.5", "a.yaml"], "jobc: --cpus-per-task: must be an integer, got '1.5' [E0601]"),
        (
            ["compile", "--sbatc", "x", "a.yaml"],
            "jobc: --sbatc: no such option; did you mean --sbatch, --site? [E0605]",
        ),
        (["compile", "--app-id"], "jobc: --app-id: needs a value [E0605]"),
        (["compile"], "jobc: SPEC: is required [E0605]"),
        (
            ["compil", "a.yaml"],
            "jobc: compil: no such command; did you mean compile, completion? "
            "(commands: compile, validate, schema, explain, completion) [E0605]",
        ),
    ],
    ids=["not-an-integer", "float-for-integer", "no-such-option", "no-value", "no-spec", "no-such-command"],
)
def test_option_errors_in_jobc_style(args: list[str], line: str) -> None:
    result = CliRunner().invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", line + "\n")


def test_option_errors_of_a_real_process_are_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "jobc", "compile", "--app-id", "x", "app.yaml"], capture_output=True, text=True
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        2,
        "",
        "jobc: --app-id: must be an integer, got 'x' [E0601]\n",
    )


def test_an_option_problem_found_with_a_spec_is_not_located_in_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("app.yaml").write_text((ROOT / "examples" / "bfabric" / "exec-hello.yaml").read_text())
    result = CliRunner().invoke(app, ["validate", "app.yaml", "--mem", "lots"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "jobc: app.yaml: --mem: must be a memory size such as 8G, 500M or 8000 (megabytes), got 'lots' [E0601]"
    ]


# --- codes without a case file ----------------------------------------------------------------------


def test_a_spec_nested_too_deeply(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("deep.json").write_text('{"steps": ' + "[" * 205 + "]" * 205 + "}")
    result = CliRunner().invoke(app, ["validate", "deep.json"])
    assert result.exit_code == 2
    assert result.stderr == "deep.json:1:211: spec nested deeper than 200 levels [E0105]\n"


def test_a_missing_pylock_is_a_warning(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("app.yaml").write_text(
        'versions:\n  - version: "1.0"\n    submitter: {name: s}\n    commands:\n'
        "      dispatch: {type: shell, command: d}\n"
        "      process: {type: python_env, pylock: nosuch/pylock.toml, command: x}\n"
    )
    result = CliRunner().invoke(app, ["validate", "app.yaml"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"app.yaml:6:43: warning: versions[0].commands.process.pylock: the lock file {tmp_path}/nosuch/pylock.toml does not "
        "exist here (the compute nodes may see another file system) [W0104]",
        "app.yaml: ok",
    ]


@pytest.mark.parametrize("fmt", ["json", "github"])
def test_a_mistake_among_the_options_is_reported_in_the_format_given(fmt: str, two_problems: str) -> None:
    """`--bogus` is found while the options are read, before `--format` is known: it is read first."""
    result = CliRunner().invoke(app, ["validate", "--bogus", f"--format={fmt}", two_problems])
    assert (result.exit_code, result.stdout) == (2, "")
    if fmt == "github":
        assert result.stderr == "::error title=E0605::--bogus: no such option\n"
    else:
        [item] = json.loads(result.stderr)
        assert (item["code"], item["message"], item["file"]) == ("E0605", "--bogus: no such option", None)
    human = CliRunner().invoke(app, ["validate", "--format", "xml", two_problems])
    assert human.stderr == "jobc: --format xml: must be one of human, json, github [E0601]\n"


def test_a_file_name_holding_a_newline_keeps_each_problem_on_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("we\nird.yaml").write_text(TWO_PROBLEMS)
    result = CliRunner().invoke(app, ["validate", "we\nird.yaml", "no\tne.yaml"])
    lines = result.stderr.splitlines()
    assert result.exit_code == 2 and all(line.startswith(("we\\x0aird.yaml:", "jobc: ")) for line in lines)
    assert lines[0] == "we\\x0aird.yaml:1:20: resources.tasks: must be at least 1 [E0301]"
    assert lines[-1] == "jobc: no\\x09ne.yaml: No such file or directory [E0604]"
