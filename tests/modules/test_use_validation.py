"""Every problem a `use` step can have, with its exact message and both positions: in the module's file and
at the `use` that brought it in (`module.yaml:L:C: path: message (used by job.yaml:L:C: steps[i].use)`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import JOB_HEAD, jobc, write

GREETER = """
name: greeter
description: says hello
inputs:
  - key: WHO
    description: who to greet
  - key: HOW
    default: hello
outputs:
  - key: RESULT
steps:
  - name: greet
    run:
      command: echo "$HOW $WHO"
"""


def problems(tmp_path: Path, job_steps: str, modules: dict[str, str], *, ok: bool = False) -> list[str]:
    write(tmp_path, {"job.yaml": JOB_HEAD + job_steps, **modules})
    result = jobc("validate", "job.yaml", cwd=tmp_path)
    assert result.exit_code == (0 if ok else 2), result.stderr
    return [line for line in result.stderr.splitlines() if line != "job.yaml: ok"]


USE_GREETER = """\
  - name: greet
    use:
      source: ./greeter
      args:
        - key: WHO
          value: world
"""


def test_a_valid_use_is_ok(tmp_path: Path) -> None:
    assert problems(tmp_path, USE_GREETER, {"greeter/module.yaml": GREETER}, ok=True) == []


def test_a_problem_in_a_module_step_is_located_in_the_module_and_at_the_use(tmp_path: Path) -> None:
    bad = GREETER.replace('command: echo "$HOW $WHO"', "command: echo\n      shell: /bin/zsh")
    assert problems(tmp_path, USE_GREETER, {"greeter/module.yaml": bad}) == [
        "greeter/module.yaml:14:14: steps[0].run.shell: must be one of /bin/bash, /bin/ash, /bin/sh, ENTRYPOINT "
        "(used by job.yaml:5:7: steps[0].use) [E0203]"
    ]


def test_an_unknown_module_field_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    bad = GREETER.replace("outputs:", "ouputs:")
    assert problems(tmp_path, USE_GREETER, {"greeter/module.yaml": bad}) == [
        "greeter/module.yaml:8:1: ouputs: unknown field; did you mean outputs? (used by job.yaml:5:7: steps[0].use) [E0201]"
    ]


def test_a_misspelt_description_only_warns(tmp_path: Path) -> None:
    """The grid's example module has `despcription`: it changes nothing in the script."""
    bad = GREETER.replace("    description: who to greet", "    despcription: who to greet")
    assert problems(tmp_path, USE_GREETER, {"greeter/module.yaml": bad}, ok=True) == [
        "greeter/module.yaml:5:5: warning: inputs[0].despcription: unknown field, ignored (the grid ignores it too); "
        "did you mean inputs[0].description? (used by job.yaml:5:7: steps[0].use) [W0106]"
    ]


def test_a_required_input_missing(tmp_path: Path) -> None:
    steps = "  - use:\n      source: ./greeter\n"
    assert problems(tmp_path, steps, {"greeter/module.yaml": GREETER}) == [
        "job.yaml:4:7: steps[0].use: module 'greeter' needs input WHO (it has no default): give it in args [E0802]"
    ]


def test_an_arg_naming_no_input(tmp_path: Path) -> None:
    steps = USE_GREETER + "        - key: HWO\n          value: hi\n"
    assert problems(tmp_path, steps, {"greeter/module.yaml": GREETER}) == [
        "job.yaml:9:16: steps[0].use.args[1].key: module 'greeter' has no input HWO; did you mean WHO? [E0801]"
    ]


def test_an_arg_naming_no_input_of_a_module_without_inputs(tmp_path: Path) -> None:
    module = "name: bare\nsteps:\n  - name: s\n"
    steps = "  - use:\n      source: ./bare\n      args:\n        - {key: X, value: y}\n"
    assert problems(tmp_path, steps, {"bare/module.yaml": module}) == [
        "job.yaml:6:17: steps[0].use.args[0].key: module 'bare' has no input X; it declares no inputs [E0801]"
    ]


def test_an_arg_given_twice(tmp_path: Path) -> None:
    steps = USE_GREETER + "        - key: WHO\n          value: again\n"
    assert problems(tmp_path, steps, {"greeter/module.yaml": GREETER}) == [
        "job.yaml:9:16: steps[0].use.args[1].key: WHO is given twice [E0406]"
    ]


def test_an_input_or_output_declared_twice(tmp_path: Path) -> None:
    bad = GREETER.replace("outputs:\n  - key: RESULT", "outputs:\n  - key: RESULT\n  - key: RESULT")
    assert problems(tmp_path, USE_GREETER, {"greeter/module.yaml": bad}) == [
        "greeter/module.yaml:10:10: outputs[1].key: output RESULT is declared twice (used by job.yaml:5:7: steps[0].use) [E0406]"
    ]


def test_export_env_as_making_a_reserved_name(tmp_path: Path) -> None:
    steps = USE_GREETER + "      exportEnvAs: SLURM\n"
    assert problems(tmp_path, steps, {"greeter/module.yaml": GREETER}) == [
        "job.yaml:9:20: steps[0].use.exportEnvAs: makes output RESULT SLURM_RESULT, a name reserved for the script "
        "itself (PATH, LD_PRELOAD, IFS, ENV, SHELLOPTS, HOME, STORAGE_PATH, NTASKS, CPUS_PER_TASK, MEM_PER_CPU, "
        "GPUS_PER_TASK, GPUS, CPUS, MEM, DEEPSQUARE_*, SLURM_*, JOBC_*) or by bash (BASH, BASHOPTS, BASHPID, CDPATH, "
        "EUID, EXECIGNORE, FUNCNAME, FUNCNEST, GLOBIGNORE, GLOBSORT, GROUPS, LINENO, OPTERR, OPTIND, PIPESTATUS, "
        "POSIXLY_CORRECT, PPID, PS4, RANDOM, SECONDS, SRANDOM, TMOUT, UID, BASH_*) [E0304]"
    ]


def test_export_env_as_must_be_a_posix_name(tmp_path: Path) -> None:
    steps = USE_GREETER + "      exportEnvAs: 'A-B'\n"
    assert problems(tmp_path, steps, {"greeter/module.yaml": GREETER}) == [
        "job.yaml:9:20: steps[0].use.exportEnvAs: must be a POSIX name: letters, digits and underscores, "
        "not starting with a digit [E0303]"
    ]


def test_minimum_resources_above_the_job(tmp_path: Path) -> None:
    module = GREETER + "minimumResources:\n  memPerCpu: 500\n  gpus: 1\n  tasks: 1\n"
    assert problems(tmp_path, USE_GREETER, {"greeter/module.yaml": module}) == [
        "job.yaml:5:7: steps[0].use: module 'greeter' needs resources.memPerCpu of at least 500 "
        "(its minimumResources); the job has 100 [E0803]",
        "job.yaml:5:7: steps[0].use: module 'greeter' needs resources.gpus of at least 1 "
        "(its minimumResources); the job has 0 [E0803]",
    ]


@pytest.mark.parametrize(
    "source, message",
    [
        ("./nowhere", "no module directory {tmp}/nowhere"),
        ("./greeter@v1", "a local directory takes no @ref (a ref is for a git repository)"),
        ("''", "must name a module: a directory, host/owner/repo[/subdir][@ref] or a URL"),
        ("github.com/org", "'github.com/org' is not host/owner/repo[/subdir][@ref] (such as github.com/org/module)"),
        ("'https://example.org/x?y=1'", "a module URL takes no ?query or #fragment"),
    ],
)
def test_sources_that_name_no_module(tmp_path: Path, source: str, message: str) -> None:
    steps = f"  - use:\n      source: {source}\n"
    assert problems(tmp_path, steps, {"greeter/module.yaml": GREETER}) == [
        f"job.yaml:4:15: steps[0].use.source: {message.format(tmp=tmp_path)} [E0805]"
    ]


def test_a_directory_without_module_yaml(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert problems(tmp_path, "  - use: {source: ./empty}\n", {}) == [
        "job.yaml:3:19: steps[0].use.source: no module.yaml in empty [E0805]"
    ]


def test_use_is_exclusive_with_run(tmp_path: Path) -> None:
    steps = "  - run: {command: 'true'}\n    use: {source: ./greeter}\n"
    assert problems(tmp_path, steps, {"greeter/module.yaml": GREETER}) == [
        "job.yaml:3:5: steps[0]: run, for, launch, use and steps are exclusive: this step gives run and use [E0205]"
    ]


def test_invalid_yaml_in_a_module(tmp_path: Path) -> None:
    assert problems(tmp_path, USE_GREETER, {"greeter/module.yaml": "name: [x\n"}) == [
        "greeter/module.yaml:2:1: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(used by job.yaml:5:7: steps[0].use) [E0101]"
    ]


def test_a_cycle_of_modules(tmp_path: Path) -> None:
    a = "name: a\nsteps:\n  - use: {source: ../b}\n"
    b = "name: b\nsteps:\n  - use: {source: ../a}\n"
    assert problems(tmp_path, "  - use: {source: ./a}\n", {"a/module.yaml": a, "b/module.yaml": b}) == [
        "b/module.yaml:3:19: steps[0].use.source: modules use each other in a cycle: "
        "a/module.yaml -> b/module.yaml -> a/module.yaml "
        "(used by a/module.yaml:3:10: steps[0].use, used by job.yaml:3:10: steps[0].use) [E0804]"
    ]


def test_a_module_of_a_module_reports_through_both(tmp_path: Path) -> None:
    outer = "name: outer\nsteps:\n  - use:\n      source: ../inner\n"
    inner = "name: inner\nsteps:\n  - run: {command: echo, shell: zsh}\n"
    assert problems(
        tmp_path, "  - use: {source: ./outer}\n", {"outer/module.yaml": outer, "inner/module.yaml": inner}
    ) == [
        "inner/module.yaml:3:33: steps[0].run.shell: must be one of /bin/bash, /bin/ash, /bin/sh, ENTRYPOINT "
        "(used by outer/module.yaml:4:7: steps[0].use, used by job.yaml:3:10: steps[0].use) [E0203]"
    ]


def test_depends_on_an_outer_launch_from_inside_a_module(tmp_path: Path) -> None:
    """A module is its own scope (like a loop's body): a pass's problem is located in the module too."""
    module = "name: waits\nsteps:\n  - name: w\n    dependsOn: [bg]\n"
    steps = "  - launch: {handleName: bg, steps: [{name: s}]}\n  - use: {source: ./waits}\n"
    assert problems(tmp_path, steps, {"waits/module.yaml": module}) == [
        "waits/module.yaml:4:17: steps[0].dependsOn[0]: no launch with handleName 'bg' before this step in the "
        "same step list (used by job.yaml:4:10: steps[1].use) [E0401]"
    ]


def test_modules_nested_too_deep(tmp_path: Path) -> None:
    files = {f"m{i}/module.yaml": f"name: m{i}\nsteps:\n  - use: {{source: ../m{i + 1}}}\n" for i in range(9)}
    files["m9/module.yaml"] = "name: m9\nsteps:\n  - name: bottom\n"
    [line] = problems(tmp_path, "  - use: {source: ./m0}\n", files)
    assert line.startswith("m7/module.yaml:3:19: steps[0].use.source: modules nested deeper than 8 levels (used by m6/")
    assert line.endswith("used by m0/module.yaml:3:10: steps[0].use, used by job.yaml:3:10: steps[0].use) [E0804]")
