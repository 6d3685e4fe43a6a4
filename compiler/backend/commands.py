"""A command's own environment (`ir.CommandEnv`) and Python environment (`ir.PythonEnv`), as task wrappers.

A command environment without a Python environment is `env -- PATH=… K=v` just before the argv: the
PATH entries first, each followed by `:`, in front of the PATH the step starts with (so an empty PATH
leaves a trailing `:`, as bfabric-app-runner's does); an `env` PATH replaces it. Only the command
sees it: srun, jobc's wrappers and the program lookup of `env` itself use the job's PATH.

A Python environment is the task library's `jobc_python_env` (templates/python_env.sh.j2), which
takes the same entries and variables as counted lists, provisions the environment, and runs the argv.
"""

from __future__ import annotations

from .. import ir
from .quoting import Sh, quote
from .words import RunTime, glue, runtime_part


def _parts(value: "str | ir.Word") -> list:
    if isinstance(value, str):
        return [value]
    return [p if isinstance(p, str) else runtime_part(p) for p in value.parts]


def _path_word(entries: tuple["str | ir.Word", ...], prefix: str) -> Sh:
    parts: list = [prefix]
    for entry in entries:
        parts += _parts(entry) + [":"]
    return glue(parts + [RunTime('"${PATH-}"')])


def _assignment(var: ir.EnvVar) -> Sh:
    return glue([f"{var.key}=", *_parts(var.value)])


def task_wrapper(step: ir.RunStep) -> list[Sh]:
    env = step.command_env
    if step.python_env is not None:
        return python_env_wrapper(step.python_env, env or ir.CommandEnv())
    if env is None or not (env.path_prepend or env.env):
        return []
    out = [Sh("env"), Sh("--")]
    if env.path_prepend and not any(v.key == "PATH" for v in env.env):
        out.append(_path_word(env.path_prepend, "PATH="))
    out += [_assignment(v) for v in env.env]
    return out


def python_env_wrapper(py: ir.PythonEnv, env: ir.CommandEnv) -> list[Sh]:
    """`jobc_python_env PYVER PYLOCK REFRESH N DEP… N ENTRY… N K=V… --` (the argv follows)."""
    words = [
        Sh("bash"),
        Sh("-c"),
        Sh("'jobc_python_env \"$@\"'"),
        Sh("jobc-python-env"),
        quote(py.python_version),
        glue(_parts(py.pylock)),
        Sh("1" if py.refresh else "0"),
    ]
    for group in (py.extra_deps, env.path_prepend):
        words.append(Sh(str(len(group))))
        words += [glue(_parts(item)) for item in group]
    words.append(Sh(str(len(env.env))))
    words += [_assignment(v) for v in env.env]
    return words + [Sh("--")]


def uses_python_env(step: ir.RunStep) -> bool:
    return step.python_env is not None
