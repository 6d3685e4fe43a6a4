"""Every validation rule, with its exact message and position, in the mypy style.

Each file in `cases/` is a spec whose lines carry their expected problems as
trailing comments:

    tasks: 0  # E: resources.tasks: must be at least 1
    tasks: 0  # E:10: resources.tasks: must be at least 1 [E0301]      (also checks the column)
    range: {begin: 1, end: 3, increment: -1}  # W: steps[0].for.range: ... [W0101]   (a warning)
    memPerCpu: 4G  # E: resources.memPerCpu: must be an integer [E0204]  # H: memPerCpu is in MB, ...  (its hint)

Every problem ends with its code from compiler/messages.py; tests/test_messages.py checks that every
code of the registry is annotated somewhere.

`jobc validate FILE` must print exactly the annotated problems (as a set of
`line: path: message`, plus the column where one is given), exit with 2 when
there is an error and 0 otherwise, and never print a traceback. JSON has no
comments, so the JSON cases are a table below with explicit positions.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import CliRunner

from jobc.cli import run as app

CASES = Path(__file__).parent / "cases"
_ANNOTATION = re.compile(r"#\s*([EWH])(?::(\d+))?: (.*?)(?=\s+#\s*[EWH](?::\d+)?: |$)")
_OUTPUT = re.compile(r"(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<warn>warning: |hint: )?(?P<text>.*)")


def expectations(text: str) -> tuple[set[tuple[str, int, str]], dict[tuple[str, int, str], int]]:
    """(kind, line, "path: message") for every annotation, and the columns that are given."""
    expected, columns = set(), {}
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, col, message in _ANNOTATION.findall(line):
            key = (kind, number, message.strip())
            expected.add(key)
            if col:
                columns[key] = int(col)
    return expected, columns


def run_validate(*args: str):
    result = CliRunner().invoke(app, ["validate", *args])
    assert "Traceback" not in result.stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def parse_output(stderr: str, name: str) -> tuple[set[tuple[str, int, str]], dict[tuple[str, int, str], int]]:
    found, columns = set(), {}
    for line in stderr.splitlines():
        if line == f"{name}: ok":
            continue
        match = _OUTPUT.fullmatch(line)
        assert match, f"not a file:line:col: diagnostic line: {line!r}"
        assert match["file"] == name
        kind = {"warning: ": "W", "hint: ": "H"}.get(match["warn"] or "", "E")
        key = (kind, int(match["line"]), match["text"])
        assert key not in found, f"reported twice: {line}"
        found.add(key)
        columns[key] = int(match["col"])
    return found, columns


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("*.yaml")))
def test_case(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    expected, columns = expectations((CASES / case).read_text(encoding="utf-8"))
    result = run_validate(case)
    found, found_columns = parse_output(result.stderr, case)
    missing = sorted(expected - found, key=lambda k: k[1])
    unexpected = sorted(found - expected, key=lambda k: k[1])
    assert not missing and not unexpected, (
        "\nmissing:\n"
        + "\n".join(f"  {k[1]}: {k[2]}" for k in missing)
        + "\nunexpected:\n"
        + "\n".join(f"  {k[1]}: {k[2]}" for k in unexpected)
    )
    for key, col in columns.items():
        assert found_columns[key] == col, f"line {key[1]}: {key[2]}: column {found_columns[key]}, expected {col}"
    has_error = any(kind == "E" for kind, _, _ in expected)
    assert result.exit_code == (2 if has_error else 0), result.stderr
    if not has_error:
        assert result.stderr.splitlines()[-1] == f"{case}: ok"


def test_output_is_in_source_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    result = run_validate("unknown_fields.yaml")
    positions = [tuple(map(int, line.split(":")[1:3])) for line in result.stderr.splitlines()]
    assert positions == sorted(positions)


def test_five_independent_errors_print_five_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    result = run_validate("five_errors.yaml")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 5


def test_validate_reports_every_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    result = run_validate("five_errors.yaml", "yaml_traps.yaml", "duplicate_key.yaml")
    assert result.exit_code == 2
    files = [line.split(":")[0] for line in result.stderr.splitlines()]
    assert files.count("five_errors.yaml") == 5
    assert "yaml_traps.yaml: ok" in result.stderr.splitlines()
    assert files.count("duplicate_key.yaml") == 1


# --- JSON -----------------------------------------------------------------------------------

MINIMAL_RESOURCES = '"resources": {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 1, "gpusPerTask": 0}'

# The reference's "Job (full)" example, as printed there: its step is not a valid Step (NOTES decision 2).
REFERENCE_JOB_FULL = """\
{
  "resources": {
    "tasks": 1,
    "gpusPerTask": 0,
    "cpusPerTask": 1,
    "memPerCpu": 1024
  },
  "enableLogging": true,
  "input": {
    "http": {
      "url": "https://my-server/my-file"
    }
  },
  "inputMode": 493,
  "output": {
    "http": {
      "url": "https://transfer.sh"
    }
  },
  "env": [
    {
      "key": "MY_ENV",
      "value": "my_value"
    }
  ],
  "continuousOutputSync": true,
  "steps": [
    {
      "command": "ping 10.0.0.1",
      "resources": {
        "tasks": 1,
        "cpusPerTask": 1,
        "memPerCpu": 500,
        "gpusPerTask": 0
      },
      "network": "slirp4netns",
      "dns": "1.1.1.1",
      "container": {
        "image": "library/ubuntu:latest",
        "registry": "registry-1.docker.io"
      },
      "customNetworkInterfaces": [],
      "env": [
        {
          "key": "MY_VAR",
          "value": "myvalue"
        }
      ],
      "mapRoot": false,
      "workDir": "/app",
      "disableCpuBinding": false
    }
  ]
}
"""

JSON_CASES = [
    pytest.param(
        "{" + MINIMAL_RESOURCES + ',\n "steps": [{"run": {"command": "x"}}],\n "inputMode": 2147483648}\n',
        [(3, 15, "inputMode: must be a 32-bit integer (-2147483648 to 2147483647) [E0301]")],
        id="int32-range",
    ),
    pytest.param(
        '{"resources": {"tasks": "1", "cpusPerTask": 1.0, "memPerCpu": true, "gpusPerTask": null},\n "steps": []}\n',
        [
            (1, 25, "resources.tasks: must be an integer [E0204]"),
            (1, 45, "resources.cpusPerTask: must be an integer [E0204]"),
            (1, 63, "resources.memPerCpu: must be an integer [E0204]"),
            (
                1,
                15,
                "resources: give gpus (the job's GPUs), or the Job Reference's gpusPerTask [E0202]",
            ),  # null: not given
        ],
        id="string-float-bool-null-for-int",
    ),
    pytest.param(
        "{" + MINIMAL_RESOURCES + ',\n "env": [{"key": "A", "value": 5}, {"key": 1, "value": "x"}],\n "steps": []}\n',
        [(2, 32, "env[0].value: must be a string [E0204]"), (2, 44, "env[1].key: must be a string [E0204]")],
        id="int-for-string",
    ),
    pytest.param(
        "{" + MINIMAL_RESOURCES + ',\n "steps": [{"name": "x", "for": {"parallel": "true", "items": [1, "b"],\n'
        '   "steps": []}}]}\n',
        [
            (2, 46, "steps[0].for.parallel: must be true or false [E0204]"),
            (2, 64, "steps[0].for.items[0]: must be a string [E0204]"),
        ],
        id="json-strings-are-not-yaml-scalars",
    ),
    pytest.param(
        "{" + MINIMAL_RESOURCES + ',\n "steps": [{"run": ["echo"]}],\n "input": "https://x/y"}\n',
        [
            (2, 20, "steps[0].run: must be a mapping of fields [E0204]"),
            (3, 11, "input: must be a mapping of fields [E0204]"),
        ],
        id="list-or-string-for-mapping",
    ),
    pytest.param(
        "{" + MINIMAL_RESOURCES + ',\n "steps": [{"name": "a\\u0000b"}]}\n',
        [(2, 21, "steps[0].name: must not contain NUL characters [E0305]")],
        id="nul-escape",
    ),
    pytest.param(
        "{" + MINIMAL_RESOURCES + ',\n "steps": [{"name": "a\u0000b"}]}\n',
        [(2, 23, "invalid JSON: Invalid control character at [E0103]")],
        id="raw-nul",
    ),
    pytest.param(
        '{"resources": {"tasks": 1, "cpusPerTask": 1,\n  "tasks": 2}, "steps": []}\n',
        [(2, 3, "duplicate key 'tasks' (first defined on line 1) [E0104]")],
        id="duplicate-key",
    ),
    pytest.param(
        "{"
        + MINIMAL_RESOURCES
        + ',\n "steps": [{"for": {"parallel": true, "range": {"begin": 1, "end": 2, "increment": 0},'
        ' "steps": []}}]}\n',
        [(2, 84, "steps[0].for.range.increment: must not be 0 (the loop would never end) [E0301]")],
        id="zero-increment",
    ),
    pytest.param(
        "{" + MINIMAL_RESOURCES + ',\n "steps": [{"run": {"command": "x"}, "launch": {"steps": []}}]}\n',
        [(2, 12, "steps[0]: run, for, launch, use and steps are exclusive: this step gives run and launch [E0205]")],
        id="exclusive-position-of-the-step",
    ),
    pytest.param(
        "[]\n",
        [(1, 1, "the spec must be a mapping of fields at the top level, not a list [E0107]")],
        id="not-a-mapping",
    ),
    pytest.param("", [(1, 1, "invalid JSON: expecting a value [E0103]")], id="empty"),
    pytest.param(
        REFERENCE_JOB_FULL,
        [
            (29, 7, "steps[0].command: unknown field; did you mean steps[0].run.command? [E0201]"),
            (30, 7, "steps[0].resources: unknown field; did you mean steps[0].run.resources? [E0201]"),
            (36, 7, "steps[0].network: unknown field; did you mean steps[0].run.network? [E0201]"),
            (37, 7, "steps[0].dns: unknown field; did you mean steps[0].run.dns? [E0201]"),
            (38, 7, "steps[0].container: unknown field; did you mean steps[0].run.container? [E0201]"),
            (
                42,
                7,
                "steps[0].customNetworkInterfaces: unknown field; did you mean steps[0].run.customNetworkInterfaces? [E0201]",
            ),
            (43, 7, "steps[0].env: unknown field; did you mean steps[0].run.env? [E0201]"),
            (49, 7, "steps[0].mapRoot: unknown field; did you mean steps[0].run.mapRoot? [E0201]"),
            (50, 7, "steps[0].workDir: unknown field; did you mean steps[0].run.workDir? [E0201]"),
            (51, 7, "steps[0].disableCpuBinding: unknown field; did you mean steps[0].run.disableCpuBinding? [E0201]"),
        ],
        id="reference-job-full-example",
    ),
]


@pytest.mark.parametrize("text, expected", JSON_CASES)
def test_json_case(
    text: str, expected: list[tuple[int, int, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("case.json").write_text(text, encoding="utf-8")
    result = run_validate("case.json")
    assert result.exit_code == 2
    assert sorted(result.stderr.splitlines()) == sorted(f"case.json:{line}:{col}: {msg}" for line, col, msg in expected)
