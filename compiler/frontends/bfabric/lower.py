"""One validated app version -> IR: its commands as run steps of a loop over the chunk directories.

Dispatch runs once, then process and collect once per chunk directory that
dispatch created (`ir.ChunkDirs`). A command runs as an argv, never through a
shell; a docker command becomes an `ir.Container` that the backend renders for
the runtime chosen (docker or podman as the command says, or the site's
Apptainer or enroot), with the same mounts, environment and entrypoint.

A command's argv holds values only known at run time: the work directory, the
chunk directory, `$HOME` (for `~`) and the user's uid:gid (docker's `--user`).
Such a word is an `ir.Word` of literal text and run-time parts (`ir.Var`,
`ir.UserId`); the backend quotes the literal parts and expands the others, so no
value can become shell syntax. Paths the runner treats as spec-relative (mount
host sides, `prepend_paths`, `pylock`, `local_extra_deps`) are joined to the
spec's directory here, after Mako. An exec or python_env command's env and PATH
entries are an `ir.CommandEnv`, its uv environment an `ir.PythonEnv`; the
backend renders both. bfabric-app-runner 0.9.1 `shlex.quote`s mount
paths and env values inside the argument, so `a b` arrives as `'a b'`; jobc
passes the value itself (docs/bfabric.md, "Differences").
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import PurePosixPath

from ... import ir
from ...diagnostics import Diagnostic, FieldPath, error, warning
from . import models as m
from .settings import Settings
from .versions import Version

WORK_DIR = ir.Var(ir.Place.WORK)
CHUNK_DIR = ir.Var(ir.Place.CHUNK)
WORK_DIR_WORD, CHUNK_DIR_WORD = ir.Word((WORK_DIR,)), ir.Word((CHUNK_DIR,))  # words are frozen: one for every use
USER_WORD = ir.word(ir.UserId("uid"), ":", ir.UserId("gid"))  # docker's `--user uid:gid`
HOME = ir.Var(ir.Place.HOME)
DEFAULT_MEM_PER_CPU = 1024  # MB; see docs/bfabric.md, "Resources"
BFABRIC_CONFIG = "/home/user/.bfabricpy.yml"  # where bfabric-app-runner mounts ~/.bfabricpy.yml


def lower(v: Version, s: Settings, name: str, problems: list[Diagnostic], notes: list[Diagnostic]) -> ir.Job:
    model = v.model
    cpath = v.path + ("commands",)
    params, sbatch = _submitter(model.submitter, v.path + ("submitter",), s, problems)
    resources = _resources(params, s)
    workunit = _workunit(s.app.workunit_ref)
    commands = _Commands(s, problems, notes)
    steps: list[ir.AnyStep] = [
        commands.run("dispatch", model.commands.dispatch, cpath + ("dispatch",), [workunit, WORK_DIR_WORD]),
        commands.run("process", model.commands.process, cpath + ("process",), [CHUNK_DIR_WORD]),
    ]
    if model.commands.collect is not None:
        steps.append(commands.run("collect", model.commands.collect, cpath + ("collect",), [workunit, CHUNK_DIR_WORD]))
    loop = ir.LoopStep(
        name=f"app version {v.name}",
        path=cpath,
        over=ir.ChunkDirs(directory=_work_dir(s.app.work_dir), setup=1),
        parallel=False,
        steps=tuple(steps),
    )
    return ir.Job(name=name, resources=resources, steps=(loop,), sbatch=tuple(sbatch))


def _workunit(ref: str | None) -> "str | ir.Word":
    """A workunit id as it is; a workunit definition file relative to the submit directory (as the work dir)."""
    if ref is None:
        return "0"  # validate only
    if ref.isdigit() or ref.startswith("/"):
        return ref
    return ir.word(ir.Var(ir.Place.SUBMIT), "/" + ref)


def _work_dir(given: str | None) -> "str | ir.Word":
    """The work directory as a shell word: --work-dir (relative to the submit directory), else $STORAGE_PATH/work."""
    if given is None:
        return ir.word(ir.Var(ir.Place.STORAGE), "/work")
    if given.startswith("/"):
        return given
    return ir.word(ir.Var(ir.Place.SUBMIT), "/" + given)


def _submitter(ref: m.SubmitterRef | None, path: FieldPath, s: Settings, problems: list[Diagnostic]):
    """The submitter's parameters (its file's, overridden by `config`), and the `#SBATCH` lines they give."""
    base = m.SubmitterParams()
    submitters = s.app.submitters
    if ref is None:  # bfabric-app-runner 0.9 specs name no submitter: the site profile's defaults
        ref = m.SubmitterRef.model_construct(name="", config=m.SubmitterParams())
    elif submitters is not None:
        if ref.name in submitters:
            base = submitters[ref.name]
        else:
            known = ", ".join(submitters) or "none"
            problems.append(
                error(path + ("name",), f"no submitter named {ref.name!r} in {s.submitters_file} (known: {known})")
            )
    merged = {
        key: getattr(ref.config, key) if getattr(ref.config, key) is not None else getattr(base, key)
        for key in ("partition", "nodelist", "mem", "time")
    }
    sbatch = [
        ir.Sbatch(key, merged[key])
        for key in ("partition", "nodelist", "time")
        if merged[key] not in (None, m.DEFAULT) and key not in s.app.cli_sbatch_keys
    ]
    return merged, sbatch


def _resources(params: dict[str, str | None], s: Settings) -> ir.Resources:
    cpus = s.cpus_per_task
    mem = s.app.mem if s.app.mem is not None else params["mem"]
    if mem is None or mem == m.DEFAULT:
        per_cpu = DEFAULT_MEM_PER_CPU
    else:
        per_cpu = -(-m.mem_mb(mem) // cpus)
    return ir.Resources(tasks=1, cpus_per_task=cpus, mem_per_cpu=per_cpu, gpus_per_task=0)


class _Commands:
    def __init__(self, s: Settings, problems: list[Diagnostic], notes: list[Diagnostic]):
        self.s = s
        self.problems = problems
        self.notes = notes

    def run(self, name: str, cmd: m.AnyCommand, path: FieldPath, args: list) -> ir.RunStep:
        """The command's run step; `args` (words) follow the command's own words."""
        command = cmd.command
        words = command.words if isinstance(command, m.CommandLine) else shlex.split(command)
        argv = [*words, *args]
        container = self.container(cmd, path) if isinstance(cmd, m.CommandDocker) else None
        command_env = python_env = None
        fields: list[tuple[str, FieldPath]] = [("command", path + ("command",))]
        if isinstance(cmd, (m.CommandExec, m.CommandPythonEnv)):
            command_env = ir.CommandEnv(
                path_prepend=tuple(self.spec_path(p) for p in cmd.prepend_paths),
                env=tuple(ir.EnvVar(k, v, path + ("env", k)) for k, v in cmd.env.items()),
            )
            fields += [("env", path + ("env",)), ("prepend_paths", path + ("prepend_paths",))]
        if isinstance(cmd, m.CommandPythonEnv):
            python_env = ir.PythonEnv(
                pylock=self.spec_path(cmd.pylock, path + ("pylock",), "the lock file"),
                python_version=cmd.python_version,
                extra_deps=tuple(
                    self.spec_path(d, path + ("local_extra_deps", i), "the extra dependency")
                    for i, d in enumerate(cmd.local_extra_deps)
                ),
                refresh=cmd.refresh,
                path=path,
            )
            fields += [("pylock", path + ("pylock",)), ("python_version", path + ("python_version",))]
        return ir.RunStep(
            name=name,
            path=path,
            command=str(command),
            argv=tuple(argv),
            container=container,
            work_dir=WORK_DIR_WORD,
            command_env=command_env,
            python_env=python_env,
            field_paths=tuple(fields),
        )

    def spec_path(self, value: str, path: FieldPath = (), what: str = "") -> "str | ir.Word":
        """A spec-relative path (bfabric-app-runner's SpecRelativePath): `~` is $HOME at run time, a relative
        path is relative to the spec's directory. With `what`, a literal path missing here gets a warning."""
        resolved = spec_path(value, self.s.app_dir)
        if what and isinstance(resolved, str) and not os.path.exists(resolved):
            self.notes.append(
                warning(path, f"{what} {resolved} does not exist here (the compute nodes may see another file system)")
            )
        return resolved

    def container(self, cmd: m.CommandDocker, path: FieldPath) -> ir.Container:
        runtime = cmd.engine if self.s.container_runtime == "docker" else self.s.container_runtime
        engine = runtime in ("docker", "podman")
        if not engine:
            self._check_site_runtime(cmd, path, runtime)
        registry, image = (None, cmd.image) if engine else split_registry(cmd.image)
        return ir.Container(
            image=image,
            registry=registry,
            runtime=runtime,
            mounts=mounts(cmd.mounts, path + ("mounts",), self.s.app_dir),
            mount_storage=False,
            start_in_work_dir=False,
            env=tuple(ir.EnvVar(k, v, path + ("env", k)) for k, v in cmd.env.items()),
            entrypoint=cmd.entrypoint,
            keep_entrypoint=True,
            extra_args=tuple(cmd.custom_args) if engine else (),
            hostname=(cmd.hostname or None) if engine else None,
            mac_address=(cmd.mac_address or None) if engine else None,
            user=USER_WORD if engine else None,
            path=path,
        )

    def _check_site_runtime(self, cmd: m.CommandDocker, path: FieldPath, runtime: str) -> None:
        if cmd.custom_args:
            self.problems.append(
                error(
                    path + ("custom_args",),
                    f"are {cmd.engine} arguments: they have no equivalent with --container-runtime {runtime}",
                )
            )
        for key in ("hostname", "mac_address"):
            if getattr(cmd, key):
                self.notes.append(warning(path + (key,), f"is ignored with --container-runtime {runtime}"))
        if runtime == "enroot":
            mpath = path + ("mounts",)
            checks = [(mpath + ("work_dir_target",), cmd.mounts.work_dir_target)]
            for kind in ("read_only", "writeable"):
                for i, (host, target) in enumerate(getattr(cmd.mounts, kind)):
                    checks += [(mpath + (kind, i, 0), host), (mpath + (kind, i, 1), target)]
            for where, value in checks:
                if value is not None and re.search(r"[\s:,]", value):
                    self.problems.append(
                        error(
                            where,
                            "must not contain spaces, ':' or ',' with --container-runtime "
                            "enroot (enroot cannot mount such paths)",
                        )
                    )


def split_registry(image: str) -> tuple[str | None, str]:
    """`registry.example.com:5000/team/app:1` -> the registry host and the rest (Docker's rule for the first part)."""
    first, slash, rest = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, image


def spec_path(path: str, app_dir: str) -> "str | ir.Word":
    """A path as bfabric-app-runner 0.9.1's SpecRelativePath resolves it: `expanduser()` (here: $HOME at run
    time), then a relative path joined to the spec's directory. jobc resolves after Mako, so `${app.dir}/x`
    is already absolute and is not joined a second time (0.9.1 resolves before Mako and does)."""
    if path == "~" or path.startswith("~/"):
        return ir.word(HOME, str(PurePosixPath(path))[1:])
    norm = str(PurePosixPath(path))
    if norm.startswith("/"):
        return norm
    return app_dir if norm == "." else str(PurePosixPath(app_dir, norm))


def mounts(opts: m.MountOptions, path: FieldPath, app_dir: str) -> tuple[ir.Mount, ...]:
    """The bind mounts of a docker command, in bfabric-app-runner's order."""
    out = []
    if opts.share_bfabric_config:
        out.append(ir.Mount(ir.word(HOME, "/.bfabricpy.yml"), BFABRIC_CONFIG, True, path + ("share_bfabric_config",)))
    work = WORK_DIR_WORD
    target = work if opts.work_dir_target is None else str(PurePosixPath(opts.work_dir_target))
    out.append(ir.Mount(work, target, False, path + ("work_dir_target",)))
    for kind, read_only in (("read_only", True), ("writeable", False)):
        for i, (host, container) in enumerate(getattr(opts, kind)):
            out.append(ir.Mount(spec_path(host, app_dir), str(PurePosixPath(container)), read_only, path + (kind, i)))
    return tuple(out)
