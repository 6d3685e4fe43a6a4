"""bfabric-app-runner app specs -> IR.

    app.yaml --(Mako, per version)--> models --> dispatch, then per chunk directory: process, collect

The order of work follows bfabric-app-runner: a version entry may name several
versions (`version: [1.0, 1.1]`); each is substituted on its own (`${app.version}`
differs), then validated. One version is compiled (`--app-version`, or the only
one). Its commands become three `RunStep`s that run as argvs (never through a
shell) inside one `LoopStep` over `ChunkDirs`: dispatch once, then process and
collect once per chunk directory that dispatch created.

A command's argv holds values only known at run time: the work directory, the
chunk directory, `$HOME` (for `~`) and the user's uid:gid (docker's `--user`).
Such a word is an `ir.Word` of literal text and run-time parts (`ir.Var`,
`ir.UserId`, `ir.CsvField`); the backend quotes the literal parts and expands
the others, so no value can become shell syntax.

Docker `--mount` values are CSV (docker and podman read them with Go's
encoding/csv): a field holding `,` `"` or a newline is wrapped in double
quotes, at compile time for literal paths and by `jobc_csv` at run time for
paths that hold run-time parts. bfabric-app-runner 0.9.1 `shlex.quote`s mount
paths and env values inside the argument, so `a b` arrives as `'a b'`; jobc
passes the value itself (docs/bfabric.md, "Differences").
"""

from __future__ import annotations

import difflib
import hashlib
import re
import shlex
import typing
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, ValidationError

from .. import ir
from ..diagnostics import Diagnostic, FieldPath, SpecError, error, fail, format_path, warning
from ..source import Plain
from . import bfabric_models as m
from .mako_strings import AppVariables, SubstitutionError, sanitize_name, substitute
from .validation import field_names, to_diagnostic

WORK_DIR = "JOBC_WORK_DIR"
CHUNK_DIR = "JOBC_CHUNK_DIR"
DEFAULT_MEM_PER_CPU = 1024  # MB; see docs/bfabric.md, "Resources"
RUNTIMES = ("docker", "apptainer", "enroot")
BFABRIC_CONFIG = "/home/user/.bfabricpy.yml"  # where bfabric-app-runner mounts ~/.bfabricpy.yml
COMMANDS = ("dispatch", "process", "collect")

# Options of compile_spec that only app specs take, and the CLI's flag for each.
APP_OPTIONS = {"app_version": "--app-version", "app_id": "--app-id", "app_name": "--app-name",
               "workunit_ref": "--workunit-ref", "work_dir": "--work-dir", "cpus_per_task": "--cpus-per-task",
               "mem": "--mem", "submitters": "--submitter", "container_runtime": "--container-runtime"}


def looks_like(data: Any) -> bool:
    """An app spec has `versions` (or, for a single version, `commands`) and none of a job's fields."""
    return (isinstance(data, dict) and ("versions" in data or "commands" in data)
            and not ("steps" in data or "resources" in data))


# --- the compile options -------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the command line adds to an app spec (`compile_spec` options, all optional)."""

    app_version: str | None = None
    app_id: int | None = None
    app_name: str | None = None
    workunit_ref: str | None = None
    work_dir: str | None = None
    cpus_per_task: int = 1
    mem: str | None = None
    submitters: dict[str, m.SubmitterParams] | None = None
    submitters_file: str = "the submitter file"
    container_runtime: str = "docker"
    runtime_origin: str = "--container-runtime"
    cli_sbatch_keys: frozenset[str] = frozenset()
    tools: dict[str, str] = field(default_factory=dict)
    validate_only: bool = False

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> "Settings":
        site = options.get("site")
        runtime = options.get("container_runtime")
        origin = "--container-runtime"
        if runtime is None and site is not None:
            runtime, origin = site.options.get("container_runtime"), "the site profile's options.container_runtime"
        return cls(
            app_version=options.get("app_version"),
            app_id=options.get("app_id"),
            app_name=options.get("app_name"),
            workunit_ref=options.get("workunit_ref"),
            work_dir=options.get("work_dir"),
            cpus_per_task=1 if options.get("cpus_per_task") is None else options["cpus_per_task"],
            mem=options.get("mem"),
            submitters=options.get("submitters"),
            submitters_file=options.get("submitters_file") or "the submitter file",
            container_runtime=runtime or "docker",
            runtime_origin=origin,
            cli_sbatch_keys=frozenset(options.get("cli_sbatch_keys") or ()),
            tools=dict(site.tools) if site else {},
            validate_only=bool(options.get("validate")),
        )


def check_settings(s: Settings) -> list[Diagnostic]:
    """Problems of the flags themselves (reported for the whole file)."""
    problems = []
    if s.container_runtime not in RUNTIMES:
        problems.append(error((), f"{s.runtime_origin} {s.container_runtime}: must be one of {', '.join(RUNTIMES)}"))
    if s.cpus_per_task < 1:
        problems.append(error((), "--cpus-per-task: must be at least 1"))
    if s.mem is not None:
        try:
            _check_mem(s.mem)
        except ValueError as exc:
            problems.append(error((), f"--mem {s.mem}: {exc}"))
    if s.workunit_ref is not None and (not s.workunit_ref or "\x00" in s.workunit_ref):
        problems.append(error((), "--workunit-ref: must be a workunit id or a workunit definition file, not empty"))
    if s.work_dir is not None and (not s.work_dir or re.search(r"[\x00-\x1f\x7f]", s.work_dir)):
        problems.append(error((), "--work-dir: must be a directory path without control characters, not empty"))
    if not s.validate_only and s.workunit_ref is None:
        problems.append(error((), "give --workunit-ref: dispatch is called with $workunit_ref $work_dir"))
    return problems


def _check_mem(value: str) -> None:
    from pydantic import TypeAdapter

    try:
        TypeAdapter(m.MemSize).validate_python(value)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"].replace(f", or {m.DEFAULT}", "")) from None
    if value == m.DEFAULT:
        raise ValueError("must be a memory size such as 8G, 500M or 8000 (megabytes)")


# --- submitter file ------------------------------------------------------------------------------


def load_submitters(text: str, name: str) -> dict[str, m.SubmitterParams]:
    """Read a `--submitter` file; raise `SpecError` (with its source map) when it is invalid."""
    from ..source import guess_format, load

    source = load(text, guess_format(name, text))
    try:
        parsed, problems = _validate(m.SubmittersFile, source.data, ())
        if source.data is None:
            problems = [error((), "the submitter file is empty; it needs `submitters:`")]
        if problems:
            fail(problems)
    except SpecError as exc:
        exc.source_map = source.source_map
        raise
    assert isinstance(parsed, m.SubmittersFile)
    return dict(parsed.submitters)


# --- the frontend ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Version:
    """One expanded version: its concrete name, its validated model, and where it comes from."""

    name: str
    model: m.AppVersionMultiTemplate
    path: FieldPath  # the entry in `versions` (or () for a single-version file)
    version_path: FieldPath


def to_ir(data: Any, *, name: str, options: dict[str, Any]) -> ir.Job:
    settings = Settings.from_options(options)
    problems = check_settings(settings)
    versions, found = _expand(data, settings)
    problems += found
    _check_duplicates(versions, problems)
    selected = _select(versions, settings, problems)
    if problems:
        fail(_dedupe(problems))
    notes: list[Diagnostic] = []
    jobs = [_lower(v, settings, name, problems, notes) for v in (versions if settings.validate_only else [selected])]
    if problems:
        fail(_dedupe(problems))
    job = jobs[versions.index(selected) if settings.validate_only else 0]
    return job if not notes else _with_warnings(job, notes)


def _with_warnings(job: ir.Job, notes: list[Diagnostic]) -> ir.Job:
    from dataclasses import replace

    return replace(job, warnings=job.warnings + tuple(_dedupe(notes)))


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: dict[tuple, Diagnostic] = {}
    for diag in diagnostics:
        seen.setdefault((diag.path, diag.message, diag.severity), diag)
    return list(seen.values())


def _entries(data: Any, problems: list[Diagnostic]) -> list[tuple[FieldPath, Any]]:
    """The version entries: `versions[i]`, or the whole file when it is a single version."""
    if not isinstance(data, dict):
        problems.append(error((), "an app spec must be a mapping with `versions`"))
        return []
    if "versions" not in data:
        return [((), data)]
    top = {k: v for k, v in data.items() if k != "versions"}
    _, found = _validate(_Top, {**top, "versions": []}, ())
    problems += [d for d in found if d.path != ("versions",)]
    versions = data["versions"]
    if not isinstance(versions, list):
        problems.append(error(("versions",), "must be a list of app versions"))
        return []
    if not versions:
        problems.append(error(("versions",), "must list at least one app version"))
    return [(("versions", i), entry) for i, entry in enumerate(versions)]


class _Top(m.Model):
    versions: list[Any]
    bfabric: m.BfabricSection | None = None


_Top.__name__ = "AppSpec"  # as messages name it


def _expand(data: Any, s: Settings) -> tuple[list[_Version], list[Diagnostic]]:
    problems: list[Diagnostic] = []
    out: list[_Version] = []
    for path, entry in _entries(data, problems):
        if not isinstance(entry, dict):
            problems.append(error(path, "must be a mapping of fields (version, commands, submitter)"))
            continue
        raw = entry.get("version")
        names: list[tuple[Any, FieldPath]]
        if isinstance(raw, list):
            names = [(item, path + ("version", j)) for j, item in enumerate(raw)]
        else:
            names = [(raw, path + ("version",))]
        for raw_name, vpath in names or [(None, path + ("version",))]:
            text = raw_name.text if isinstance(raw_name, Plain) else raw_name
            text = text if isinstance(text, str) else ""
            app = _App(s, text)
            body = {k: _substitute_tree(v, app, path + (k,), problems) for k, v in entry.items() if k != "version"}
            concrete = _substitute_tree(text, app, vpath, problems) if text else text
            if "version" in entry:
                body["version"] = entry["version"]
            model, found = _validate(m.AppVersionMultiTemplate, body, path)
            problems += found
            problems += app.missing_problems()
            if model is not None and text:
                out.append(_Version(concrete, model, path, vpath))
    return out, problems


class _App:
    """`app` for Mako, noting which values the flags did not give (compile needs them then)."""

    def __init__(self, s: Settings, version: str):
        self._values = AppVariables(
            id=s.app_id if s.app_id is not None else 1,
            name=sanitize_name(s.app_name) if s.app_name is not None else "app",
            version=version,
        )
        self._missing = set() if s.validate_only else {n for n, v in (("id", s.app_id), ("name", s.app_name)) if v is None}
        self._used: dict[str, FieldPath] = {}
        self.path: FieldPath = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in ("id", "name", "version"):
            raise AttributeError(name)
        if name in self._missing:
            self._used.setdefault(name, self.path)
        return getattr(self._values, name)

    def missing_problems(self) -> list[Diagnostic]:
        return [error(path, f"uses ${{app.{name}}}: give --app-{name}") for name, path in self._used.items()]


def _substitute_tree(value: Any, app: _App, path: FieldPath, problems: list[Diagnostic]) -> Any:
    """Every string (not mapping keys, as bfabric-app-runner) through Mako; a failing one stays as written."""
    if isinstance(value, str):
        app.path = path
        try:
            return substitute(value, app)  # type: ignore[arg-type]
        except SubstitutionError as exc:
            problems.append(error(path, str(exc)))
            return value
    if isinstance(value, dict):
        return {k: _substitute_tree(v, app, path + (k,), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_tree(v, app, path + (i,), problems) for i, v in enumerate(value)]
    return value


def _check_duplicates(versions: list[_Version], problems: list[Diagnostic]) -> None:
    first: dict[str, _Version] = {}
    for v in versions:
        if v.name in first and first[v.name].path != v.path:
            problems.append(error(v.version_path, f"version {v.name} is already defined at "
                                                  f"{format_path(first[v.name].version_path)}"))
        first.setdefault(v.name, v)


def _select(versions: list[_Version], s: Settings, problems: list[Diagnostic]) -> _Version | None:
    names = ", ".join(dict.fromkeys(v.name for v in versions))
    if s.app_version is not None:
        for v in versions:
            if v.name == s.app_version:
                return v
        if versions:
            problems.append(error((), f"--app-version {s.app_version}: no such version in this app (versions: {names})"))
        return None
    if len({v.name for v in versions}) == 1 or (s.validate_only and versions):
        return versions[0]
    if versions:
        problems.append(error((), f"give --app-version: this app has several versions ({names})"))
    return None


# --- validation with located, jobc-worded messages ------------------------------------------------


def _validate(model: type[BaseModel], data: Any, prefix: FieldPath) -> tuple[BaseModel | None, list[Diagnostic]]:
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        return None, [error(prefix, f"must be a mapping of fields, not {kind}")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_diagnostic(model, err, prefix) for err in exc.errors(include_url=False)]


def _diagnostic(root: type[BaseModel], err: dict, prefix: FieldPath) -> Diagnostic:
    loc = tuple(err["loc"])
    path = prefix + _without_tags(root, loc)
    kind = err["type"]
    if kind == "union_tag_invalid":
        return error(path + ("type",), "must be one of shell, docker")
    if kind == "union_tag_not_found":
        return error(path, "needs a type: shell or docker")
    if kind == "model_attributes_type" and loc and loc[-1] in COMMANDS:
        return error(path, "must be a command: a mapping with type (shell or docker) and command")
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "").replace("'", "").replace(" or ", ", ")
        return error(path, f"must be one of {expected}")
    if kind == "too_short":
        return error(path, "must not be empty")
    if kind == "extra_forbidden":
        return error(path, _unknown_field(root, loc, prefix))
    if loc and loc[-1] == "[key]":
        return error(path[:-1], f"the name {to_diagnostic(root, err).message}")
    return Diagnostic(path, to_diagnostic(root, err).message)


def _without_tags(root: type[BaseModel], loc: tuple) -> FieldPath:
    """The location as the user's file has it: without pydantic's union tags (`dispatch.docker.image`)."""
    return tuple(part for part, is_tag in _walk(root, loc)[1] if not is_tag)


def _walk(root: type[BaseModel], loc: tuple) -> tuple[Any, list[tuple[Any, bool]]]:
    """The model that validates the value at `loc` (or None), and each element of `loc` marked if it is a tag."""
    model: Any = root
    marked: list[tuple[Any, bool]] = []
    i = 0
    while i < len(loc):
        part = loc[i]
        marked.append((part, False))
        i += 1
        if isinstance(part, int) or part == "[key]":
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            model = None
            continue
        model, kind = _child(model.model_fields[part].annotation, loc[i] if i < len(loc) else None)
        if kind in ("tag", "key") and i < len(loc):
            marked.append((loc[i], kind == "tag"))
            i += 1
    return model, marked


def _child(annotation: Any, nxt: Any) -> tuple[Any, str]:
    """The model under a field of this type; "tag" or "key" when the next location element is a union tag or a
    mapping key (list indexes are ints and skip themselves)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, ""
    if origin is dict:
        return _child(typing.get_args(annotation)[1], None)[0], "key"
    if origin in (list, tuple):
        return _child(typing.get_args(annotation)[0], None)[0], ""
    options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if len(options) == 1:
        return _child(options[0], nxt)
    models = [m_ for m_ in (_child(arg, None)[0] for arg in options) if m_ is not None]
    if len(models) == 1:
        return models[0], ""
    for model in models:
        if "type" in model.model_fields and nxt in typing.get_args(model.model_fields["type"].annotation):
            return model, "tag"
    return None, ""


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    model, _ = _child(annotation, None)
    return [model] if model is not None else []


def _unknown_field(root: type[BaseModel], loc: tuple, prefix: FieldPath) -> str:
    model, _ = _walk(root, loc[:-1])
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return "unknown field"
    key = str(loc[-1])
    known = field_names(model)
    where = format_path(prefix + _without_tags(root, loc[:-1]))

    def full(name: str) -> str:
        return f"{where}.{name}" if where else name

    kind = f"not {'an' if model.__name__[0] in 'AEIOU' else 'a'} {model.__name__} field"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"{kind}; did you mean {full(close[0])}?"
    for name in known:
        children = _models_in(model.model_fields[name].annotation)
        if len(children) == 1 and key in field_names(children[0]):
            return f"{kind}; did you mean {full(name)}.{key}?"
    return f"{kind} (known fields: {', '.join(known)})"


# --- lowering -------------------------------------------------------------------------------------


def _lower(v: _Version, s: Settings, name: str, problems: list[Diagnostic], notes: list[Diagnostic]) -> ir.Job:
    model = v.model
    cpath = v.path + ("commands",)
    params, sbatch = _submitter(model.submitter, v.path + ("submitter",), s, problems)
    resources = _resources(params, s)
    workunit = _workunit(s.workunit_ref)
    lower = _Lowering(s, problems, notes)
    steps: list[ir.AnyStep] = [
        lower.run("dispatch", model.commands.dispatch, cpath + ("dispatch",), [workunit, ir.Var(WORK_DIR)]),
        lower.run("process", model.commands.process, cpath + ("process",), [ir.Var(CHUNK_DIR)]),
    ]
    if model.commands.collect is not None:
        steps.append(lower.run("collect", model.commands.collect, cpath + ("collect",), [workunit, ir.Var(CHUNK_DIR)]))
    loop = ir.LoopStep(
        name=f"app version {v.name}",
        path=cpath,
        over=ir.ChunkDirs(directory=_work_dir(s.work_dir), setup=1),
        parallel=False,
        steps=tuple(steps),
    )
    return ir.Job(name=name, resources=resources, steps=(loop,), sbatch=tuple(sbatch))


def _workunit(ref: str | None) -> str:
    """A workunit id as it is; a workunit definition file relative to the submit directory (as the work dir)."""
    if ref is None:
        return "0"  # validate only
    if ref.isdigit() or ref.startswith("/"):
        return ref
    return _word(ir.Var("SLURM_SUBMIT_DIR"), "/" + ref)


def _work_dir(given: str | None) -> str:
    """The work directory as a shell word: --work-dir (relative to the submit directory), else $STORAGE_PATH/work."""
    if given is None:
        return _word(ir.Var("STORAGE_PATH"), "/work")
    if given.startswith("/"):
        return given
    return _word(ir.Var("SLURM_SUBMIT_DIR"), "/" + given)


def _submitter(ref: m.SubmitterRef, path: FieldPath, s: Settings, problems: list[Diagnostic]):
    """The submitter's parameters (its file's, overridden by `config`), and the `#SBATCH` lines they give."""
    base = m.SubmitterParams()
    if s.submitters is not None:
        if ref.name in s.submitters:
            base = s.submitters[ref.name]
        else:
            known = ", ".join(s.submitters) or "none"
            problems.append(error(path + ("name",), f"no submitter named {ref.name!r} in {s.submitters_file} (known: {known})"))
    merged = {key: getattr(ref.config, key) if getattr(ref.config, key) is not None else getattr(base, key)
              for key in ("partition", "nodelist", "mem", "time")}
    sbatch = [ir.Sbatch(key, merged[key]) for key in ("partition", "nodelist", "time")
              if merged[key] not in (None, m.DEFAULT) and key not in s.cli_sbatch_keys]
    return merged, sbatch


def _resources(params: dict[str, str | None], s: Settings) -> ir.Resources:
    cpus = s.cpus_per_task
    mem = s.mem if s.mem is not None else params["mem"]
    if mem is None or mem == m.DEFAULT:
        per_cpu = DEFAULT_MEM_PER_CPU
    else:
        per_cpu = -(-m.mem_mb(mem) // cpus)
    return ir.Resources(tasks=1, cpus_per_task=cpus, mem_per_cpu=per_cpu, gpus_per_task=0)


class _Lowering:
    def __init__(self, s: Settings, problems: list[Diagnostic], notes: list[Diagnostic]):
        self.s = s
        self.problems = problems
        self.notes = notes

    def run(self, name: str, cmd: m.CommandShell | m.CommandDocker, path: FieldPath, args: list) -> ir.RunStep:
        env: tuple[ir.EnvVar, ...] = ()
        if isinstance(cmd, m.CommandShell):
            argv = shlex.split(cmd.command) + [_word(a) for a in args]
        elif self.s.container_runtime == "docker":
            argv = docker_argv(cmd) + [_word(a) for a in args]
        else:
            argv, env = self.site_runtime(cmd, path, args)
        return ir.RunStep(name=name, path=path, command=cmd.command, argv=tuple(argv), env=env,
                          work_dir=_word(ir.Var(WORK_DIR)))

    def site_runtime(self, cmd: m.CommandDocker, path: FieldPath, args: list) -> tuple[list[str], tuple]:
        runtime = self.s.container_runtime
        if cmd.custom_args:
            self.problems.append(error(path + ("custom_args",), f"are {cmd.engine} arguments: they have no equivalent "
                                       f"with --container-runtime {runtime}"))
        for key in ("hostname", "mac_address"):
            if getattr(cmd, key):
                self.notes.append(warning(path + (key,), f"is ignored with --container-runtime {runtime}"))
        if runtime == "apptainer":
            env = tuple(ir.EnvVar(f"APPTAINERENV_{k}", v, path + ("env", k)) for k, v in cmd.env.items())
            return apptainer_argv(cmd, self.s.tools.get("apptainer", "apptainer")) + [_word(a) for a in args], env
        self._check_enroot_paths(cmd, path)
        env = tuple(ir.EnvVar(k, v, path + ("env", k)) for k, v in cmd.env.items())
        return enroot_argv(cmd, self.s.tools.get("enroot", "enroot")) + [_word(a) for a in args], env

    def _check_enroot_paths(self, cmd: m.CommandDocker, path: FieldPath) -> None:
        mpath = path + ("mounts",)
        checks = [(mpath + ("work_dir_target",), cmd.mounts.work_dir_target)]
        for kind in ("read_only", "writeable"):
            for i, (host, target) in enumerate(getattr(cmd.mounts, kind)):
                checks += [(mpath + (kind, i, 0), host), (mpath + (kind, i, 1), target)]
        for where, value in checks:
            if value is not None and re.search(r"[\s:,]", value):
                self.problems.append(error(where, "must not contain spaces, ':' or ',' with --container-runtime enroot "
                                                  "(enroot's --mount cannot quote them)"))


# --- argv words ----------------------------------------------------------------------------------


def _word(*parts: Any) -> "str | ir.Word":
    """One argv word from literal strings and run-time parts: a plain str when it is all literal."""
    flat: list = []
    for part in parts:
        if isinstance(part, ir.Word):
            flat.extend(part.parts)
        elif part != "":
            flat.append(part)
    merged: list = []
    for part in flat:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    if all(isinstance(p, str) for p in merged):
        return "".join(merged)
    return ir.Word(tuple(merged))


def csv_field(text: str) -> str:
    """A field of a docker/podman/apptainer --mount value, as Go's encoding/csv reads it."""
    if re.search(r'[,"\r\n]', text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _field(key: str, parts: tuple) -> Any:
    if all(isinstance(p, str) for p in parts):
        return csv_field(key + "".join(parts))
    return ir.CsvField((key, *parts))


def _host_parts(path: str) -> tuple:
    """A host path as bfabric-app-runner resolves it (`Path(p).expanduser().absolute()`), relative to the work dir."""
    if path == "~" or path.startswith("~/"):
        rest = str(PurePosixPath(path))[1:]
        return (ir.Var("HOME"), rest)
    norm = str(PurePosixPath(path))
    if norm.startswith("/"):
        return (norm,)
    return (ir.Var(WORK_DIR),) if norm == "." else (ir.Var(WORK_DIR), "/" + norm)


def _mounts(opts: m.MountOptions) -> list[tuple[tuple, tuple, bool]]:
    """(host parts, container parts, read-only) in bfabric-app-runner's order."""
    out = []
    if opts.share_bfabric_config:
        out.append(((ir.Var("HOME"), "/.bfabricpy.yml"), (BFABRIC_CONFIG,), True))
    target = (ir.Var(WORK_DIR),) if opts.work_dir_target is None else (str(PurePosixPath(opts.work_dir_target)),)
    out.append(((ir.Var(WORK_DIR),), target, False))
    for host, container in opts.read_only:
        out.append((_host_parts(host), (str(PurePosixPath(container)),), True))
    for host, container in opts.writeable:
        out.append((_host_parts(host), (str(PurePosixPath(container)),), False))
    return out


def _mount_word(host: tuple, target: tuple, read_only: bool, *, target_key: str, ro_flag: str) -> str:
    parts: list = ["type=bind,", _field("source=", host), ",", _field(f"{target_key}=", target)]
    if read_only:
        parts.append("," + ro_flag)
    return _word(*parts)


def docker_argv(cmd: m.CommandDocker) -> list[str]:
    """The argv of bfabric-app-runner's `CommandDocker.to_shell()`, with values passed exactly as written."""
    argv: list[str] = [cmd.engine, "run", "--user", _word(ir.UserId("uid"), ":", ir.UserId("gid")), "--rm"]
    for host, target, ro in _mounts(cmd.mounts):
        argv += ["--mount", _mount_word(host, target, ro, target_key="target", ro_flag="readonly")]
    if cmd.entrypoint:
        argv += ["--entrypoint", cmd.entrypoint]
    for key, value in cmd.env.items():
        argv += ["--env", f"{key}={value}"]
    if cmd.mac_address:
        argv += ["--mac-address", cmd.mac_address]
    argv += list(cmd.custom_args)
    if cmd.hostname:
        argv += ["--hostname", cmd.hostname]
    argv.append(cmd.image)
    return argv + shlex.split(cmd.command)


def apptainer_argv(cmd: m.CommandDocker, apptainer: str) -> list[str]:
    """Apptainer for a docker command: `run` keeps the image's entrypoint, `exec` replaces it."""
    argv: list[str] = [apptainer, "exec" if cmd.entrypoint else "run"]
    for host, target, ro in _mounts(cmd.mounts):
        argv += ["--mount", _mount_word(host, target, ro, target_key="destination", ro_flag="ro")]
    argv.append(f"docker://{cmd.image}")
    if cmd.entrypoint:
        argv.append(cmd.entrypoint)
    return argv + shlex.split(cmd.command)


# Import the image once per job into the job's private directory, then start it (enroot start IMAGE.sqsh).
ENROOT_START = ('enroot=$1 src=$2 image=$3; shift 3; if [ ! -e "$image" ]; then mkdir -p -- "${image%/*}" '
                '&& "$enroot" import --output "$image.part.$$" "$src" && mv -f -- "$image.part.$$" "$image" || exit; fi; '
                'exec "$enroot" start "$@"')


def enroot_argv(cmd: m.CommandDocker, enroot: str) -> list[str]:
    registry, rest = _split_registry(cmd.image)
    source = f"docker://{registry}#{rest}" if registry else f"docker://{rest}"
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", rest).strip("._")[:80].rstrip("._") or "image"  # the hash keeps it unique
    image = _word(ir.Var("JOBC_RUN"), f"/images/{readable}-{digest}.sqsh")
    argv: list[str] = ["bash", "-c", ENROOT_START, "jobc-enroot", enroot, source, image, "--rw"]
    for host, target, ro in _mounts(cmd.mounts):
        argv += ["--mount", _word(*host, ":", *target, ":ro" if ro else "")]
    for key in cmd.env:
        argv += ["--env", key]
    argv.append(image)
    if cmd.entrypoint:
        argv.append(cmd.entrypoint)
    return argv + shlex.split(cmd.command)


def _split_registry(image: str) -> tuple[str, str]:
    first, slash, rest = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "", image
