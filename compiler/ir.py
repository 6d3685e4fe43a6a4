"""The intermediate representation: what a job does, in plain frozen dataclasses.

It knows nothing of JSON, YAML, DeepSquare or bfabric. Frontends build it; the
passes in `jobc.passes` return new IR (with `evolve`, a faster `dataclasses.replace`), never mutate
it; the backend renders it. Every node carries the field path it came from, so a
pass can report a problem at the right place in the user's file.

Fields a pass fills in start as `None` (or empty) and are documented as "set by"
that pass; the backend may rely on them only after the whole pipeline has run.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, Iterator, Literal, Union

from .diagnostics import Diagnostic, FieldPath
from .walk import children, evolve, map_steps, walk

__all__ = ["children", "evolve", "map_steps", "walk"]  # the walker over the step tree lives in `walk`


@dataclass(frozen=True)
class Secret:
    """A value that must never reach a command line; `field` names it for `--redact`."""

    value: str
    field: str


@dataclass(frozen=True)
class Resources:
    """Resources of the job or of one step.

    A job gives its GPUs per task (`gpus_per_task`, the Job Reference's form:
    steps inherit it) or for the whole job (`total_gpus`, DeepSquare's current
    `gpus`: then `gpus_per_task` is 0, and steps get GPUs only when they ask).
    """

    tasks: int
    cpus_per_task: int
    mem_per_cpu: int  # MB
    gpus_per_task: int
    total_gpus: int | None = None

    @property
    def cpus(self) -> int:
        return self.tasks * self.cpus_per_task

    @property
    def mem(self) -> int:
        return self.cpus * self.mem_per_cpu

    @property
    def gpus(self) -> int:
        return self.total_gpus if self.total_gpus is not None else self.tasks * self.gpus_per_task


@dataclass(frozen=True)
class PartialResources:
    """Step resources as written: `None` means "inherit" (resolved by `resolve_defaults`)."""

    tasks: int | None = None
    cpus_per_task: int | None = None
    mem_per_cpu: int | None = None
    gpus_per_task: int | None = None


@dataclass(frozen=True)
class EnvVar:
    """One `KEY=value` of the job's or a step's environment; the value may hold run-time parts (`Word`)."""

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
    """Data downloaded from `url` (the job's input) or uploaded to it (its output)."""

    url: str
    path: FieldPath = ()
    file_name: str = ""  # set by plan_transport: the downloaded file's name, or the uploaded archive's


@dataclass(frozen=True)
class S3Transport:
    """Data synced from an S3 bucket (the job's input) or to it (its output)."""

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
    that program runs with the argv; without it, `apptainer exec` runs the argv
    itself, while docker, podman and `apptainer run` (`keep_entrypoint`) hand it to
    the image's own entrypoint, and so does enroot, whose `/etc/rc` execs the image's
    ENTRYPOINT (if any) with the argv. An empty argv with `keep_entrypoint` runs the
    image's default (ENTRYPOINT and CMD).
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
    mount_home: bool = False  # the user's home directory mounted in the container
    read_only_root: bool = False  # the image's root filesystem read-only (the mounts stay as they are)
    path: FieldPath = ()
    # set by plan_containers:
    image_source: str | None = None  # "docker://…" reference to import, or None for a local file
    image_file: str | None = None  # the image file, relative to `image_location`
    image_location: ImageLocation | None = None


@dataclass(frozen=True)
class WireguardPeer:
    """A peer of a WireGuard interface."""

    public_key: str
    allowed_ips: tuple[str, ...] = ()
    endpoint: str | None = None
    preshared_key: Secret | None = None
    persistent_keepalive: int | None = None


@dataclass(frozen=True)
class Wireguard:
    """A WireGuard interface brought up in a step's network namespace."""

    addresses: tuple[str, ...]
    private_key: Secret
    peers: tuple[WireguardPeer, ...] = ()
    path: FieldPath = ()
    interface: str = ""  # set by plan_networks: net0, net1, …


@dataclass(frozen=True)
class Bore:
    """A TCP tunnel from a proxy server to `target_port` in the namespace.

    `client` is the program: jkuri/bore (the Job Reference's `address` and `port`) or
    DeepSquare's dpsproxy (the current `boreAddress`, or any bore with a `secret`).
    """

    address: str
    port: int
    target_port: int
    secret: Secret | None = None
    client: Literal["bore", "dpsproxy"] = "bore"
    path: FieldPath = ()
    interface: str = ""  # set by plan_networks


@dataclass(frozen=True)
class Vnet:
    """The step's end of a job virtual network: a WireGuard peer of the network's gateway."""

    name: str
    address: str  # CIDR: the peer's IP and the network's subnet
    path: FieldPath = ()
    interface: str = ""  # set by plan_networks: vnet<i>
    network: int = -1  # set by plan_networks: index in `Job.virtual_networks`
    peer: int = -1  # set by plan_networks: index in that network's `peers`


NetworkInterface = Union[Wireguard, Bore, Vnet]


@dataclass(frozen=True)
class VirtualNetwork:
    """A WireGuard hub in the batch shell; the steps' `Vnet` interfaces are its peers."""

    name: str
    gateway_address: str  # CIDR
    path: FieldPath = ()
    peers: tuple[str, ...] = ()  # set by plan_networks: the peers' IPs, each with its own key pair


@dataclass(frozen=True)
class Network:
    """A step's network: the host's, or a namespace of its own (slirp4netns, pasta) with its DNS and interfaces."""

    mode: Literal["host", "slirp4netns", "pasta"] = "host"
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
    if len(parts) == 1 and type(parts[0]) is str:
        return parts[0]
    merged: list = []
    literal = True
    for part in parts:
        if isinstance(part, Word):
            pieces: tuple = part.parts
        elif part == "":
            continue
        else:
            pieces = (part,)
        for piece in pieces:
            if not isinstance(piece, str):
                literal = False
            elif merged and isinstance(merged[-1], str):
                merged[-1] += piece
                continue
            merged.append(piece)
    if literal:
        return "".join(merged)
    return Word(tuple(merged))


class Below(tuple):
    """A field path written relative to its node's own `path` (`Below(("run", "command"))`).

    The frontends give every node of a kind the same shared `field_paths` made of these, instead of a few
    absolute paths per node: a large job has hundreds of thousands of them."""

    __slots__ = ()


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
                return self.path + where if type(where) is Below else where
        return self.path


# Python 3.9 has no `kw_only` dataclasses, so a step kind cannot declare a field without a default after
# Step's defaulted ones: such a field is `= required()` instead, checked when the step is built. From 3.10
# on, steps also take keyword arguments only, so a step built positionally fails the suite there.
KW_ONLY: dict[str, bool] = {"kw_only": True} if sys.version_info >= (3, 10) else {}


def required() -> Any:
    """The default of a step field that has to be given: `Step.__post_init__` rejects a step without it."""
    return field(default=None, metadata={"required": True})


_REQUIRED: dict[type, tuple[str, ...]] = {}  # each step kind's `required()` fields, looked up once


@dataclass(frozen=True, **KW_ONLY)
class Step(Located):
    """What every step kind has: a display name, the handles it awaits, its origin, and its control flow.

    `condition` is a bash `[[ … ]]` test (written by the user, run as written) that decides, after the
    `depends_on` waits, whether the step runs; `catch` runs when the step's body fails, `finally_steps`
    after the body (and the catch), whatever happened, also when the job is stopped.
    """

    name: str | None = None
    depends_on: tuple[str, ...] = ()
    condition: str | None = None
    catch: tuple["AnyStep", ...] = ()
    finally_steps: tuple["AnyStep", ...] = ()
    path: FieldPath = ()
    field_paths: FieldPaths = ()
    awaits: tuple[int, ...] = ()  # set by check_handles: the launch slots named by depends_on

    def __post_init__(self) -> None:
        names = _REQUIRED.get(type(self))
        if names is None:
            names = _REQUIRED[type(self)] = tuple(f.name for f in fields(self) if f.metadata.get("required"))
        if not names:
            return
        missing = [name for name in names if getattr(self, name) is None]
        if missing:
            raise TypeError(f"{type(self).__name__}() missing required keyword argument(s): {', '.join(missing)}")


@dataclass(frozen=True, **KW_ONLY)
class RunStep(Step):
    """One command, launched as one `srun` step."""

    command: str = required()
    shell: str = "/bin/sh"
    resources: Resources | PartialResources = field(default_factory=PartialResources)
    env: tuple[EnvVar, ...] = ()
    container: Container | None = None
    network: Network = field(default_factory=Network)
    map_root: bool = False
    map_uid: int | None = None  # mapUid: run as this uid in a user namespace (0 counts as set)
    map_gid: int | None = None
    work_dir: "str | Word | None" = None
    disable_cpu_binding: bool = False
    mpi: str | None = None
    argv: tuple["str | Word", ...] | None = None  # run as an argv instead of `shell -c command`
    inherited: tuple[str, ...] = ()  # set by resolve_defaults: the Resources fields taken from the job
    command_env: CommandEnv | None = None  # the argv's own PATH entries and variables
    python_env: PythonEnv | None = None  # the argv runs in this environment (needs `argv`)


@dataclass(frozen=True)
class ItemsLoop:
    """A `for` over a list of values."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class RangeLoop:
    """A `for` over the integers from `begin` to `end` inclusive, by `increment`."""

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

    directory: "str | Word"
    setup: int = 1


@dataclass(frozen=True, **KW_ONLY)
class LoopStep(Step):
    """A `for` loop; each iteration runs `steps` in order, iterations maybe concurrently."""

    over: ItemsLoop | RangeLoop | ChunkDirs = required()
    parallel: bool = False
    steps: tuple["AnyStep", ...] = ()
    variable: str = ""  # set by lower_loops: "item" or "index"


@dataclass(frozen=True, **KW_ONLY)
class LaunchStep(Step):
    """Steps run in the background; awaited by handle, signalled when the enclosing scope ends."""

    handle: str | None = None
    signal: int = 15  # 0 = never signalled
    steps: tuple["AnyStep", ...] = ()
    slot: int = 0  # set by check_handles: unique number, names the shell variable holding its PID


@dataclass(frozen=True, **KW_ONLY)
class GroupStep(Step):
    """A step list run in order as one scope: its launches end with it, its `dependsOn` names its own launches."""

    steps: tuple["AnyStep", ...] = ()


@dataclass(frozen=True, **KW_ONLY)
class NoteStep(Step):
    """A step with nothing to run: it only prints its name."""


@dataclass(frozen=True, **KW_ONLY)
class ModuleStep(Step):
    """A module's steps inlined (DeepSquare `use`), run as one scope like a loop's body.

    `env` (the module's inputs: defaults, then the `use` args) is exported for its steps. They append to a
    private `$DEEPSQUARE_ENV`, which starts as a copy of the job's without the lines setting an input; at the
    end, each declared output they wrote is appended to the job's file as `export_prefix + key`.
    `module`, `source`, `commit` and `file` say what was inlined, for the script's comment.
    """

    module: str = required()
    source: str = required()
    file: str = required()  # the module file, relative to the spec's directory (or its place in the git repository)
    commit: str | None = None  # the git commit inlined; None for a local directory
    digest: str = ""  # SHA-256 of the module file's text
    env: tuple[EnvVar, ...] = ()
    outputs: tuple[str, ...] = ()
    export_prefix: str = ""
    steps: tuple["AnyStep", ...] = ()


AnyStep = Union[RunStep, LoopStep, LaunchStep, GroupStep, NoteStep, ModuleStep]


@dataclass(frozen=True)
class Sbatch:
    """One `#SBATCH --key=value` directive from the site profile, CLI or a frontend."""

    key: str
    value: str


@dataclass(frozen=True)
class Job(Located):
    """The whole job: its resources, environment, data in and out, and steps, for one batch script."""

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
    virtual_networks: tuple[VirtualNetwork, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    path: FieldPath = ()
    field_paths: FieldPaths = ()


def run_steps(job: Job) -> Iterator[RunStep]:
    return (s for s in walk(job.steps) if isinstance(s, RunStep))
