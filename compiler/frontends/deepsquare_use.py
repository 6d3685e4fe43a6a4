"""DeepSquare `use` steps -> `ir.ModuleStep`: a module resolved, templated, validated and inlined.

The module's file is located (`jobc.modules`), rendered with the `{Job, Step}` data the grid gives it, parsed
and validated like a job's steps. Every field path inside it carries an `InModule` part, so a problem found
here or by any later pass is reported in the module's file, with the `use` that brought it in.

The module machinery (`jobc.modules`, the module file's models) is imported by the first `use`, and the
job's template data made then: a job without a `use` pays for neither.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from .. import ir
from ..diagnostics import Diagnostic, FieldPath, InModule, SourceError, error, format_path, split_path, warning
from ..reserved import describe, is_reserved
from ..source import Plain, SourceMap, load
from . import deepsquare_models as m
from .validation import field_names, validate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..modules import fetch, sources
    from .module_models import Module

MAX_DEPTH = 8
SOURCE_PROBLEM = "E0805"  # a module source that cannot be used, worded by git or the source grammar
MODULE_FILE = "module.yaml"
_SECRETS = {"secretAccessKey", "password", "privateKey", "preSharedKey"}  # never shown to a module's template


@dataclass
class Shared:
    """What every `use` of one job shares: the module cache and the job as its templates see it."""

    raw: Any  # the job's data
    offline: bool
    cache_root: str | None

    @functools.cached_property
    def cache(self) -> fetch.Cache:
        from ..modules import fetch

        return fetch.Cache(self.cache_root or fetch.default_root(), self.offline)

    @functools.cached_property
    def job(self) -> Any:
        """The calling job as a gotemplate.GoStruct."""
        return go_struct(m.Job, self.raw)


@dataclass
class UseContext:
    """What lowering a `use` needs: where the current file is (None: the spec's directory), what the job's uses
    share."""

    base: sources.Location | None
    shared: Shared
    job_resources: m.JobResources
    raw: Any  # the current file's data, to hand a `use` step to the template as written
    spec_dir: str
    problems: list[Diagnostic]
    warnings: list[Diagnostic]
    stack: tuple[tuple[str, str, str], ...] = ()
    names: tuple[str, ...] = ()
    shown: dict = field(default_factory=dict)


def top_context(job: m.Job, raw: Any, *, spec_name: str, offline: bool, cache_root: str | None) -> UseContext:
    spec_dir = os.path.dirname(os.path.abspath(spec_name)) if spec_name != "-" else os.getcwd()
    return UseContext(
        base=None,
        shared=Shared(raw, offline, cache_root),
        job_resources=job.resources,
        raw=raw,
        spec_dir=spec_dir,
        problems=[],
        warnings=[],
    )


def lower_use(
    step: m.Step, path: FieldPath, ctx: UseContext, lower_steps: Callable[..., tuple[ir.AnyStep, ...]], common: dict
) -> ir.AnyStep:
    """The module step, with the fields every step has (`common`); on a problem, a note step (the problem is in
    `ctx.problems`)."""
    from ..modules import fetch, gotemplate, sources

    use = step.use
    assert use is not None
    upath = path + ("use",)
    fallback = ir.NoteStep(**common)
    try:
        location = _locate(use.source, ctx)
    except (sources.SourceProblem, fetch.FetchProblem) as exc:
        ctx.problems.append(error(upath + ("source",), str(exc), code=SOURCE_PROBLEM))
        return fallback
    key = (location.url or "", location.commit or "", location.directory)
    shown, in_script = _names(location, ctx)
    if key in ctx.stack:
        chain = " -> ".join(ctx.names + (shown,))
        ctx.problems.append(error(upath + ("source",), f"modules use each other in a cycle: {chain}"))
        return fallback
    if len(ctx.stack) >= MAX_DEPTH:
        ctx.problems.append(error(upath + ("source",), f"modules nested deeper than {MAX_DEPTH} levels"))
        return fallback
    try:
        text = fetch.read_file(location, MODULE_FILE)
    except fetch.FetchProblem as exc:
        ctx.problems.append(error(upath + ("source",), str(exc), code=SOURCE_PROBLEM))
        return fallback
    if text is None:
        ctx.problems.append(error(upath + ("source",), f"no {MODULE_FILE} in {shown.rsplit('/', 1)[0]}"))
        return fallback
    raw_step = _at(ctx.raw, split_path(path)[-1][1])
    loaded = _load(
        text,
        shown,
        in_script,
        upath,
        ctx,
        gotemplate.GoStruct("", {"Job": ("job", ctx.shared.job), "Step": ("step", go_struct(m.Step, raw_step))}),
    )
    if loaded is None:
        return fallback
    module, data, inside = loaded
    problems = _check(module, use, upath, inside, ctx)
    if problems:
        ctx.problems.extend(problems)
        return fallback
    inner = UseContext(
        base=location,
        shared=ctx.shared,
        job_resources=ctx.job_resources,
        raw=data,
        spec_dir=ctx.spec_dir,
        problems=ctx.problems,
        warnings=ctx.warnings,
        stack=ctx.stack + (key,),
        names=ctx.names + (shown,),
    )
    inputs = {i.key: i.default for i in module.inputs or ()}
    for arg in use.args or ():
        inputs[arg.key] = arg.value
    env = tuple(ir.EnvVar(k, v or "", upath) for k, v in inputs.items())
    return ir.ModuleStep(
        **common,
        module=module.name,
        source=use.source,
        file=in_script,
        commit=location.commit,
        digest=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        env=env,
        outputs=tuple(o.key for o in module.outputs or ()),
        export_prefix=f"{use.exportEnvAs}_" if use.exportEnvAs else "",
        steps=lower_steps(module.steps, inside + ("steps",), inner),
    )


def _locate(source: str, ctx: UseContext) -> sources.Location:
    from ..modules import fetch, sources

    parsed = sources.parse(source)
    if isinstance(parsed, sources.LocalSource):
        location = sources.local_in(sources.Location(ctx.spec_dir) if ctx.base is None else ctx.base, parsed)
        if not location.is_git and not os.path.isdir(location.directory):
            raise sources.SourceProblem(f"no module directory {location.directory}")
        return location
    return fetch.resolve(ctx.shared.cache, parsed)


def _names(location: sources.Location, ctx: UseContext) -> tuple[str, str]:
    """The module file as diagnostics show it (relative to the current directory when inside it) and as the
    script's comments show it (relative to the spec's directory, whatever directory jobc runs in)."""
    if location.is_git:
        inside = f"{location.directory}/{MODULE_FILE}" if location.directory else MODULE_FILE
        name = f"{location.url}/{inside}@{(location.commit or '')[:12]}"
        return name, name
    path = os.path.join(location.directory, MODULE_FILE)
    cwd_rel = os.path.relpath(path)
    shown = path if cwd_rel.startswith("..") else cwd_rel
    return shown, os.path.relpath(path, ctx.spec_dir)


def _load(text: str, shown: str, in_script: str, upath: FieldPath, ctx: UseContext, data: Any):
    """(the module, its data, the path prefix of its fields), or None with the problem in ctx.problems."""
    from ..modules import gotemplate
    from .module_models import Module

    def at_position(message: str, line: int, col: int) -> None:
        smap = SourceMap(positions={(): (line, col)})
        ctx.problems.append(error(upath + (InModule(shown, smap, in_script),), message))

    try:
        rendered = gotemplate.render(text, data)
    except gotemplate.TemplateProblem as exc:
        at_position(f"template: {exc.message}", exc.line, exc.col)
        return None
    try:
        parsed = load(rendered.text, "yaml")
    except SourceError as exc:
        at_position(exc.diagnostics[0].message, *rendered.position(exc.line, exc.col))
        return None
    smap = SourceMap(
        positions={p: rendered.position(*at) for p, at in parsed.source_map.positions.items()},
        key_positions={p: rendered.position(*at) for p, at in parsed.source_map.key_positions.items()},
    )
    inside = upath + (InModule(shown, smap, in_script),)
    raw = parsed.data
    if isinstance(raw, dict):
        raw = _drop_misspelt_descriptions(raw, inside, ctx)
    module, problems = validate(Module, raw)
    if problems:
        ctx.problems.extend(replace(d, path=inside + d.path) for d in problems)
        return None
    assert isinstance(module, Module)
    return module, raw, inside


def _drop_misspelt_descriptions(raw: dict, inside: FieldPath, ctx: UseContext) -> dict:
    """A key one typo away from `description` warns and is left out (see module_models)."""
    import difflib

    def clean(mapping: dict, path: FieldPath, known: list[str]) -> dict:
        out = {}
        for key, value in mapping.items():
            if key not in known and difflib.get_close_matches(key, ["description"], n=1, cutoff=0.8):
                hint = format_path(path + ("description",))
                ctx.warnings.append(
                    warning(
                        inside + path + (key,),
                        f"unknown field, ignored (the grid ignores it too); did you mean {hint}?",
                    )
                )
                continue
            out[key] = value
        return out

    from .module_models import Module, ModuleInput, ModuleOutput

    raw = clean(raw, (), field_names(Module))
    for name, model in (("inputs", ModuleInput), ("outputs", ModuleOutput)):
        items = raw.get(name)
        if isinstance(items, list):
            raw[name] = [
                clean(item, (name, i), field_names(model)) if isinstance(item, dict) else item
                for i, item in enumerate(items)
            ]
    return raw


def _check(module: Module, use: m.StepUse, upath: FieldPath, inside: FieldPath, ctx: UseContext) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    inputs: dict[str, int] = {}
    for i, item in enumerate(module.inputs or ()):
        if item.key in inputs:
            problems.append(error(inside + ("inputs", i, "key"), f"input {item.key} is declared twice"))
        inputs.setdefault(item.key, i)
    outputs: set[str] = set()
    for i, item in enumerate(module.outputs or ()):
        if item.key in outputs:
            problems.append(error(inside + ("outputs", i, "key"), f"output {item.key} is declared twice"))
        outputs.add(item.key)
        exported = f"{use.exportEnvAs}_{item.key}" if use.exportEnvAs else item.key
        if use.exportEnvAs and is_reserved(exported):
            problems.append(
                error(
                    upath + ("exportEnvAs",),
                    f"makes output {item.key} {exported}, a name reserved {describe()}",
                )
            )
    given: set[str] = set()
    for i, arg in enumerate(use.args or ()):
        if arg.key in given:
            problems.append(error(upath + ("args", i, "key"), f"{arg.key} is given twice"))
        given.add(arg.key)
        if arg.key not in inputs:
            import difflib

            close = difflib.get_close_matches(arg.key, list(inputs), n=1, cutoff=0.6)
            known = (
                f"did you mean {close[0]}?"
                if close
                else (f"its inputs: {', '.join(inputs)}" if inputs else "it declares no inputs")
            )
            problems.append(
                error(upath + ("args", i, "key"), f"module {module.name!r} has no input {arg.key}; {known}")
            )
    for item in module.inputs or ():
        if item.default is None and item.key not in given:
            problems.append(
                error(upath, f"module {module.name!r} needs input {item.key} (it has no default): give it in args")
            )
    problems += _resources(module, upath, ctx.job_resources)
    return problems


def _resources(module: Module, upath: FieldPath, job: m.JobResources) -> list[Diagnostic]:
    least = module.minimumResources
    if least is None:
        return []
    held = {
        "tasks": job.tasks,
        "cpusPerTask": job.cpusPerTask,
        "memPerCpu": job.memPerCpu,
        "gpusPerTask": job.gpusPerTask,
        "gpus": job.tasks * job.gpusPerTask,
    }
    out = []
    for name, has in held.items():
        needed = getattr(least, name)
        if needed is not None and has < needed:
            out.append(
                error(
                    upath,
                    f"module {module.name!r} needs resources.{name} of at least {needed} (its minimumResources); "
                    f"the job has {has}",
                )
            )
    return out


def _at(data: Any, path: FieldPath) -> Any:
    for part in path:
        data = data[part]
    return data


# --- the template's data: the job and the step as Go structs ------------------------------------------------

_INITIALISMS = {"cpu", "id", "url", "dns", "ip", "ips", "uid", "gid", "http", "https", "json", "api", "tcp", "udp"}


@functools.lru_cache(maxsize=None)
def go_name(name: str) -> str:
    """The Go field name gqlgen gives a schema field: `memPerCpu` -> `MemPerCPU`, `allowedIPs` -> `AllowedIPs`."""
    import re

    words = re.findall(r"[a-z0-9]+|[A-Z]+(?![a-z])|[A-Z][a-z0-9]*", name)
    out = []
    for word in words:
        if word.lower() == "ips":
            out.append("IPs")
        elif word.lower() in _INITIALISMS:
            out.append(word.upper())
        else:
            out.append(word[:1].upper() + word[1:])
    return "".join(out)


@functools.lru_cache(maxsize=None)
def _go_fields(model: type) -> tuple[tuple[str, str, Any], ...]:
    """(Go name, spec name, model of the value) of each field of `model`: the same for every value of it."""
    from .validation import _child

    return tuple(
        (go_name(info.alias or attr), info.alias or attr, _child(info.annotation, None)[0])
        for attr, info in model.model_fields.items()
    )


def go_struct(model: type, raw: Any) -> Any:
    """The spec's data under Go names, as the grid's template sees it (secrets left out)."""
    from ..modules import gotemplate

    if not isinstance(raw, dict):
        return _go_value(raw, None)
    fields = {}
    for go, yaml_name, child in _go_fields(model):
        value = None if yaml_name in _SECRETS else raw.get(yaml_name)
        fields[go] = (yaml_name, _go_value(value, child))
    return gotemplate.GoStruct(model.__name__, fields)


def _go_value(value: Any, model: Any) -> Any:
    if isinstance(value, Plain):
        return value.value
    if isinstance(value, list):
        return [_go_value(v, model) for v in value]
    if isinstance(value, dict):
        return go_struct(model, value) if model is not None else value
    return value
