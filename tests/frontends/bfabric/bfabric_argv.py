"""Run by bfabric-app-runner 0.9.1's own interpreter (Python >= 3.12, .venv-bfabric/), not by pytest.

Reads a JSON list of cases on stdin: {"spec": YAML text, "app_id", "app_name", "version", "work_dir", "home"}.
For each case it loads the spec with bfabric-app-runner's models, evaluates the Mako templates, picks the
version and prints, for every command, the argv bfabric-app-runner runs (without the trailing
$workunit_ref/$work_dir/$chunk_dir arguments), twice:

- "real": exactly 0.9.1's rendering: `CommandShell` -> `shlex.split(command)` (what
  execute_command_shell runs), `CommandDocker` -> `to_shell(work_dir)` (0.9.1 keeps it as
  `bfabric_app_runner.commands.command_docker._to_shell`; a model method `to_shell` is used when it exists);
- "fixed": the same with the documented fix: mount paths and env values are not `shlex.quote`d inside
  their argument (0.9.1 quotes them twice, so `a b` reaches docker as `'a b'`).

Each case runs with $HOME set to its "home" and the work directory as the current directory, so `~` and
relative host paths resolve as jobc's script resolves them (the spec is validated without a spec
directory, so 0.9.1 leaves relative paths relative, and `Path.absolute()` uses the current directory).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import types
from importlib.metadata import version
from pathlib import Path

import yaml
from bfabric_app_runner.commands import command_docker, command_exec
from bfabric_app_runner.specs.app.app_spec import AppSpecTemplate
from bfabric_app_runner.specs.app.commands_spec import CommandDocker, CommandExec, CommandPythonEnv, CommandShell


def render(command, work_dir: Path) -> list[str]:
    if isinstance(command, (CommandExec, CommandPythonEnv)):
        return shlex.split(command.command)
    if isinstance(command, CommandShell):
        method = getattr(command, "to_shell", None)
        return method() if method else shlex.split(command.command)
    assert isinstance(command, CommandDocker), type(command)
    method = getattr(command, "to_shell", None)
    return method(work_dir) if method else command_docker._to_shell(command, work_dir)


def fixed(command, work_dir: Path) -> list[str]:
    real = command_docker.shlex
    command_docker.shlex = types.SimpleNamespace(quote=lambda value: value, split=shlex.split, join=shlex.join)
    try:
        return render(command, work_dir)
    finally:
        command_docker.shlex = real


def main() -> None:
    assert version("bfabric_app_runner") == "0.9.1", version("bfabric_app_runner")
    out = []
    for case in json.load(sys.stdin):
        os.environ["HOME"] = case["home"]  # before validation: 0.9.1 expands ~ while validating
        os.chdir(case["work_dir"])
        spec_file = Path(case["spec_file"])
        data = yaml.safe_load(spec_file.read_text())
        data.setdefault("bfabric", {"app_runner": "0.9.1"})
        spec_dir = spec_file.resolve().parent
        template = AppSpecTemplate.model_validate(data, context={"spec_dir": spec_dir})
        spec = template.evaluate(app_id=int(case["app_id"]), app_name=case["app_name"], app_dir=spec_dir)
        app_version = spec[case["version"]]
        assert app_version is not None, (case["version"], spec.available_versions)
        work_dir = Path(case["work_dir"])
        commands = {}
        for name in ("dispatch", "process", "collect"):
            command = getattr(app_version.commands, name)
            if command is not None:
                commands[name] = {"real": render(command, work_dir), "fixed": fixed(command, work_dir)}
                if isinstance(command, CommandPythonEnv):  # what the environment is made from
                    commands[name]["python_env"] = {
                        "python_version": command.python_version,
                        "pylock": str(command.pylock),
                        "local_extra_deps": [str(p) for p in command.local_extra_deps],
                        "prepend_paths": [str(p.expanduser().absolute()) for p in command.prepend_paths],
                        "env": command.env,
                        "refresh": command.refresh,
                    }
                if isinstance(command, CommandExec):  # the environment changes the command gets
                    base = {"PATH": case["path"]}
                    env = command_exec._get_shell_env(base, command.env, command.prepend_paths)
                    commands[name]["env"] = {k: v for k, v in env.items() if base.get(k) != v}
        out.append(commands)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
