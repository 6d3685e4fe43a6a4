"""The intermediate representation: what a job does, in plain frozen dataclasses.

It knows nothing of JSON, YAML, DeepSquare or bfabric. Frontends build it; the
passes in `jobc.passes` return new IR (with `dataclasses.replace`), never mutate
it; the backend renders it. Every node carries the field path it came from, so a
pass can report a problem at the right place in the user's file.

Fields a pass fills in start as `None` (or empty) and are documented as "set by"
that pass; the backend may rely on them only after the whole pipeline has run.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Callable, Iterator, Literal, Union

from .diagnostics import Diagnostic, FieldPath


@dataclass(frozen=True)
class Secret:
    """A value that must never reach a command line; `field` names it for `--redact`."""

    value: str
    field: str


@dataclass(frozen=True)
class Resources:
    tasks: int
    cpus_per_task: int
    mem_per_cpu: int  # MB
    gpus_per_task: int

    @property
    def cpus(self) -> int:
        return self.tasks * self.cpus_per_task

    @property
    def mem(self) -> int:
        return self.cpus * self.mem_per_cpu

    @property
    def gpus(self) -> int:
        return self.tasks * self.gpus_per_task


@dataclass(frozen=True)
class PartialResources:
    """Step resources as written: `None` means "inherit" (resolved by `resolve_defaults`)."""

    tasks: int | None = None
    cpus_per_task: int | None = None
    mem_per_cpu: int | None = None
    gpus_per_task: int | None = None


@dataclass(frozen=True)
class EnvVar:
    key: str
    value: "str | Word"
    path: FieldPath = ()


@dataclass(frozen=True)
class CommandEnv:
    """The environment of one command only (not of the step's wrappers), applied just before it runs.

    `path_prepend` entries go in front of the job's PATH, first entry first, each followed by `:` (so an
    empty PATH leaves a trailing `:`); then `env` is set, so an `env` PATH replaces the whole PATH.
    """

    path_prepend: tuple["str | Word", ...] = ()
    env: tuple[EnvVar, ...] = ()


@dataclass(frozen=True)
class PythonEnv:
    """A Python environment made with uv from a lock file before the command runs in it (bfabric python_env).

    Cached per host, Python version, lock file and extra dependencies, or made for this run only and
    removed afterwards (`refresh`). The command's argv[0] is the environment's `bin/ARGV0` when that
    exists, else the environment's python runs the argv.
    """

    pylock: "str | Word"
    python_version: str
    extra_deps: tuple["str | Word", ...] = ()
    refresh: bool = False
    path: FieldPath = ()


@dataclass(frozen=True)
class HttpTransport:
    url: str
    path: FieldPath = ()
    file_name: str = ""  # set by plan_transport: the downloaded file's name, or the uploaded archive's


@dataclass(frozen=True)
class S3Transport:
    region: str
    bucket_url: str
    key_path: str
    access_key_id: str
    secret_access_key: Secret
    endpoint_url: str
    delete_sync: bool = False
    path: FieldPath = ()
    url: str = ""  # set by plan_transport: s3://bucket/prefix/ of the synced directory


Transport = Union[HttpTransport, S3Transport]


@dataclass(frozen=True)
class Mount:
    """A bind mount: `host` (a path, maybe with run-time parts) at `target` in the container."""

    host: "str | Word"
    target: "str | Word"
    read_only: bool
    path: FieldPath = ()


class ImageLocation(Enum):
    """Where the image file a step runs lives (set by `plan_containers`)."""

    CACHE = "cache"  # the site's image cache, filled from a registry once per job
    HOSTED = "hosted"  # the site's DeepSquare-hosted images
    STORAGE = "storage"  # the job's storage
    INPUT = "input"  # the job's input directory
    OUTPUT = "output"  # the job's output directory
    ENGINE = "engine"  # the engine's own image store (docker, podman): no file


Runtime = Literal["enroot", "apptainer", "docker", "podman"]


@dataclass(frozen=True)
class Container:
    """A step's command run in a container, for every runtime.

    The command's argv (or `shell -c command`) follows the image. With `entrypoint`,
    that program runs with the argv; without it, enroot and `apptainer exec` run the
    argv itself, while docker, podman and `apptainer run` (`keep_entrypoint`) hand
    it to the image's own entrypoint.
    """

    image: str
    runtime: Runtime = "enroot"
    registry: str | None = None
    username: str | None = None
    password: Secret | None = None
    hosted: bool = False
    x11: bool = False
    mounts: tuple[Mount, ...] = ()
    mount_storage: bool = True  # the job's storage at the same path, so $STORAGE_PATH stays valid inside
    start_in_work_dir: bool = True  # else the image's working directory
    env: tuple["EnvVar", ...] = ()  # set inside the container only
    entrypoint: str | None = None
    keep_entrypoint: bool = False
    extra_args: tuple[str, ...] = ()  # the engine's own options (docker, podman), passed as written
    hostname: str | None = None
    mac_address: str | None = None
    user: "str | Word | None" = None  # docker and podman `--user`
    path: FieldPath = ()
    # set by plan_containers:
    image_source: str | None = None  # "docker://…" reference to import, or None for a local file
    image_file: str | None = None  # the image file, relative to `image_location`
    image_location: ImageLocation | None = None


@dataclass(frozen=True)
class WireguardPeer:
    public_key: str
    allowed_ips: tuple[str, ...] = ()
    endpoint: str | None = None
    preshared_key: Secret | None = None
    persistent_keepalive: int | None = None


@dataclass(frozen=True)
class Wireguard:
    addresses: tuple[str, ...]
    private_key: Secret
    peers: tuple[WireguardPeer, ...] = ()
    path: FieldPath = ()
    interface: str = ""  # set by plan_networks: net0, net1, …


@dataclass(frozen=True)
class Bore:
    address: str
    port: int
    target_port: int
    path: FieldPath = ()
    interface: str = ""  # set by plan_networks


NetworkInterface = Union[Wireguard, Bore]


@dataclass(frozen=True)
class Network:
    mode: Literal["host", "slirp4netns"] = "host"
    dns: tuple[str, ...] = ()
    interfaces: tuple[NetworkInterface, ...] = ()


class Place(Enum):
    """A directory only known when the job runs."""

    STORAGE = "storage"  # the job's storage
    SUBMIT = "submit"  # where sbatch was run
    HOME = "home"  # the user's home directory
    WORK = "work"  # the work directory of a `ChunkDirs` loop
    CHUNK = "chunk"  # the chunk directory of the current iteration of a `ChunkDirs` loop


@dataclass(frozen=True)
class Var:
    """A run-time part of a word, expanded when the step starts (e.g. the work directory)."""

    place: Place


@dataclass(frozen=True)
class UserId:
    """The numeric id of the user running the step: "uid" or "gid"."""

    which: Literal["uid", "gid"]


@dataclass(frozen=True)
class Word:
    """One argv word joined from literal text and run-time parts; the backend renders it."""

    parts: tuple["str | Var | UserId", ...]


def word(*parts: "str | Var | UserId | Word") -> "str | Word":
    """One word from literal text, run-time parts and other words: a plain str when it is all literal."""
    flat: list = []
    for part in parts:
        if isinstance(part, Word):
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
    return Word(tuple(merged))


FieldPaths = tuple[tuple[str, FieldPath], ...]


class Located:
    """A node that knows where it was written: `path`, and where each of its fields was (`field_paths`).

    Passes report at `node.at("field")`, so a problem points at the user's own field whatever
    the spec format; a field the frontend did not record falls back to the node's path.
    """

    path: FieldPath
    field_paths: FieldPaths

    def at(self, name: str) -> FieldPath:
        for key, where in self.field_paths:
            if key == name:
                return where
        return self.path


@dataclass(frozen=True, kw_only=True)
class Step(Located):
    """What every step kind has: a display name, the handles it awaits, its origin."""

    name: str | None = None
    depends_on: tuple[str, ...] = ()
    path: FieldPath = ()
    field_paths: FieldPaths = ()
    awaits: tuple[int, ...] = ()  # set by check_handles: the launch slots named by depends_on


@dataclass(frozen=True, kw_only=True)
class RunStep(Step):
    """One command, launched as one `srun` step."""

    command: str
    shell: str = "/bin/sh"
    resources: Resources | PartialResources = field(default_factory=PartialResources)
    env: tuple[EnvVar, ...] = ()
    container: Container | None = None
    network: Network = field(default_factory=Network)
    map_root: bool = False
    work_dir: "str | Word | None" = None
    disable_cpu_binding: bool = False
    mpi: str | None = None
    argv: tuple["str | Word", ...] | None = None  # run as an argv instead of `shell -c command`
    inherited: tuple[str, ...] = ()  # set by resolve_defaults: the Resources fields taken from the job
    command_env: CommandEnv | None = None  # the argv's own PATH entries and variables
    python_env: PythonEnv | None = None  # the argv runs in this environment (needs `argv`)


@dataclass(frozen=True)
class ItemsLoop:
    items: tuple[str, ...]


@dataclass(frozen=True)
class RangeLoop:
    begin: int
    end: int
    increment: int = 1

    def values(self) -> range:
        stop = self.end + (1 if self.increment > 0 else -1)
        return range(self.begin, stop, self.increment)


@dataclass(frozen=True)
class ChunkDirs:
    """Directories found at run time (bfabric apps): the first `setup` steps run once, in `directory`
    (a shell word, created if missing); then the other steps run once per chunk directory: each one
    that `directory`/chunks.yml lists, else each `directory`/*/inputs.yml one level down, sorted."""

    directory: str
    setup: int = 1


@dataclass(frozen=True, kw_only=True)
class LoopStep(Step):
    """A `for` loop; each iteration runs `steps` in order, iterations maybe concurrently."""

    over: ItemsLoop | RangeLoop | ChunkDirs
    parallel: bool = False
    steps: tuple["AnyStep", ...] = ()
    variable: str = ""  # set by lower_loops: "item" or "index"


@dataclass(frozen=True, kw_only=True)
class LaunchStep(Step):
    """Steps run in the background; awaited by handle, signalled when the enclosing scope ends."""

    handle: str | None = None
    signal: int = 15  # 0 = never signalled
    steps: tuple["AnyStep", ...] = ()
    slot: int = 0  # set by check_handles: unique number, names the shell variable holding its PID


@dataclass(frozen=True, kw_only=True)
class NoteStep(Step):
    """A step with nothing to run: it only prints its name."""


AnyStep = Union[RunStep, LoopStep, LaunchStep, NoteStep]


@dataclass(frozen=True)
class Sbatch:
    """One `#SBATCH --key=value` directive from the site profile, CLI or a frontend."""

    key: str
    value: str


@dataclass(frozen=True)
class Job(Located):
    name: str
    resources: Resources
    steps: tuple[AnyStep, ...]
    env: tuple[EnvVar, ...] = ()
    input: Transport | None = None
    input_mode: int | None = None
    output: Transport | None = None
    continuous_output_sync: bool = False
    enable_logging: bool = False
    sbatch: tuple[Sbatch, ...] = ()
    source_name: str = ""
    work_dir: "str | Word | None" = None
    warnings: tuple[Diagnostic, ...] = ()
    path: FieldPath = ()
    field_paths: FieldPaths = ()


# --- the one generic walker over the step tree: each pass writes only the cases it changes ---------


def children(step: AnyStep) -> tuple[AnyStep, ...]:
    return step.steps if isinstance(step, (LoopStep, LaunchStep)) else ()


def map_steps(steps: tuple[AnyStep, ...], fn: Callable[[AnyStep], AnyStep]) -> tuple[AnyStep, ...]:
    """Rebuild the tree bottom-up, applying `fn` to every step after its children."""
    out = []
    for step in steps:
        if isinstance(step, (LoopStep, LaunchStep)):
            inner = map_steps(step.steps, fn)
            if any(map(operator.is_not, inner, step.steps)):
                step = replace(step, steps=inner)  # a step whose children are unchanged is not copied
        out.append(fn(step))
    return tuple(out)


def walk(steps: tuple[AnyStep, ...]) -> Iterator[AnyStep]:
    """Every step, parents before children, in source order."""
    for step in steps:
        yield step
        yield from walk(children(step))


def run_steps(job: Job) -> Iterator[RunStep]:
    return (s for s in walk(job.steps) if isinstance(s, RunStep))
